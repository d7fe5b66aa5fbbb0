package nodes

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

func openStore(t *testing.T) *store.SQLite {
	t.Helper()
	s, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func claim(t *testing.T, a *Allocator, id string, want int) {
	t.Helper()
	if n := a.Claim(id); n != want {
		t.Fatalf("Claim(%s) = %d, want %d", id, n, want)
	}
}

// TestLowestFree: callers get the lowest free node, keep it when they ask
// again, and free it when they go.
func TestLowestFree(t *testing.T) {
	a := New(context.Background(), 0, nil, nil)
	claim(t, a, "a", 1)
	claim(t, a, "b", 2)
	claim(t, a, "c", 3)
	claim(t, a, "b", 2)
	a.Release("b")
	a.Release("nobody")
	claim(t, a, "d", 2)
	claim(t, a, "e", 4)
	a.Release("a")
	claim(t, a, "f", 1)
	if a.Node("c") != 3 || a.Node("a") != 0 {
		t.Errorf("Node: c %d, a %d", a.Node("c"), a.Node("a"))
	}
	held := a.Held()
	if len(held) != 4 || held[0] != (Holder{1, "f"}) || held[3] != (Holder{4, "e"}) {
		t.Errorf("Held = %v", held)
	}
}

// TestRestart: a host started again on the line gives the callers whose
// journal is kept the nodes they had; the nodes of the others are free.
// Lines number apart.
func TestRestart(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	a := New(ctx, 1, s, nil)
	other := New(ctx, 2, s, nil)
	claim(t, a, "10", 1)
	claim(t, a, "11", 2)
	claim(t, a, "12", 3)
	claim(t, other, "20", 1)
	a.Release("10")
	a.Close() // the host stops: what it queued is stored
	other.Close()
	for _, id := range []string{"12", "20"} {
		if err := s.ResetJournal(ctx, id, -1, [][]byte{[]byte("start")}); err != nil {
			t.Fatal(err)
		}
	}
	b := New(ctx, 1, s, nil)
	if err := b.Prune(ctx, s, nil); err != nil { // 11 has no journal: its call is over
		t.Fatal(err)
	}
	claim(t, b, "12", 3)
	claim(t, b, "13", 1)
	claim(t, b, "14", 2)
	claim(t, b, "15", 4)
	b.Close()
	c := New(ctx, 2, s, nil)
	defer c.Close()
	claim(t, c, "20", 1)
	kept, _ := s.LoadNodes(ctx, 1)
	if len(kept) != 4 {
		t.Errorf("store keeps %v", kept)
	}
}

// BenchmarkClaimRelease: calls' nodes claimed and released without end,
// kept in SQLite (two writes a call): past MaxPendingWrites the claims
// wait for the writer, so this is the writer's pace.
func BenchmarkClaimRelease(b *testing.B) {
	s, err := store.Open(filepath.Join(b.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	a := New(context.Background(), 1, s, nil)
	defer a.Close()
	for i := range 20 {
		a.Claim(strconv.Itoa(i)) // twenty callers online
	}
	b.ResetTimer()
	for i := range b.N {
		id := strconv.Itoa(1000 + i)
		a.Claim(id)
		a.Release(id)
	}
}

// BenchmarkClaimReleaseMemory: a claim and a release as a session's start
// and end pay them when the writer keeps up (here: no store).
func BenchmarkClaimReleaseMemory(b *testing.B) {
	a := New(context.Background(), 1, nil, nil)
	for i := range 20 {
		a.Claim(strconv.Itoa(i))
	}
	b.ResetTimer()
	for i := range b.N {
		id := strconv.Itoa(1000 + i)
		a.Claim(id)
		a.Release(id)
	}
}

// TestScriptTablesAreNotTheNodes: what a script writes in the shared
// module's tables (even under the name nodes were once kept under) gives
// nobody a node: the nodes are kept in a table of their own.
func TestScriptTablesAreNotTheNodes(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	if _, _, err := s.SharedUpdate(ctx, "\x00m2bbs.nodes.1", "1", func(store.SharedValue, bool) (*store.SharedValue, bool, error) {
		return &store.SharedValue{Kind: store.SharedString, Str: "intruder"}, true, nil
	}); err != nil {
		t.Fatal(err)
	}
	a := New(ctx, 1, s, nil)
	defer a.Close()
	claim(t, a, "a", 1)
}
