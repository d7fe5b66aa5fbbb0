package keylogin

import (
	"errors"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	key := NewKey()
	now := time.Unix(1_800_000_000, 0)
	v := NewVerifier(key)

	good := Sign(key, "Dave", now)
	if name, err := v.Verify(good, now.Add(2*time.Second)); err != nil || name != "Dave" {
		t.Fatalf("a fresh assertion: %q %v", name, err)
	}
	if _, err := v.Verify(good, now.Add(3*time.Second)); !errors.Is(err, ErrReplayed) {
		t.Errorf("the same assertion again: %v", err)
	}
	if _, err := v.Verify(Sign(key, "Dave", now), now.Add(MaxAge+time.Second)); !errors.Is(err, ErrExpired) {
		t.Errorf("an old assertion: %v", err)
	}
	if _, err := v.Verify(Sign(key, "Dave", now.Add(time.Hour)), now); !errors.Is(err, ErrExpired) {
		t.Errorf("an assertion from the future: %v", err)
	}
	if _, err := v.Verify(Sign(NewKey(), "Dave", now), now); !errors.Is(err, ErrBadMAC) {
		t.Errorf("signed with another key (a host restarted with a new one): %v", err)
	}
	other := Sign(key, "Dave", now)
	other.Name = "Sysop" // the MAC covers the name
	if _, err := v.Verify(other, now); !errors.Is(err, ErrBadMAC) {
		t.Errorf("a name changed: %v", err)
	}
	if _, err := v.Verify(Assertion{Name: "Sysop", At: now.Unix(), Nonce: "x", MAC: "y"}, now); !errors.Is(err, ErrMalformed) {
		t.Errorf("a forged one: %v", err)
	}
	if _, err := NewVerifier(nil).Verify(Sign(key, "Dave", now), now); !errors.Is(err, ErrNoKey) {
		t.Errorf("a host with no key: %v", err)
	}
}

// TestVerifierForgets: the nonces a Verifier keeps stay bounded, key
// logins coming at half the rate that would keep maxNonces fresh ones.
func TestVerifierForgets(t *testing.T) {
	key := NewKey()
	v := NewVerifier(key)
	now := time.Unix(1_800_000_000, 0)
	step := 4 * MaxAge / maxNonces
	for i := range 3 * maxNonces {
		at := now.Add(time.Duration(i) * step)
		if _, err := v.Verify(Sign(key, "Dave", at), at); err != nil {
			t.Fatal(err)
		}
	}
	if len(v.seen) > maxNonces || len(v.order) != len(v.seen) {
		t.Errorf("%d nonces kept (%d in order), at most %d", len(v.seen), len(v.order), maxNonces)
	}
}

func BenchmarkVerify(b *testing.B) {
	key := NewKey()
	v := NewVerifier(key)
	now := time.Now()
	for b.Loop() {
		if _, err := v.Verify(Sign(key, "Dave", now), now); err != nil {
			b.Fatal(err)
		}
		now = now.Add(4 * MaxAge / maxNonces) // never more fresh nonces than kept
	}
}

// An assertion is good once for as long as it is good at all: however
// many other key logins come within its lifetime, its nonce is not
// forgotten; past maxNonces fresh ones a new assertion is refused as
// busy, and taken again once the old ones have expired.
func TestNonceKeptWhileItsAssertionIsFresh(t *testing.T) {
	key := NewKey()
	now := time.Unix(1_800_000_000, 0)
	v := NewVerifier(key)
	victim := Sign(key, "Dave", now)
	if _, err := v.Verify(victim, now); err != nil {
		t.Fatal(err)
	}
	for i := range maxNonces - 1 {
		at := now.Add(time.Duration(i) * time.Millisecond)
		if _, err := v.Verify(Sign(key, "Mallory", at), at); err != nil {
			t.Fatalf("key login %d: %v", i+2, err)
		}
	}
	later := now.Add(25 * time.Second) // the victim's assertion is still fresh
	if name, err := v.Verify(victim, later); !errors.Is(err, ErrReplayed) {
		t.Errorf("the same assertion again, 25 s after it was made and %d key logins later: %q, %v; want %v", maxNonces, name, err, ErrReplayed)
	}
	if _, err := v.Verify(Sign(key, "Erin", later), later); !errors.Is(err, ErrBusy) {
		t.Errorf("a new assertion with %d fresh nonces kept: %v, want %v", maxNonces, err, ErrBusy)
	}
	much := now.Add(3 * MaxAge) // every nonce kept so far has expired
	if name, err := v.Verify(Sign(key, "Erin", much), much); err != nil || name != "Erin" {
		t.Errorf("a new assertion once the others expired: %q, %v", name, err)
	}
}
