package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// SharedState is the live state the Lua shared module gives scripts:
// named tables of small values that every caller of the board sees, on
// every worker and every phone line, and the events published on
// channels, which the hosts of other lines read back. Values are
// strings, finite numbers and booleans; see the Max* limits below.
type SharedState interface {
	// SharedGet returns table[key], and whether it is set.
	SharedGet(ctx context.Context, table, key string) (SharedValue, bool, error)
	// SharedUpdate reads table[key] and, in the same transaction, writes
	// what fn decides: fn gets the current value (ok false when unset)
	// and returns the next one, with write false to leave it as it is and
	// a nil next to delete it. It returns the value as it stands after the
	// call. An error from fn is returned as it is, nothing written.
	// ErrSharedFull means a new key would pass MaxSharedKeysPerTable or
	// MaxSharedKeys; ErrSharedValue a value past the limits.
	SharedUpdate(ctx context.Context, table, key string, fn SharedUpdateFunc) (SharedValue, bool, error)
	// SharedKeys lists the keys of table, sorted (at most
	// MaxSharedKeysPerTable).
	SharedKeys(ctx context.Context, table string) ([]string, error)
	// SharedAll returns the keys of table with their values, sorted by
	// key (at most MaxSharedKeysPerTable): one read for a whole table.
	SharedAll(ctx context.Context, table string) ([]SharedEntry, error)
	// AppendSharedEvent stores an event and returns its id, which grows
	// with each event.
	AppendSharedEvent(ctx context.Context, e SharedEvent) (int64, error)
	// SharedEventsAfter returns up to limit events with an id above
	// after, oldest first.
	SharedEventsAfter(ctx context.Context, after int64, limit int) ([]SharedEvent, error)
	// LastSharedEvent returns the id of the newest event (0 if none).
	LastSharedEvent(ctx context.Context) (int64, error)
	// PruneSharedEvents deletes the events published before before and
	// returns how many.
	PruneSharedEvents(ctx context.Context, before time.Time) (int64, error)
}

// SharedEntry is one key of a shared table and its value.
type SharedEntry struct {
	Key   string
	Value SharedValue
}

// SharedUpdateFunc decides a SharedUpdate (see there).
type SharedUpdateFunc func(cur SharedValue, ok bool) (next *SharedValue, write bool, err error)

// SharedKind is the type of a SharedValue.
type SharedKind byte

// The kinds of shared values.
const (
	SharedString SharedKind = 's'
	SharedNumber SharedKind = 'n'
	SharedBool   SharedKind = 'b'
)

// SharedValue is one value of a shared table: Str, Num or Bool, as Kind
// says.
type SharedValue struct {
	Kind SharedKind
	Str  string
	Num  float64
	Bool bool
}

// Equal reports whether v and o are the same value.
func (v SharedValue) Equal(o SharedValue) bool {
	if v.Kind != o.Kind {
		return false
	}
	switch v.Kind {
	case SharedString:
		return v.Str == o.Str
	case SharedNumber:
		return v.Num == o.Num
	}
	return v.Bool == o.Bool
}

// SharedEvent is one event published on a channel.
type SharedEvent struct {
	ID int64
	// Origin names the host process that published it.
	Origin  string
	Channel string
	// From is the publisher's name (or "conn ID" before they logged in).
	From string
	Text string
	At   time.Time
}

// Limits of the shared state.
const (
	// MaxSharedNameBytes bounds a table's name, a key and a channel's
	// name; none may be empty.
	MaxSharedNameBytes = 64
	// MaxSharedValueBytes bounds a string value and an event's text.
	MaxSharedValueBytes = 1024
	// MaxSharedKeysPerTable bounds the keys of one table; MaxSharedKeys
	// those of every table together (so the whole state stays under
	// about MaxSharedKeys × (MaxSharedValueBytes + 2×MaxSharedNameBytes),
	// some 11 MiB).
	MaxSharedKeysPerTable = 1000
	MaxSharedKeys         = 10000
)

// Sentinel errors of the shared state.
var (
	// ErrSharedName means a table, key or channel name is empty or too long.
	ErrSharedName = errors.New("store: bad shared name")
	// ErrSharedValue means a value is too long or not a finite number.
	ErrSharedValue = errors.New("store: bad shared value")
	// ErrSharedFull means a new key would pass the table's or the
	// board's limit of keys.
	ErrSharedFull = errors.New("store: shared table full")
)

// CheckSharedName returns an error wrapping ErrSharedName unless name may
// name a table, key or channel.
func CheckSharedName(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty %s", ErrSharedName, what)
	case len(name) > MaxSharedNameBytes:
		return fmt.Errorf("%w: %s longer than %d bytes", ErrSharedName, what, MaxSharedNameBytes)
	}
	return nil
}

// CheckSharedValue returns an error wrapping ErrSharedValue unless v may
// be stored.
func CheckSharedValue(v SharedValue) error {
	switch v.Kind {
	case SharedString:
		if len(v.Str) > MaxSharedValueBytes {
			return fmt.Errorf("%w: string longer than %d bytes", ErrSharedValue, MaxSharedValueBytes)
		}
	case SharedNumber:
		if math.IsNaN(v.Num) || math.IsInf(v.Num, 0) {
			return fmt.Errorf("%w: %v is not a finite number", ErrSharedValue, v.Num)
		}
	case SharedBool:
	default:
		return fmt.Errorf("%w: unknown kind %q", ErrSharedValue, v.Kind)
	}
	return nil
}

// wrapShared wraps err of op, keeping the shared state's sentinels as
// they are.
func wrapShared(op string, err error) error {
	for _, sentinel := range []error{ErrSharedName, ErrSharedValue, ErrSharedFull} {
		if errors.Is(err, sentinel) {
			return err
		}
	}
	return wrap(op, err)
}
