package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// What makes a run's tail: its round trips past the run's p99, counted by
// the step of the visit they answered, beside how many round trips each
// step had, so that a step over-represented in the tail (the logins, a
// menu that writes) stands out. Printed on each progress line of a run
// whose visits have steps (the latency and hashing steps above all).

// tailStep is one step's share of a run's slowest round trips.
type tailStep struct {
	step      string
	slow, all int
}

// tailSteps counts, per step, the round trips of r slower than its p99
// (at least one round trip), slowest steps first.
func tailSteps(r loadRun) (p99 time.Duration, steps []tailStep) {
	p99 = r.res.Latency.Quantile(0.99)
	for step, l := range r.res.ByStep {
		slow := 0
		for _, d := range l {
			if d > p99 {
				slow++
			}
		}
		if slow > 0 {
			steps = append(steps, tailStep{step, slow, len(l)})
		}
	}
	slices.SortFunc(steps, func(a, b tailStep) int {
		return cmp.Or(cmp.Compare(b.slow, a.slow), strings.Compare(a.step, b.step))
	})
	return p99, steps
}

// tailLine describes r's slowest 1% for a progress line: "" when r has no
// steps.
func tailLine(r loadRun) string {
	if len(r.res.ByStep) == 0 {
		return ""
	}
	p99, steps := tailSteps(r)
	total := 0
	for _, s := range steps {
		total += s.slow
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n  slowest 1%% (%d round trips over %.2f ms) by step, of the step's round trips:", total, ms(p99))
	for _, s := range steps {
		fmt.Fprintf(&b, " %s %d of %d;", s.step, s.slow, s.all)
	}
	return b.String()
}
