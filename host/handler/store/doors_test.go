package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDoorGetSetDelete(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if _, ok, err := s.DoorGet(ctx, "guess", "kim", "best"); ok || err != nil {
		t.Fatalf("DoorGet on an empty store = %v, %v; want not found", ok, err)
	}
	if err := s.DoorSet(ctx, "guess", "kim", "best", []byte(`{"guesses":4,"when":"2026-01-02"}`)); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.DoorGet(ctx, "guess", "KIM", "best")
	if err != nil || !ok || string(got) != `{"guesses":4,"when":"2026-01-02"}` {
		t.Fatalf("DoorGet (other case) = %s, %v, %v", got, ok, err)
	}
	// Per user, per door, per key, and the global data apart.
	for _, other := range [][3]string{{"guess", "lee", "best"}, {"guess", "", "best"}, {"trader", "kim", "best"}, {"guess", "kim", "Best"}} {
		if _, ok, err := s.DoorGet(ctx, other[0], other[1], other[2]); ok || err != nil {
			t.Errorf("DoorGet%q = %v, %v; want nothing", other, ok, err)
		}
	}
	if err := s.DoorSet(ctx, "guess", "kim", "best", []byte(`3`)); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.DoorGet(ctx, "guess", "kim", "best"); string(got) != "3" {
		t.Errorf("after overwrite = %s; want 3", got)
	}
	if err := s.DoorDelete(ctx, "guess", "kim", "best"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.DoorGet(ctx, "guess", "kim", "best"); ok {
		t.Error("deleted key still there")
	}
	if err := s.DoorDelete(ctx, "guess", "kim", "best"); err != nil {
		t.Errorf("deleting a missing key = %v; want nil", err)
	}
}

func TestDoorDataSurvivesReopen(t *testing.T) {
	s, path := newStore(t)
	ctx := context.Background()
	if err := s.DoorSet(ctx, "trader", "", "market", []byte(`{"day":"2026-03-01"}`)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(path, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got, ok, err := s2.DoorGet(ctx, "trader", "", "market"); !ok || err != nil || string(got) != `{"day":"2026-03-01"}` {
		t.Errorf("after reopen = %s, %v, %v", got, ok, err)
	}
}

func TestDoorInputErrors(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	cases := []struct {
		door, user, key, value string
		want                   error
	}{
		{"", "kim", "k", "1", ErrBadDoorName},
		{"Guess", "kim", "k", "1", ErrBadDoorName},
		{"../x", "kim", "k", "1", ErrBadDoorName},
		{strings.Repeat("d", MaxDoorNameLen+1), "kim", "k", "1", ErrBadDoorName},
		{"guess", "kim", "", "1", ErrBadDoorKey},
		{"guess", "kim", strings.Repeat("k", MaxDoorKeyLen+1), "1", ErrBadDoorKey},
		{"guess", "kim", "a\nb", "1", ErrBadDoorKey},
		{"guess", "kim", "\xff", "1", ErrBadDoorKey},
		{"guess", "no spaces", "k", "1", ErrBadName},
		{"guess", strings.Repeat("u", MaxNameLen+1), "k", "1", ErrBadName},
		{"guess", "kim", "k", "", ErrDoorValue},
		{"guess", "kim", "k", "{not json", ErrDoorValue},
		{"guess", "kim", "k", `"` + strings.Repeat("v", MaxDoorValueBytes) + `"`, ErrDoorValue},
	}
	for _, c := range cases {
		err := s.DoorSet(ctx, c.door, c.user, c.key, []byte(c.value))
		if !errors.Is(err, c.want) {
			t.Errorf("DoorSet(%q, %q, %q, %.20q) = %v; want %v", c.door, c.user, c.key, c.value, err, c.want)
		}
		if c.want == ErrDoorValue {
			continue
		}
		if _, _, err := s.DoorGet(ctx, c.door, c.user, c.key); !errors.Is(err, c.want) {
			t.Errorf("DoorGet(%q, %q, %q) = %v; want %v", c.door, c.user, c.key, err, c.want)
		}
	}
	// The largest value fits.
	largest := `"` + strings.Repeat("v", MaxDoorValueBytes-2) + `"`
	if err := s.DoorSet(ctx, "guess", "kim", "k", []byte(largest)); err != nil {
		t.Errorf("value of exactly MaxDoorValueBytes: %v", err)
	}
	if _, err := s.DoorTop(ctx, "guess", "k", 0, HighestFirst); err == nil {
		t.Error("DoorTop with n = 0 succeeded")
	}
	if _, err := s.DoorTop(ctx, "guess", "k", MaxDoorTop+1, HighestFirst); err == nil {
		t.Error("DoorTop with n > MaxDoorTop succeeded")
	}
}

func TestDoorKeysAreBounded(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	for i := range MaxDoorKeys {
		if err := s.DoorSet(ctx, "guess", "kim", fmt.Sprint("k", i), []byte("1")); err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
	}
	if err := s.DoorSet(ctx, "guess", "kim", "one-too-many", []byte("1")); !errors.Is(err, ErrDoorFull) {
		t.Fatalf("key %d = %v; want ErrDoorFull", MaxDoorKeys+1, err)
	}
	if _, err := s.DoorAdd(ctx, "guess", "kim", "one-too-many", 1); !errors.Is(err, ErrDoorFull) {
		t.Errorf("DoorAdd of a new key past the limit = %v; want ErrDoorFull", err)
	}
	// Existing keys can still change, and other users and doors are not
	// affected.
	if err := s.DoorSet(ctx, "guess", "kim", "k0", []byte("2")); err != nil {
		t.Errorf("overwrite at the limit: %v", err)
	}
	if err := s.DoorSet(ctx, "guess", "lee", "k0", []byte("2")); err != nil {
		t.Errorf("another user at kim's limit: %v", err)
	}
	if err := s.DoorSet(ctx, "trader", "kim", "k0", []byte("2")); err != nil {
		t.Errorf("another door at kim's limit: %v", err)
	}
}

func TestDoorAdd(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if got, err := s.DoorAdd(ctx, "trader", "", "jumps", 1); err != nil || got != 1 {
		t.Fatalf("first DoorAdd = %v, %v; want 1", got, err)
	}
	if got, err := s.DoorAdd(ctx, "trader", "", "jumps", 2.5); err != nil || got != 3.5 {
		t.Fatalf("second DoorAdd = %v, %v; want 3.5", got, err)
	}
	if v, _, _ := s.DoorGet(ctx, "trader", "", "jumps"); string(v) != "3.5" {
		t.Errorf("stored %s; want 3.5", v)
	}
	if err := s.DoorSet(ctx, "trader", "", "name", []byte(`"x"`)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DoorAdd(ctx, "trader", "", "name", 1); !errors.Is(err, ErrDoorValue) {
		t.Errorf("DoorAdd to a string = %v; want ErrDoorValue", err)
	}
	if err := s.DoorSet(ctx, "trader", "", "nothing", []byte(`null`)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DoorAdd(ctx, "trader", "", "nothing", 1); !errors.Is(err, ErrDoorValue) {
		t.Errorf("DoorAdd to null = %v; want ErrDoorValue", err)
	}
	if err := s.DoorSet(ctx, "trader", "", "big", []byte(`1e308`)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DoorAdd(ctx, "trader", "", "big", 1e308); !errors.Is(err, ErrDoorValue) {
		t.Errorf("DoorAdd overflowing to +Inf = %v; want ErrDoorValue", err)
	}
}

func TestDoorAddConcurrently(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	const workers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for range each {
				if _, err := s.DoorAdd(ctx, "trader", "", "jumps", 1); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if v, _, _ := s.DoorGet(ctx, "trader", "", "jumps"); string(v) != fmt.Sprint(workers*each) {
		t.Errorf("after %d concurrent adds the count is %s", workers*each, v)
	}
}

func TestDoorTop(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	set := func(user, key, value string) {
		t.Helper()
		if err := s.DoorSet(ctx, "guess", user, key, []byte(value)); err != nil {
			t.Fatal(err)
		}
	}
	set("amy", "best", "5")
	set("bob", "best", "3")
	set("cat", "best", "7")
	set("dan", "best", "3") // ties with bob
	set("eve", "best", `{"not":"a number"}`)
	set("", "best", "1") // global data is not ranked
	set("fay", "other", "1")
	if err := s.DoorSet(ctx, "trader", "gus", "best", []byte("2")); err != nil {
		t.Fatal(err)
	}
	names := func(top []DoorEntry) string {
		var out []string
		for _, e := range top {
			out = append(out, fmt.Sprintf("%s=%g", e.User, e.Score))
		}
		return strings.Join(out, " ")
	}
	top, err := s.DoorTop(ctx, "guess", "best", 10, LowestFirst)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(top), "bob=3 dan=3 amy=5 cat=7"; got != want {
		t.Errorf("lowest first = %s; want %s", got, want)
	}
	top, err = s.DoorTop(ctx, "guess", "best", 2, HighestFirst)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(top), "cat=7 amy=5"; got != want {
		t.Errorf("highest two = %s; want %s", got, want)
	}
	if top[0].Updated.IsZero() {
		t.Error("entry has no time")
	}
	if top, err := s.DoorTop(ctx, "guess", "nobody", 5, HighestFirst); err != nil || len(top) != 0 {
		t.Errorf("top of an unused key = %v, %v", top, err)
	}
	if _, err := s.DoorTop(ctx, "guess", "best", 5, DoorOrder(9)); err == nil {
		t.Error("unknown order accepted")
	}
}

func TestDoorTopTiesGoToTheFirst(t *testing.T) {
	s, path := newStore(t)
	ctx := context.Background()
	for _, user := range []string{"zed", "amy"} {
		if err := s.DoorSet(ctx, "guess", user, "best", []byte("3")); err != nil {
			t.Fatal(err)
		}
	}
	// zed scored first, amy a second later.
	if _, err := rawDB(t, path).Exec("UPDATE door_data SET updated_at = CASE user WHEN 'zed' THEN 1000 ELSE 2000 END"); err != nil {
		t.Fatal(err)
	}
	// Saving the same score again does not cost zed the place; a new
	// score does.
	if err := s.DoorSet(ctx, "guess", "zed", "best", []byte("3")); err != nil {
		t.Fatal(err)
	}
	top, err := s.DoorTop(ctx, "guess", "best", 2, LowestFirst)
	if err != nil || len(top) != 2 || top[0].User != "zed" || !top[0].Updated.Equal(time.UnixMilli(1000)) {
		t.Fatalf("top = %+v, %v; want zed first, scored at 1000 ms", top, err)
	}
	if err := s.DoorSet(ctx, "guess", "zed", "best", []byte("3.0")); err != nil {
		t.Fatal(err)
	}
	if top, _ := s.DoorTop(ctx, "guess", "best", 2, LowestFirst); top[0].User != "amy" {
		t.Errorf("after zed saved anew, top = %+v; want amy first", top)
	}
}

func TestDoorUserKeepsFirstSpelling(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if err := s.DoorSet(ctx, "guess", "Kim", "best", []byte("4")); err != nil {
		t.Fatal(err)
	}
	if err := s.DoorSet(ctx, "guess", "kim", "best", []byte("2")); err != nil {
		t.Fatal(err)
	}
	top, err := s.DoorTop(ctx, "guess", "best", 5, LowestFirst)
	if err != nil || len(top) != 1 || top[0].User != "Kim" || top[0].Score != 2 {
		t.Errorf("top = %+v, %v; want one entry Kim=2", top, err)
	}
}

func TestDoorClosedStore(t *testing.T) {
	s, _ := newStore(t)
	s.Close()
	ctx := context.Background()
	if _, _, err := s.DoorGet(ctx, "guess", "kim", "k"); !errors.Is(err, ErrClosed) {
		t.Errorf("DoorGet = %v", err)
	}
	if err := s.DoorSet(ctx, "guess", "kim", "k", []byte("1")); !errors.Is(err, ErrClosed) {
		t.Errorf("DoorSet = %v", err)
	}
	if _, err := s.DoorAdd(ctx, "guess", "kim", "k", 1); !errors.Is(err, ErrClosed) {
		t.Errorf("DoorAdd = %v", err)
	}
	if _, err := s.DoorTop(ctx, "guess", "k", 1, HighestFirst); !errors.Is(err, ErrClosed) {
		t.Errorf("DoorTop = %v", err)
	}
}
