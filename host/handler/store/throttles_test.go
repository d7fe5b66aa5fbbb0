package store

import (
	"errors"
	"testing"
	"time"
)

// testLimits: two free attempts, then pauses of n seconds.
var testLimits = LoginLimits{
	Pause: func(n int, perName bool) time.Duration {
		free := 2
		if !perName {
			free = 5
		}
		if n < free {
			return 0
		}
		return time.Duration(n) * time.Second
	},
	Forget: time.Hour,
}

// wantWait checks that err is a refusal with that wait.
func wantWait(t *testing.T, err error, wait time.Duration) {
	t.Helper()
	var te *ThrottledError
	if !errors.As(err, &te) || !errors.Is(err, ErrThrottled) || te.Wait != wait {
		t.Fatalf("got %v, want a refusal to wait %v", err, wait)
	}
}

// TestLoginThrottleShared: counts live in the file, so a second handle (a
// second phone line's host) and a reopened store (a restart) see them.
func TestLoginThrottleShared(t *testing.T) {
	a, path := newStore(t)
	b, err := Open(path, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := t.Context()
	now := time.Unix(1_700_000_000, 0)
	if err := a.BeginLogin(ctx, "ann", "192.0.2.1", now, testLimits); err != nil {
		t.Fatal(err)
	}
	if err := b.BeginLogin(ctx, "ann", "192.0.2.1", now, testLimits); err != nil {
		t.Fatal(err)
	}
	// The second attempt asked for a 2 s pause, on either handle.
	wantWait(t, a.BeginLogin(ctx, "ann", "192.0.2.1", now.Add(500*time.Millisecond), testLimits), 1500*time.Millisecond)
	wantWait(t, b.BeginLogin(ctx, "ann", "192.0.2.1", now.Add(time.Second), testLimits), time.Second)
	// Another address, or another name, is not held back.
	if err := b.BeginLogin(ctx, "ann", "198.51.100.1", now, testLimits); err != nil {
		t.Fatal(err)
	}
	if err := b.BeginLogin(ctx, "bob", "192.0.2.1", now, testLimits); err != nil {
		t.Fatal(err)
	}

	// A restart keeps the counts.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	c, err := Open(path, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.BeginLogin(ctx, "ann", "192.0.2.1", now.Add(2*time.Second), testLimits); err != nil {
		t.Fatal(err)
	}
	wantWait(t, c.BeginLogin(ctx, "ann", "192.0.2.1", now.Add(2*time.Second), testLimits), 3*time.Second)

	// A success forgets the name's count from that address.
	if err := c.LoginSucceeded(ctx, "ann", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	// The address's own count (4 counted, 1 given back) has no pause yet.
	if err := b.BeginLogin(ctx, "ann", "192.0.2.1", now.Add(2*time.Second), testLimits); err != nil {
		t.Fatal(err)
	}
	// A fifth attempt from the address, at any name, asks for 5 s.
	if err := b.BeginLogin(ctx, "cy", "192.0.2.1", now.Add(2*time.Second), testLimits); err != nil {
		t.Fatal(err)
	}
	wantWait(t, b.BeginLogin(ctx, "dee", "192.0.2.1", now.Add(3*time.Second), testLimits), 4*time.Second)

	// After Forget without attempts, everything is forgotten.
	later := now.Add(2 * time.Hour)
	for range 2 {
		if err := b.BeginLogin(ctx, "ann", "192.0.2.1", later, testLimits); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRegistrationThrottle(t *testing.T) {
	a, path := newStore(t)
	b, err := Open(path, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := t.Context()
	now := time.Unix(1_700_000_000, 0)
	if _, err := a.BeginRegistration(ctx, "192.0.2.1", now, 2, time.Hour); err != nil {
		t.Fatal(err)
	}
	id, err := b.BeginRegistration(ctx, "192.0.2.1", now.Add(time.Minute), 2, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.BeginRegistration(ctx, "192.0.2.1", now.Add(time.Minute), 2, time.Hour)
	wantWait(t, err, 59*time.Minute)
	if _, err := a.BeginRegistration(ctx, "198.51.100.1", now, 2, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := a.CancelRegistration(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := b.BeginRegistration(ctx, "192.0.2.1", now.Add(time.Minute), 2, time.Hour); err != nil {
		t.Fatalf("after a cancel: %v", err)
	}
	if _, err := b.BeginRegistration(ctx, "192.0.2.1", now.Add(time.Hour+time.Second), 2, time.Hour); err != nil {
		t.Fatalf("an hour later: %v", err)
	}
}

// TestFreeAttemptsAtOnceHoldNobodyUp: two callers log in from one address
// at once; each read the clock before the other's transaction, and the
// one whose clock read earlier writes second. Both attempts are free, so
// neither may be refused (one was, for a millisecond shown as "try again
// in 1 second", when a free attempt stored its time as the address's
// not-before).
func TestFreeAttemptsAtOnceHoldNobodyUp(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	now := time.Unix(1_700_000_000, 0)
	if err := s.BeginLogin(ctx, "ann", "192.0.2.1", now.Add(3*time.Millisecond), testLimits); err != nil {
		t.Fatal(err)
	}
	if err := s.BeginLogin(ctx, "bob", "192.0.2.1", now, testLimits); err != nil {
		t.Errorf("bob's free attempt, its clock read 3 ms before ann's was stored: %v", err)
	}
	if err := s.BeginLogin(ctx, "ann", "192.0.2.1", now.Add(time.Millisecond), testLimits); err != nil {
		t.Errorf("ann's second attempt, free at her name: %v", err)
	}
}
