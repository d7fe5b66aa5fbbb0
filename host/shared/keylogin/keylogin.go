// Package keylogin is the assertion by which m2bbs's SSH gateway tells
// the host that a caller proved a public key registered to an account,
// so that the board skips its name and password prompts for them.
//
// A password login needs no such thing: the gateway types the password
// into the board's own prompts and the host checks it. A key login has
// nothing to type, so the gateway vouches for the caller instead, and the
// host must be sure the voucher is the gateway. Both run in one process
// (`m2bbs run`), which draws a random [Key] at start and keeps it in
// memory only. The gateway's "connect" message carries an [Assertion]:
// the account's name, the time, a random nonce, and an HMAC-SHA256 over
// them under the key. The host ([Verifier]) accepts an assertion only
// with the right MAC, made within MaxAge, whose nonce it has not seen
// before; anything else is refused (and the caller meets the board's
// own login prompt).
//
// The MAC binds the assertion to one call by its nonce, not by the
// conn_id: the gateway cannot know the id the front end will give its
// connection. A nonce is accepted once, so an assertion is good for one
// call only, even to someone who saw it go by.
//
// A host without the key (`m2bbs serve` behind Mongrel2, a restart with
// a new key) refuses every assertion. A session rebuilt from its journal
// after a restart needs none: the journal holds what the script was told
// (db.preauthenticated), not the assertion.
package keylogin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// MaxAge is how long after it is made an assertion is accepted (and how
// far in the future its time may be, for clocks read a moment apart).
const MaxAge = 30 * time.Second

// maxNonces bounds the nonces a Verifier remembers. A nonce is kept while
// its assertion could still be accepted; with maxNonces of them that
// fresh, a new assertion is refused (ErrBusy) rather than an old one
// forgotten, which would let it be accepted again.
const maxNonces = 16384

// Key is the secret the gateway signs with and the host verifies with.
type Key []byte

// NewKey draws a fresh random key.
func NewKey() Key {
	k := make(Key, 32)
	_, _ = rand.Read(k) // never fails (crypto/rand)
	return k
}

// Assertion says that a caller proved a key of account Name at At.
type Assertion struct {
	Name  string
	At    int64 // Unix seconds
	Nonce string
	MAC   string // hex HMAC-SHA256
}

// Errors Verify returns, for errors.Is.
var (
	ErrNoKey     = errors.New("keylogin: this host takes no key logins")
	ErrMalformed = errors.New("keylogin: malformed assertion")
	ErrBadMAC    = errors.New("keylogin: wrong MAC")
	ErrExpired   = errors.New("keylogin: assertion too old or from the future")
	ErrReplayed  = errors.New("keylogin: assertion used before")
	ErrBusy      = errors.New("keylogin: too many key logins within the assertions' lifetime")
)

// Sign makes an assertion that a caller proved a key of name, now.
func Sign(key Key, name string, now time.Time) Assertion {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	a := Assertion{Name: name, At: now.Unix(), Nonce: hex.EncodeToString(nonce)}
	a.MAC = hex.EncodeToString(mac(key, a))
	return a
}

// mac is the HMAC of a's name, time and nonce under key.
func mac(key Key, a Assertion) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("m2bbs key login v1\x00"))
	h.Write([]byte(a.Name))
	h.Write([]byte{0})
	h.Write(strconv.AppendInt(nil, a.At, 10))
	h.Write([]byte{0})
	h.Write([]byte(a.Nonce))
	return h.Sum(nil)
}

// Verifier checks assertions for a host. It is safe for concurrent use.
type Verifier struct {
	key Key
	mu  sync.Mutex
	// seen are the nonces accepted, with their time, oldest first.
	seen  map[string]int64
	order []string
}

// NewVerifier returns a Verifier for key; with an empty key it refuses
// every assertion (ErrNoKey).
func NewVerifier(key Key) *Verifier {
	return &Verifier{key: key, seen: make(map[string]int64)}
}

// Verify checks a at time now and returns the account's name, or why it
// is refused. An accepted assertion's nonce is never accepted again.
func (v *Verifier) Verify(a Assertion, now time.Time) (string, error) {
	if v == nil || len(v.key) == 0 {
		return "", ErrNoKey
	}
	if a.Name == "" || len(a.Name) > 256 || len(a.Nonce) != 32 || len(a.MAC) != 64 {
		return "", ErrMalformed
	}
	got, err := hex.DecodeString(a.MAC)
	if err != nil {
		return "", ErrMalformed
	}
	if !hmac.Equal(got, mac(v.key, a)) {
		return "", ErrBadMAC
	}
	age := now.Sub(time.Unix(a.At, 0))
	if age > MaxAge || age < -MaxAge {
		return "", fmt.Errorf("%w: made %s ago", ErrExpired, age.Round(time.Second))
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, dup := v.seen[a.Nonce]; dup {
		return "", ErrReplayed
	}
	v.forget(now)
	if len(v.order) >= maxNonces {
		return "", ErrBusy
	}
	v.seen[a.Nonce] = a.At
	v.order = append(v.order, a.Nonce)
	return a.Name, nil
}

// forget drops, oldest first, the nonces too old to be accepted anyway.
func (v *Verifier) forget(now time.Time) {
	drop := 0
	for drop < len(v.order) {
		at := v.seen[v.order[drop]]
		if now.Sub(time.Unix(at, 0)) <= 2*MaxAge {
			break
		}
		delete(v.seen, v.order[drop])
		drop++
	}
	v.order = v.order[drop:]
}
