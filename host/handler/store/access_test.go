package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestSecurityLevels: numbered levels start from the named ones, keep the
// name in step, and an older program setting only the name moves the
// number.
func TestSecurityLevels(t *testing.T) {
	ctx := context.Background()
	s := openAccounts(t)
	for _, name := range []string{"Zed", "ann"} {
		if err := s.RegisterUser(ctx, name, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	if zed, _ := s.Account(ctx, "zed"); zed.Security != SecuritySysop || zed.Waiting {
		t.Errorf("first user = %+v, want security 255", zed)
	}
	if ann, _ := s.Account(ctx, "ann"); ann.Security != SecurityUser || ann.Level != LevelUser {
		t.Errorf("ann = %+v, want security 20", ann)
	}
	for _, tc := range []struct {
		level int
		name  string
	}{{0, LevelNew}, {15, LevelNew}, {100, LevelUser}, {255, LevelSysop}} {
		if err := s.SetSecurity(ctx, "ann", tc.level); err != nil {
			t.Fatal(err)
		}
		if ann, _ := s.Account(ctx, "ann"); ann.Security != tc.level || ann.Level != tc.name {
			t.Errorf("after SetSecurity(%d): %d %q, want %q", tc.level, ann.Security, ann.Level, tc.name)
		}
	}
	for _, bad := range []int{-1, 256} {
		if err := s.SetSecurity(ctx, "ann", bad); !errors.Is(err, ErrBadLevel) {
			t.Errorf("SetSecurity(%d) = %v, want ErrBadLevel", bad, err)
		}
	}
	if err := s.SetSecurity(ctx, "nobody", 20); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("SetSecurity(nobody) = %v", err)
	}
	// From 255 (sysop), the name alone moves the number: SetLevel, or an
	// older program writing users.level.
	if err := s.SetLevel(ctx, "ann", LevelNew); err != nil {
		t.Fatal(err)
	}
	if ann, _ := s.Account(ctx, "ann"); ann.Security != SecurityNew {
		t.Errorf("after SetLevel(new): security %d, want %d", ann.Security, SecurityNew)
	}
}

// TestGroupsAndFlags: groups are kept lower case and bounded; flags are
// letters, sorted.
func TestGroupsAndFlags(t *testing.T) {
	ctx := context.Background()
	s := openAccounts(t)
	if err := s.RegisterUser(ctx, "ann", "pw"); err != nil {
		t.Fatal(err)
	}
	for _, g := range []string{"CoSysop", "fido", "cosysop"} {
		if err := s.SetGroup(ctx, "ann", g, true); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetFlags(ctx, "ann", "xab"); err != nil {
		t.Fatal(err)
	}
	ann, _ := s.Account(ctx, "ann")
	if !slices.Equal(ann.Groups, []string{"cosysop", "fido"}) || ann.Flags != "ABX" {
		t.Errorf("ann: groups %v flags %q", ann.Groups, ann.Flags)
	}
	if err := s.SetGroup(ctx, "ann", "FIDO", false); err != nil {
		t.Fatal(err)
	}
	if ann, _ := s.Account(ctx, "ann"); !slices.Equal(ann.Groups, []string{"cosysop"}) {
		t.Errorf("after leaving fido: %v", ann.Groups)
	}
	if err := s.SetGroup(ctx, "ann", "no spaces", true); !errors.Is(err, ErrBadGroup) {
		t.Errorf("bad group: %v", err)
	}
	if err := s.SetFlags(ctx, "ann", "A1"); !errors.Is(err, ErrBadFlags) {
		t.Errorf("bad flags: %v", err)
	}
	for i := range MaxGroups - 1 {
		if err := s.SetGroup(ctx, "ann", string(rune('a'+i)), true); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetGroup(ctx, "ann", "onemore", true); !errors.Is(err, ErrBadGroup) {
		t.Errorf("group %d: %v, want ErrBadGroup", MaxGroups+1, err)
	}
}

// TestNewUsersWait: with NewUsersWait, users after the first register at
// the new level and wait until approved; approval raises them to user.
func TestNewUsersWait(t *testing.T) {
	ctx := context.Background()
	s, err := Open(testTarget(t), Options{BcryptCost: bcrypt.MinCost, NewUsersWait: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, name := range []string{"Zed", "ann", "bob"} {
		if err := s.RegisterUser(ctx, name, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	if zed, _ := s.Account(ctx, "zed"); zed.Waiting || zed.Level != LevelSysop {
		t.Errorf("the first user waits: %+v", zed)
	}
	waiting, err := s.Waiting(ctx, 10)
	if err != nil || len(waiting) != 2 || waiting[0].Name != "ann" || waiting[0].Security != SecurityNew || !waiting[0].Waiting {
		t.Fatalf("waiting = %+v, %v", waiting, err)
	}
	if err := s.Approve(ctx, "ANN"); err != nil {
		t.Fatal(err)
	}
	if ann, _ := s.Account(ctx, "ann"); ann.Waiting || ann.Security != SecurityUser || ann.Level != LevelUser {
		t.Errorf("approved ann = %+v", ann)
	}
	if err := s.Approve(ctx, "ann"); !errors.Is(err, ErrNotWaiting) {
		t.Errorf("approving twice: %v, want ErrNotWaiting", err)
	}
	if err := s.Approve(ctx, "nobody"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("approving nobody: %v", err)
	}
	if waiting, _ := s.Waiting(ctx, 10); len(waiting) != 1 || waiting[0].Name != "bob" {
		t.Errorf("waiting after approval = %+v", waiting)
	}
}

// TestTimeUsed: a day's time adds up across calls (and processes: it is
// in the store), a new day starts from zero, and bad days are refused.
func TestTimeUsed(t *testing.T) {
	ctx := context.Background()
	s := openAccounts(t)
	if err := s.RegisterUser(ctx, "ann", "pw"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.TimeUsed(ctx, "ann", "2026-12-03"); err != nil || n != 0 {
		t.Fatalf("fresh: %d, %v", n, err)
	}
	for _, add := range []int{60, 90} {
		if _, err := s.AddTimeUsed(ctx, "ann", "2026-12-03", add); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.TimeUsed(ctx, "Ann", "2026-12-03"); n != 150 {
		t.Errorf("used %d, want 150", n)
	}
	if n, err := s.AddTimeUsed(ctx, "ann", "2026-12-04", 5); err != nil || n != 5 {
		t.Errorf("next day: %d, %v; want 5", n, err)
	}
	if n, _ := s.TimeUsed(ctx, "ann", "2026-12-03"); n != 0 {
		t.Errorf("the day before is kept: %d", n)
	}
	if _, err := s.AddTimeUsed(ctx, "ann", "yesterday", 5); !errors.Is(err, ErrBadDay) {
		t.Errorf("bad day: %v", err)
	}
	if _, err := s.TimeUsed(ctx, "nobody", "2026-12-03"); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("nobody: %v", err)
	}
}

// TestCallStarted: a login keeps when its call began; a rebuilt session
// gets that start back; another user on the same conn id, a call ended,
// or a start older than MaxCallAge starts over.
func TestCallStarted(t *testing.T) {
	ctx := context.Background()
	s := openAccounts(t)
	for _, name := range []string{"ann", "bob"} {
		if err := s.RegisterUser(ctx, name, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	login := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	later := login.Add(10 * time.Minute)
	check := func(what string, got time.Time, err error, want time.Time) {
		t.Helper()
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v, %v; want %v", what, got, err, want)
		}
	}
	got, err := s.CallStarted(ctx, "7", "ann", login, true)
	check("login", got, err, login)
	got, err = s.CallStarted(ctx, "7", "ann", later, false)
	check("rebuilt", got, err, login)
	got, err = s.CallStarted(ctx, "7", "bob", later, false)
	check("another user on the conn id", got, err, later)
	if err := s.CallEnded(ctx, "7"); err != nil {
		t.Fatal(err)
	}
	got, err = s.CallStarted(ctx, "7", "bob", later.Add(time.Minute), false)
	check("after the call ended", got, err, later.Add(time.Minute))
	much := later.Add(MaxCallAge + time.Hour)
	got, err = s.CallStarted(ctx, "7", "bob", much, false)
	check("a start older than MaxCallAge", got, err, much)
	if _, err := s.CallStarted(ctx, "8", "nobody", login, true); !errors.Is(err, ErrNoSuchUser) {
		t.Errorf("nobody: %v", err)
	}
}
