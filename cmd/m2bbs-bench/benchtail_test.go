package main

import (
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/cmd/m2bbs-bench/internal/loadgen"
)

// TestTailStepsNamesTheStepsOfTheSlowestRoundTrips: of 200 round trips,
// the two slower than the p99 are a login's and a menu's; the progress
// line names those steps with their counts, and no step without a slow
// round trip.
func TestTailStepsNamesTheStepsOfTheSlowestRoundTrips(t *testing.T) {
	steps := map[string][]time.Duration{}
	var all []time.Duration
	add := func(step string, d time.Duration) {
		steps[step] = append(steps[step], d)
		all = append(all, d)
	}
	for i := range 196 {
		add([]string{"menu 1", "message line"}[i%2], time.Millisecond)
	}
	add("password", 2*time.Millisecond) // the p99 itself: not past it
	add("password", 3*time.Millisecond)
	add("password", 40*time.Millisecond)
	add("menu 2", 30*time.Millisecond)
	r := loadRun{res: loadgen.Result{Latency: loadgen.NewLatencies(all), ByStep: map[string]loadgen.Latencies{}}}
	for step, l := range steps {
		r.res.ByStep[step] = loadgen.NewLatencies(l)
	}
	p99, got := tailSteps(r)
	if p99 != 3*time.Millisecond {
		t.Fatalf("p99 %v, want 3ms", p99)
	}
	want := []tailStep{{"menu 2", 1, 1}, {"password", 1, 3}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("tail steps %+v, want %+v", got, want)
	}
	line := tailLine(r)
	for _, s := range []string{"2 round trips over 3.00 ms", "menu 2 1 of 1;", "password 1 of 3;"} {
		if !strings.Contains(line, s) {
			t.Errorf("progress line %q lacks %q", line, s)
		}
	}
	if strings.Contains(line, "message line") {
		t.Errorf("progress line %q names a step with no slow round trip", line)
	}
}
