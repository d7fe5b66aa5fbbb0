package loadgen

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeBoard is a classic-protocol server that answers every line with a
// prompt echoing it, like the echo handler behind a front end; wrong makes
// it garble every third echo.
type fakeBoard struct {
	ln    net.Listener
	wrong bool
	conns atomic.Int64
	wg    sync.WaitGroup
}

func startFakeBoard(t *testing.T, wrong bool) *fakeBoard {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &fakeBoard{ln: ln, wrong: wrong}
	b.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.conns.Add(1)
			b.wg.Go(func() { b.serve(c) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		b.wg.Wait()
	})
	return b
}

func (b *fakeBoard) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for n := 1; ; n++ {
		frame, err := r.ReadString(0)
		if err != nil {
			return
		}
		_, payload, _ := strings.Cut(strings.TrimSuffix(frame, "\x00"), " ")
		var in struct{ Msg string }
		if err := json.Unmarshal([]byte(payload), &in); err != nil {
			return
		}
		if b.wrong && n%3 == 0 {
			in.Msg += "?"
		}
		out, _ := json.Marshal(map[string]string{"type": "prompt", "msg": in.Msg, "pchar": "> "})
		if _, err := c.Write(append([]byte(base64.StdEncoding.EncodeToString(out)), 0)); err != nil {
			return
		}
	}
}

func echoVisits(n int) ScriptFactory {
	return func(int, int) Script { return NewEchoScript(n) }
}

func TestRunMeasuresRoundTripsInTheWindow(t *testing.T) {
	b := startFakeBoard(t, false)
	var (
		mu     sync.Mutex
		events []bool
		visits atomic.Int64
	)
	r, err := Run(t.Context(), Config{
		Addr: b.ln.Addr().String(), Callers: 3, Scripts: echoVisits(4),
		Warmup: 100 * time.Millisecond, Duration: 300 * time.Millisecond,
		OnWindow: func(open bool) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, open)
		},
		OnVisit: func(s Script, err error) {
			if _, ok := s.(*EchoScript); ok && err == nil {
				visits.Add(1)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors != 0 {
		t.Fatalf("%d errors: %q", r.Errors, r.ErrorSamples)
	}
	if r.RoundTrips == 0 || r.Visits == 0 || len(r.Latency) != r.RoundTrips {
		t.Fatalf("result %+v", r)
	}
	// Every visit is four round trips; the window cuts visits at both
	// ends, so the counts differ by at most one visit per caller and end.
	if d := r.RoundTrips - 4*r.Visits; d < -4*2*r.Callers || d > 4*2*r.Callers {
		t.Errorf("%d round trips for %d visits of 4", r.RoundTrips, r.Visits)
	}
	if int64(r.AllVisits) != visits.Load() || r.AllVisits <= r.Visits {
		t.Errorf("all visits %d, OnVisit saw %d, in the window %d", r.AllVisits, visits.Load(), r.Visits)
	}
	if b.conns.Load() != int64(r.AllVisits) {
		t.Errorf("%d connections for %d visits: each visit should dial once", b.conns.Load(), r.AllVisits)
	}
	if r.Latency.Quantile(0) > r.Latency.Quantile(1) {
		t.Error("latencies are not sorted")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 || !events[0] || events[1] {
		t.Errorf("window events %v, want open then close", events)
	}
}

func TestRunCountsFailedVisits(t *testing.T) {
	b := startFakeBoard(t, true)
	r, err := Run(t.Context(), Config{
		Addr: b.ln.Addr().String(), Callers: 2, Scripts: echoVisits(5), Duration: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors == 0 || r.Errors != r.AllVisits || len(r.ErrorSamples) == 0 {
		t.Fatalf("every visit should fail on the third echo: %+v", r)
	}
	if !strings.Contains(r.ErrorSamples[0], "want the echo of") {
		t.Errorf("error sample %q", r.ErrorSamples[0])
	}
}

func TestRunThinks(t *testing.T) {
	b := startFakeBoard(t, false)
	r, err := Run(t.Context(), Config{
		Addr: b.ln.Addr().String(), Callers: 2, Scripts: echoVisits(1000),
		Duration: 300 * time.Millisecond, Think: 40 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	// Pauses of at least 20 ms allow at most 15 round trips per caller in
	// 300 ms (plus the first, which follows no pause).
	if r.RoundTrips > 2*16 || r.RoundTrips < 2 {
		t.Errorf("%d round trips in 300 ms with 2 callers thinking 20-60 ms", r.RoundTrips)
	}
}

func TestRunReportsAnUnreachableBoard(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r, err := Run(t.Context(), Config{Addr: addr, Callers: 1, Scripts: echoVisits(1), Duration: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.Errors == 0 || r.RoundTrips != 0 {
		t.Errorf("result %+v, want errors and no round trips", r)
	}
}

func TestRunStopsWithItsContext(t *testing.T) {
	b := startFakeBoard(t, false)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := Run(ctx, Config{Addr: b.ln.Addr().String(), Callers: 2, Scripts: echoVisits(5), Duration: time.Hour})
		done <- err
	}()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not stop after its context ended")
	}
}

func TestRunRefusesABadConfig(t *testing.T) {
	if _, err := Run(t.Context(), Config{Addr: "127.0.0.1:1", Scripts: echoVisits(1), Duration: time.Second}); err == nil {
		t.Error("no callers: no error")
	}
}

func TestRunRampsCallersUp(t *testing.T) {
	b := startFakeBoard(t, false)
	// Ten callers started over 200 ms: caller i's first visit begins
	// i × 20 ms in.
	var (
		mu    sync.Mutex
		first = map[int]time.Time{}
	)
	start := time.Now()
	_, err := Run(t.Context(), Config{
		Addr: b.ln.Addr().String(), Callers: 10, Warmup: 250 * time.Millisecond, Ramp: 200 * time.Millisecond,
		Duration: 50 * time.Millisecond,
		Scripts: func(caller, visit int) Script {
			mu.Lock()
			defer mu.Unlock()
			if visit == 0 {
				first[caller] = time.Now()
			}
			return NewEchoScript(1)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(first) != 10 {
		t.Fatalf("%d callers started", len(first))
	}
	if late := first[9].Sub(start); late < 180*time.Millisecond {
		t.Errorf("the last caller started %v in, want about 180 ms", late)
	}
	if early := first[0].Sub(start); early > 100*time.Millisecond {
		t.Errorf("the first caller started %v in, want at once", early)
	}
}

// steppingEcho names its steps by the parity of the line sent.
type steppingEcho struct {
	*EchoScript
}

func (s steppingEcho) Step() string { return fmt.Sprintf("after %d", s.done%2) }

func TestRunSortsRoundTripsBySteps(t *testing.T) {
	b := startFakeBoard(t, false)
	r, err := Run(t.Context(), Config{
		Addr: b.ln.Addr().String(), Callers: 2, Duration: 200 * time.Millisecond,
		Scripts: func(int, int) Script { return steppingEcho{NewEchoScript(5)} },
	})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for step, l := range r.ByStep {
		switch step {
		case "connect", "after 0", "after 1":
		default:
			t.Errorf("unknown step %q", step)
		}
		total += len(l)
	}
	if len(r.ByStep) != 3 || total != r.RoundTrips {
		t.Errorf("steps %d holding %d round trips of %d", len(r.ByStep), total, r.RoundTrips)
	}
}

func TestRunStartsVisitsAtTheArrivalRate(t *testing.T) {
	b := startFakeBoard(t, false)
	var started atomic.Int64
	r, err := Run(t.Context(), Config{
		Addr: b.ln.Addr().String(), Arrivals: 50, Duration: 400 * time.Millisecond, Warmup: 100 * time.Millisecond,
		// Each visit lasts about 200 ms: ten or more are under way at once.
		Think: 20 * time.Millisecond,
		Scripts: func(caller, visit int) Script {
			started.Add(1)
			if visit != 0 {
				t.Errorf("caller %d: visit %d, want every caller's first", caller, visit)
			}
			return NewEchoScript(10)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// 50 visits/s over 500 ms: 25, give or take the machine's load.
	if n := started.Load(); n < 15 || n > 27 {
		t.Errorf("%d visits started in 500 ms at 50/s", n)
	}
	if r.Errors != 0 || r.Callers != int(started.Load()) {
		t.Errorf("%d errors, %d callers for %d visits", r.Errors, r.Callers, started.Load())
	}
}
