package store

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestRemoteName(t *testing.T) {
	for _, c := range []struct {
		board, user, want string
		err               error
	}{
		{"alpha", "bob", "alpha:bob", nil},
		{" alpha ", "Bob.Smith", "alpha:Bob.Smith", nil},
		{"alpha", "bo:b", "", ErrBadName},
		{"al:pha", "bob", "", ErrBadName},
		{"", "bob", "", ErrBadName},
		{"alpha", "", "", ErrBadName},
		{"alpha", "bob smith", "", ErrBadName},
		{"alpha", strings.Repeat("u", MaxNameLen-len("alpha:")), "alpha:" + strings.Repeat("u", MaxNameLen-len("alpha:")), nil},
		{"alpha", strings.Repeat("u", MaxNameLen-len("alpha:")+1), "", ErrBadName},
	} {
		got, err := RemoteName(c.board, c.user)
		if got != c.want || !errors.Is(err, c.err) {
			t.Errorf("RemoteName(%q, %q) = %q, %v; want %q, %v", c.board, c.user, got, err, c.want, c.err)
		}
	}
	if b, u, ok := SplitRemoteName("alpha:bob"); !ok || b != "alpha" || u != "bob" {
		t.Errorf("SplitRemoteName(alpha:bob) = %q %q %v", b, u, ok)
	}
	if _, _, ok := SplitRemoteName("bob"); ok {
		t.Error("a local name split as a remote one")
	}
}

// TestDoorDataOfARemoteCaller: a remote caller's door data is kept under
// board:user, apart from a local account of the same user name, and on
// the door's leaderboard under that name.
func TestDoorDataOfARemoteCaller(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if err := s.DoorSet(ctx, "guess", "alpha:bob", "best", []byte("3")); err != nil {
		t.Fatal(err)
	}
	if err := s.DoorSet(ctx, "guess", "bob", "best", []byte("7")); err != nil {
		t.Fatal(err)
	}
	v, ok, err := s.DoorGet(ctx, "guess", "ALPHA:BOB", "best")
	if err != nil || !ok || string(v) != "3" {
		t.Errorf("alpha:bob's best = %q %v %v, want 3", v, ok, err)
	}
	top, err := s.DoorTop(ctx, "guess", "best", 10, LowestFirst)
	if err != nil || len(top) != 2 || top[0].User != "alpha:bob" || top[1].User != "bob" {
		t.Errorf("leaderboard %+v %v, want alpha:bob (3) then bob (7)", top, err)
	}
	if err := s.DoorSet(ctx, "guess", "alpha:bo:b", "best", []byte("1")); !errors.Is(err, ErrBadName) {
		t.Errorf("a name with two separators: %v", err)
	}
}
