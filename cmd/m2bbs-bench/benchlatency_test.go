package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/cmd/m2bbs-bench/internal/loadgen"
)

func TestLatencyRunStartsInTheSteadyState(t *testing.T) {
	var stderr bytes.Buffer
	o, err := parseBenchFlags(nil, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	// 1,000 callers of 1 s think time make visits of about 20 s: their
	// first logins are spread over one visit, and the window opens once
	// the last caller is in.
	if o.latencyRamp != 20*time.Second || o.latencyWarmup != 24*time.Second {
		t.Errorf("ramp %v, warm-up %v; want 20s and 24s", o.latencyRamp, o.latencyWarmup)
	}
	if o, err = parseBenchFlags([]string{"-latency-ramp", "10s", "-latency-warmup", "5s"}, &stderr); err != nil {
		t.Fatal(err)
	}
	if o.latencyRamp != 5*time.Second || o.latencyWarmup != 5*time.Second {
		t.Errorf("a ramp longer than the warm-up: ramp %v, warm-up %v; want both 5s", o.latencyRamp, o.latencyWarmup)
	}
}

func TestLoginsAreSplitFromTheOtherPrompts(t *testing.T) {
	ms := func(n ...int) loadgen.Latencies {
		var l []time.Duration
		for _, v := range n {
			l = append(l, time.Duration(v)*time.Millisecond)
		}
		return loadgen.NewLatencies(l)
	}
	r := loadRun{res: loadgen.Result{ByStep: map[string]loadgen.Latencies{
		"password": ms(40), "password again": ms(30), "menu 1": ms(2), "MOTD": ms(3),
	}}}
	if got := loginP99(r); got != 40*time.Millisecond {
		t.Errorf("logins' p99 %v, want 40ms", got)
	}
	if got := nonLoginP99(r); got != 3*time.Millisecond {
		t.Errorf("other prompts' p99 %v, want 3ms", got)
	}
	if got := loginP99(loadRun{res: loadgen.Result{ByStep: map[string]loadgen.Latencies{"menu 1": ms(2)}}}); got != 0 {
		t.Errorf("no login in the window: p99 %v, want 0", got)
	}
}
