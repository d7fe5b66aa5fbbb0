package store

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"
)

func beat(line int, instance string, at time.Time) LineBeat {
	return LineBeat{Line: line, Route: "@bbs." + string(rune('0'+line)), Capacity: 2, Instance: instance, PID: 100 + line, Hostname: "box", At: at}
}

func TestLinesDirectoryAndPresence(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	t0 := time.UnixMilli(1_700_000_000_000).UTC()
	for _, n := range []int{2, 1} {
		orphans, err := s.ClaimLine(ctx, beat(n, "a", t0))
		if err != nil || len(orphans) != 0 {
			t.Fatalf("claim line %d: %v, %v", n, orphans, err)
		}
	}
	b1 := beat(1, "a", t0.Add(time.Second))
	b1.Online = 2
	if _, err := s.BeatLine(ctx, b1, []Presence{{ConnID: "10"}, {ConnID: "9", User: "ann"}}, nil); err != nil {
		t.Fatal(err)
	}
	b2 := beat(2, "a", t0.Add(time.Second))
	if _, err := s.BeatLine(ctx, b2, []Presence{{ConnID: "11", User: "bob", Browser: true}}, nil); err != nil {
		t.Fatal(err)
	}
	// A later beat logs "10" in and "9" off.
	b1.At = t0.Add(2 * time.Second)
	if _, err := s.BeatLine(ctx, b1, []Presence{{ConnID: "10", User: "cy"}}, []string{"9"}); err != nil {
		t.Fatal(err)
	}
	callers, err := s.LineCallers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []Presence{{1, "10", "cy", false}, {2, "11", "bob", true}}
	if !reflect.DeepEqual(callers, want) {
		t.Errorf("callers = %+v, want %+v", callers, want)
	}
	lines, err := s.LineList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 2 || lines[0].Line != 1 || lines[0].Online != 2 || lines[0].Capacity != 2 ||
		!lines[0].At.Equal(b1.At) || lines[1].Line != 2 || lines[1].Route != b2.Route {
		t.Fatalf("lines = %+v", lines)
	}
	if now := t0.Add(4500 * time.Millisecond); !lines[0].Up(now, 3*time.Second) || lines[1].Up(now, 3*time.Second) {
		t.Errorf("at +4.5s with 3s staleness, line 1 should be up and line 2 down: %+v", lines)
	}
}

func TestClaimDownLineHasOneWinner(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	t0 := time.Now()
	if _, err := s.ClaimLine(ctx, beat(3, "dead", t0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeatLine(ctx, beat(3, "dead", t0), []Presence{{ConnID: "5", User: "ann"}, {ConnID: "6"}}, nil); err != nil {
		t.Fatal(err)
	}
	// Not stale yet: nobody wins.
	if got, won, err := s.ClaimDownLine(ctx, 3, t0.Add(-time.Second)); err != nil || won || got != nil {
		t.Fatalf("fresh line claimed down: %v %v %v", got, won, err)
	}
	var (
		mu      sync.Mutex
		winners [][]Presence
		wg      sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			got, won, err := s.ClaimDownLine(ctx, 3, t0.Add(time.Second))
			if err != nil {
				t.Error(err)
			}
			if won {
				mu.Lock()
				winners = append(winners, got)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	want := []Presence{{3, "5", "ann", false}, {3, "6", "", false}}
	if len(winners) != 1 || !reflect.DeepEqual(winners[0], want) {
		t.Fatalf("winners = %+v, want one with %+v", winners, want)
	}
	if callers, _ := s.LineCallers(ctx); len(callers) != 0 {
		t.Errorf("callers of the down line kept: %+v", callers)
	}
	lines, _ := s.LineList(ctx)
	if len(lines) != 1 || !lines[0].DownHandled || lines[0].Up(t0, time.Hour) {
		t.Errorf("line not marked down: %+v", lines)
	}
	// The line's own host beats again (it was only slow): revived.
	revived, err := s.BeatLine(ctx, beat(3, "dead", t0.Add(2*time.Second)), nil, nil)
	if err != nil || !revived {
		t.Errorf("beat after a down claim: revived=%v err=%v", revived, err)
	}
	lines, _ = s.LineList(ctx)
	if lines[0].DownHandled {
		t.Errorf("a heartbeat did not bring the line back: %+v", lines[0])
	}
}

func TestRestartedHostTakesOverItsLine(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	t0 := time.Now()
	if _, err := s.ClaimLine(ctx, beat(1, "old", t0)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeatLine(ctx, beat(1, "old", t0), []Presence{{ConnID: "7", User: "ann"}}, nil); err != nil {
		t.Fatal(err)
	}
	orphans, err := s.ClaimLine(ctx, beat(1, "new", t0.Add(time.Second)))
	if want := []Presence{{1, "7", "ann", false}}; err != nil || !reflect.DeepEqual(orphans, want) {
		t.Fatalf("orphans = %+v, %v; want %+v", orphans, err, want)
	}
	// The old instance, still alive somehow, is told its line is taken.
	if _, err := s.BeatLine(ctx, beat(1, "old", t0.Add(2*time.Second)), nil, nil); !errors.Is(err, ErrLineTaken) {
		t.Errorf("old instance's beat: %v, want ErrLineTaken", err)
	}
	// Leaving marks the line down at once.
	if err := s.LeaveLine(ctx, 1, "new"); err != nil {
		t.Fatal(err)
	}
	lines, _ := s.LineList(ctx)
	if lines[0].Up(time.Now(), time.Hour) {
		t.Errorf("line still up after LeaveLine: %+v", lines[0])
	}
	if _, err := s.ClaimLine(ctx, LineBeat{Line: 0, Instance: "x"}); err == nil {
		t.Error("line 0 accepted")
	}
}
