package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestEventDueAndClaim(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)
	due, err := s.EventDue(ctx, "nightly", "daily 03:00 UTC", t0)
	if err != nil || !due.Equal(t0) {
		t.Fatalf("first EventDue = %s, %v", due, err)
	}
	// Seen again with the same schedule: the stored time, not the new one.
	if due, err := s.EventDue(ctx, "nightly", "daily 03:00 UTC", t0.Add(time.Hour)); err != nil || !due.Equal(t0) {
		t.Fatalf("EventDue again = %s, %v", due, err)
	}
	next := t0.Add(24 * time.Hour)
	if ok, err := s.ClaimEvent(ctx, "nightly", t0, next); err != nil || !ok {
		t.Fatalf("first claim = %v, %v", ok, err)
	}
	if ok, err := s.ClaimEvent(ctx, "nightly", t0, next); err != nil || ok {
		t.Fatalf("second claim of the same due time = %v, %v: want false", ok, err)
	}
	// A changed schedule starts over.
	later := t0.Add(7 * time.Hour)
	if due, err := s.EventDue(ctx, "nightly", "daily 10:00 UTC", later); err != nil || !due.Equal(later) {
		t.Fatalf("EventDue after a change = %s, %v", due, err)
	}
}

func TestEventRunsKeepTheLast(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := s.EventDue(ctx, "tick", "every 1m", t0); err != nil {
		t.Fatal(err)
	}
	for i := range KeepEventRuns + 5 {
		at := t0.Add(time.Duration(i) * time.Minute)
		run := EventRun{Event: "tick", Cause: "schedule", Outcome: "ok", Error: fmt.Sprint(i), Started: at, Ended: at.Add(time.Second)}
		if err := s.RecordEventRun(ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.EventList(ctx, 100)
	if err != nil || len(list) != 1 {
		t.Fatalf("EventList = %+v, %v", list, err)
	}
	runs := list[0].Runs
	if len(runs) != KeepEventRuns || runs[0].Error != fmt.Sprint(KeepEventRuns+4) || runs[len(runs)-1].Error != "5" {
		t.Fatalf("%d runs kept, newest %q, oldest %q", len(runs), runs[0].Error, runs[len(runs)-1].Error)
	}
	if d := runs[0].Duration(); d != time.Second {
		t.Errorf("duration %s", d)
	}
	if err := s.RecordEventRun(ctx, EventRun{}); err == nil {
		t.Error("a run with no event was stored")
	}
}
