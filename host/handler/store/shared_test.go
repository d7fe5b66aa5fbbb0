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

// set is a SharedUpdateFunc writing v.
func set(v SharedValue) SharedUpdateFunc {
	return func(SharedValue, bool) (*SharedValue, bool, error) { return &v, true, nil }
}

func TestSharedValuesRoundTrip(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if _, ok, err := s.SharedGet(ctx, "room", "topic"); ok || err != nil {
		t.Fatalf("SharedGet on an empty store = %v, %v", ok, err)
	}
	for _, v := range []SharedValue{{Kind: SharedString, Str: "hello"}, {Kind: SharedNumber, Num: -2.5}, {Kind: SharedBool, Bool: true}, {Kind: SharedBool}} {
		if _, _, err := s.SharedUpdate(ctx, "room", "topic", set(v)); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.SharedGet(ctx, "room", "topic")
		if err != nil || !ok || !got.Equal(v) {
			t.Errorf("after setting %+v: got %+v, %v, %v", v, got, ok, err)
		}
	}
	del := func(SharedValue, bool) (*SharedValue, bool, error) { return nil, true, nil }
	if _, ok, err := s.SharedUpdate(ctx, "room", "topic", del); ok || err != nil {
		t.Fatalf("delete = %v, %v", ok, err)
	}
	if _, ok, _ := s.SharedGet(ctx, "room", "topic"); ok {
		t.Error("deleted value still there")
	}
}

func TestSharedLimits(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	long := SharedValue{Kind: SharedString, Str: strings.Repeat("x", MaxSharedValueBytes+1)}
	if _, _, err := s.SharedUpdate(ctx, "t", "k", set(long)); !errors.Is(err, ErrSharedValue) {
		t.Errorf("value of %d bytes: %v; want ErrSharedValue", len(long.Str), err)
	}
	for _, name := range []string{"", strings.Repeat("n", MaxSharedNameBytes+1)} {
		if _, _, err := s.SharedGet(ctx, name, "k"); !errors.Is(err, ErrSharedName) {
			t.Errorf("table %q: %v; want ErrSharedName", name, err)
		}
	}
	one := SharedValue{Kind: SharedNumber, Num: 1}
	for i := range MaxSharedKeysPerTable {
		if _, _, err := s.SharedUpdate(ctx, "full", fmt.Sprint(i), set(one)); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.SharedUpdate(ctx, "full", "one more", set(one)); !errors.Is(err, ErrSharedFull) {
		t.Errorf("key %d: %v; want ErrSharedFull", MaxSharedKeysPerTable+1, err)
	}
	if _, _, err := s.SharedUpdate(ctx, "full", "7", set(SharedValue{Kind: SharedNumber, Num: 2})); err != nil {
		t.Errorf("overwriting a key of a full table: %v", err)
	}
	keys, err := s.SharedKeys(ctx, "full")
	if err != nil || len(keys) != MaxSharedKeysPerTable {
		t.Errorf("SharedKeys = %d keys, %v", len(keys), err)
	}
}

// TestSharedUpdateIsAtomic: concurrent increments lose nothing.
func TestSharedUpdateIsAtomic(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	const goroutines, each = 8, 50
	incr := func(cur SharedValue, _ bool) (*SharedValue, bool, error) {
		return &SharedValue{Kind: SharedNumber, Num: cur.Num + 1}, true, nil
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if _, _, err := s.SharedUpdate(ctx, "c", "n", incr); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got, _, _ := s.SharedGet(ctx, "c", "n"); got.Num != goroutines*each {
		t.Errorf("counter = %v; want %d", got.Num, goroutines*each)
	}
}

func TestSharedEvents(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if last, err := s.LastSharedEvent(ctx); last != 0 || err != nil {
		t.Fatalf("LastSharedEvent = %d, %v", last, err)
	}
	old := time.Now().Add(-time.Hour)
	first, err := s.AppendSharedEvent(ctx, SharedEvent{Origin: "a", Channel: "chat", From: "kim", Text: "hi", At: old})
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.AppendSharedEvent(ctx, SharedEvent{Origin: "b", Channel: "chat", From: "lee", Text: "yo"})
	if err != nil || second <= first {
		t.Fatalf("second id %d after %d, %v", second, first, err)
	}
	got, err := s.SharedEventsAfter(ctx, first, 10)
	if err != nil || len(got) != 1 || got[0].Text != "yo" || got[0].From != "lee" || got[0].Origin != "b" {
		t.Fatalf("SharedEventsAfter = %+v, %v", got, err)
	}
	if n, err := s.PruneSharedEvents(ctx, time.Now().Add(-time.Minute)); n != 1 || err != nil {
		t.Errorf("PruneSharedEvents = %d, %v; want 1", n, err)
	}
	if _, err := s.AppendSharedEvent(ctx, SharedEvent{Channel: "chat", Text: strings.Repeat("x", MaxSharedValueBytes+1)}); !errors.Is(err, ErrSharedValue) {
		t.Errorf("long event: %v", err)
	}
}
