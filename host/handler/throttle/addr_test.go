package throttle

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// TestIPv6CallersCountByPrefix: a caller who rotates through the
// addresses of their IPv6 /64 is counted as one address, for
// registrations and for logins; another /64, and an IPv4-mapped address,
// are counted as their own.
func TestIPv6CallersCountByPrefix(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := New(db, Policy{RegistrationsPerAddr: 1, FreePerAddr: 2, FreePerName: 2}, func() time.Time { return now })
	ctx := t.Context()

	if _, err := l.BeginRegistration(ctx, "2001:db8:1:2::1"); err != nil {
		t.Fatalf("first registration: %v", err)
	}
	if _, err := l.BeginRegistration(ctx, "2001:db8:1:2::2"); !errors.Is(err, store.ErrThrottled) {
		t.Errorf("second registration from the same /64: %v, want throttled", err)
	}
	if _, err := l.BeginRegistration(ctx, "2001:db8:1:3::1"); err != nil {
		t.Errorf("registration from another /64: %v", err)
	}
	if _, err := l.BeginRegistration(ctx, "::ffff:192.0.2.1"); err != nil {
		t.Errorf("registration from an IPv4 caller: %v", err)
	}
	if _, err := l.BeginRegistration(ctx, "192.0.2.1"); !errors.Is(err, store.ErrThrottled) {
		t.Errorf("the same IPv4 caller unmapped: %v, want throttled", err)
	}

	var throttled bool
	for i, name := range []string{"ann", "bob", "cy", "dee"} {
		err := l.BeginLogin(ctx, name, "2001:db8:9:9::"+string(rune('a'+i)))
		throttled = throttled || errors.Is(err, store.ErrThrottled)
	}
	if !throttled {
		t.Error("four logins from four addresses of one /64 with two free: none throttled")
	}
}
