package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode/utf8"
)

// DoorStore keeps door games' saved data: for each door, a small key-value
// store per user and one shared by all users (user ""). Values are JSON
// documents. Implementations are safe for concurrent use; *SQLite is one.
//
// User names follow the rules of registered names and are matched
// regardless of ASCII case, but the store does not check that the user is
// registered: the caller (the Lua door module) passes the logged-in name.
type DoorStore interface {
	// DoorGet returns the value saved under key, and whether there is one.
	DoorGet(ctx context.Context, door, user, key string) (value []byte, ok bool, err error)
	// DoorSet saves value (a JSON document of at most MaxDoorValueBytes)
	// under key, replacing what was there. It returns ErrDoorFull when the
	// key is new and the user already has MaxDoorKeys keys in this door.
	DoorSet(ctx context.Context, door, user, key string, value []byte) error
	// DoorDelete removes key; removing a key that is not there is not an
	// error.
	DoorDelete(ctx context.Context, door, user, key string) error
	// DoorAdd adds delta to the number saved under key (0 when there is
	// none) in one transaction and returns the sum, so concurrent callers
	// never lose an update. It returns ErrDoorValue if the saved value is
	// not a number.
	DoorAdd(ctx context.Context, door, user, key string, delta float64) (float64, error)
	// DoorTop is a leaderboard: the n (1..MaxDoorTop) users whose values
	// under key are numbers, best first in the given order. Ties go to
	// the value saved first (saving the same value again keeps its time).
	// Global data is not ranked.
	DoorTop(ctx context.Context, door, key string, n int, order DoorOrder) ([]DoorEntry, error)
}

// DoorOrder says which end of a leaderboard is best.
type DoorOrder int

// Leaderboard orders.
const (
	// HighestFirst ranks the largest numbers first (points, gold).
	HighestFirst DoorOrder = iota
	// LowestFirst ranks the smallest numbers first (guesses, seconds).
	LowestFirst
)

// DoorEntry is one line of a leaderboard.
type DoorEntry struct {
	User    string    // as first saved
	Score   float64   // the value saved under the key
	Updated time.Time // when the value was last changed (UTC, millisecond precision)
}

// Limits on door data.
const (
	// MaxDoorNameLen is the longest door name, in bytes.
	MaxDoorNameLen = 32
	// MaxDoorKeyLen is the longest key, in bytes.
	MaxDoorKeyLen = 64
	// MaxDoorValueBytes is the largest value, in bytes of JSON.
	MaxDoorValueBytes = 64 << 10
	// MaxDoorKeys is the most keys one user (or the global data) may have
	// in one door.
	MaxDoorKeys = 1000
	// MaxDoorTop is the longest leaderboard DoorTop returns.
	MaxDoorTop = 100
)

// Sentinel errors of the door store, returned wrapped; test for them with
// errors.Is. A user name that breaks the naming rules gives ErrBadName.
var (
	// ErrBadDoorName means a door name is not 1 to MaxDoorNameLen of
	// a-z, 0-9, '_' and '-'.
	ErrBadDoorName = errors.New("store: invalid door name")
	// ErrBadDoorKey means a key is empty, longer than MaxDoorKeyLen, not
	// UTF-8 or has control characters.
	ErrBadDoorKey = errors.New("store: invalid door key")
	// ErrDoorValue means a value is not JSON, is larger than
	// MaxDoorValueBytes, or (for DoorAdd) is not a number.
	ErrDoorValue = errors.New("store: invalid door value")
	// ErrDoorFull means a user already has MaxDoorKeys keys in a door.
	ErrDoorFull = errors.New("store: too many door keys")
)

// CheckDoorName returns an error wrapping ErrBadDoorName unless name may
// name a door: 1 to MaxDoorNameLen of a-z, 0-9, '_' and '-'. Door names
// are the file names of scripts/doors/NAME.lua.
func CheckDoorName(name string) error {
	if name == "" || len(name) > MaxDoorNameLen {
		return fmt.Errorf("%w: %q: must be 1 to %d characters", ErrBadDoorName, clip(name), MaxDoorNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return fmt.Errorf("%w: %q: only a-z, 0-9, '_' and '-' are allowed", ErrBadDoorName, clip(name))
		}
	}
	return nil
}

// checkDoorKey returns an error wrapping ErrBadDoorKey unless key is 1 to
// MaxDoorKeyLen bytes of UTF-8 without control characters.
func checkDoorKey(key string) error {
	if key == "" || len(key) > MaxDoorKeyLen {
		return fmt.Errorf("%w: %q: must be 1 to %d bytes", ErrBadDoorKey, clip(key), MaxDoorKeyLen)
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("%w: not UTF-8", ErrBadDoorKey)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %q: control character", ErrBadDoorKey, clip(key))
		}
	}
	return nil
}

// checkDoorUser returns the user's name as stored: "" for global data,
// else a valid user name, an account's or a remote caller's
// ("board:user", RemoteName).
func checkDoorUser(user string) (string, error) {
	if user == "" {
		return "", nil
	}
	return doorUserName(user)
}

// checkDoorAddress validates a door, user and key together.
func checkDoorAddress(door, user, key string) (string, error) {
	if err := CheckDoorName(door); err != nil {
		return "", err
	}
	if err := checkDoorKey(key); err != nil {
		return "", err
	}
	return checkDoorUser(user)
}

// doorScore checks a value and returns it as a number when it is one.
func doorScore(value []byte) (score *float64, err error) {
	if len(value) > MaxDoorValueBytes {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrDoorValue, len(value), MaxDoorValueBytes)
	}
	if !json.Valid(value) {
		return nil, fmt.Errorf("%w: not JSON", ErrDoorValue)
	}
	// Unmarshal into a float64 also accepts null (as a no-op): only a
	// document that starts like a number is one.
	trimmed := bytes.TrimLeft(value, " \t\r\n")
	if c := trimmed[0]; c != '-' && (c < '0' || c > '9') {
		return nil, nil
	}
	var f float64
	if json.Unmarshal(value, &f) == nil {
		return &f, nil
	}
	return nil, nil
}

// wrapDoor is wrap that also passes the door sentinels through untouched.
func wrapDoor(op string, err error) error {
	for _, sentinel := range []error{ErrBadDoorName, ErrBadDoorKey, ErrDoorValue, ErrDoorFull} {
		if errors.Is(err, sentinel) {
			return err
		}
	}
	return wrap(op, err)
}

// numberJSON encodes a finite number as JSON.
func numberJSON(f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("%w: %v is not a JSON number", ErrDoorValue, f)
	}
	return json.Marshal(f)
}
