package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/m2bbs/m2bbs/cmd/m2bbs-bench/internal/loadgen"
	"github.com/m2bbs/m2bbs/host/handler/dispatch"
)

// scaleStep is what the scale test measured with callers parked.
type scaleStep struct {
	// target is how many callers the step parks; callers how many
	// sessions the host held when measured.
	target, callers int
	// failure says why parking stopped short, if it did.
	failure string
	// loginsPerSecond is how fast this step's callers logged in;
	// elapsed is the time spent parking callers, this step's and the
	// steps' before it.
	loginsPerSecond float64
	elapsed         time.Duration
	// The host's memory with the callers parked, and before any.
	rss, baseRSS, heap, baseHeap uint64
	goroutines                   int
	// active holds the round trips of one caller visiting meanwhile.
	active     loadgen.Latencies
	hostErrors int64
	muxStats   loadgen.MuxStats
	// asleep is how many sessions were hibernated when measured, after
	// waiting up to -hibernate-wait (asleepWait) for them; wake holds the
	// round trips of a sample of them woken by a line, one at a time, and
	// wakeCPU the host's CPU time per wake-up (hibernate.go in
	// host/handler/session).
	asleep     int
	asleepWait time.Duration
	wake       loadgen.Latencies
	wakeCPU    time.Duration
}

// errors counts what went wrong: callers not parked, the host's error
// counters, replies no caller expected.
func (s scaleStep) errors() int64 {
	return int64(max(s.target-s.callers, 0)) + s.hostErrors + s.muxStats.Unexpected + s.muxStats.HungUp + int64(s.muxStats.Dropped)
}

func (s scaleStep) rssPerCaller() float64 {
	return float64(int64(s.rss)-int64(s.baseRSS)) / float64(max(s.callers, 1))
}

func (s scaleStep) heapPerCaller() float64 {
	return float64(int64(s.heap)-int64(s.baseHeap)) / float64(max(s.callers, 1))
}

func (s scaleStep) String() string {
	failure := ""
	if s.failure != "" {
		failure = "; " + s.failure
	}
	return fmt.Sprintf("%d of %d callers parked (%.0f logins/s, %v in all), %d asleep (after %v): host RSS %.1f MiB (%.2f KiB each), heap %.1f MiB (%.2f KiB each), %d goroutines; active caller p50 %v p99 %v p99.9 %v over %d round trips; %d woken: p50 %v p99 %v, host CPU %v each; %d host errors, %+v%s",
		s.callers, s.target, s.loginsPerSecond, s.elapsed.Round(time.Second), s.asleep, s.asleepWait.Round(time.Second),
		float64(s.rss)/(1<<20), s.rssPerCaller()/1024, float64(s.heap)/(1<<20), s.heapPerCaller()/1024,
		s.goroutines, s.active.Quantile(0.5).Round(time.Microsecond), s.active.Quantile(0.99).Round(time.Microsecond),
		s.active.Quantile(0.999).Round(time.Microsecond), len(s.active),
		len(s.wake), s.wake.Quantile(0.5).Round(time.Microsecond), s.wake.Quantile(0.99).Round(time.Microsecond), s.wakeCPU.Round(time.Microsecond),
		s.hostErrors, s.muxStats, failure)
}

// lastLines is the last n lines of text, on one line.
func lastLines(text string, n int) string {
	lines := strings.Split(strings.TrimSpace(text), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], " | ")
}

// parkWindow is how many idle callers log in at once.
const parkWindow = 256

// scaleOnce starts the host behind a Mux (the bench plays the front end:
// every caller is a conn id on one ZeroMQ socket pair), parks callers at
// the main menu in steps, and measures the host and one active caller at
// each step.
func (o *benchOptions) scaleOnce(ctx context.Context) (steps []scaleStep, err error) {
	dir, err := os.MkdirTemp(o.tmp, "scale-")
	if err != nil {
		return nil, err
	}
	sendSpec, err := freeSpec()
	if err != nil {
		return nil, err
	}
	recvSpec, err := freeSpec()
	if err != nil {
		return nil, err
	}
	mux, err := loadgen.ListenMux(loadgen.MuxConfig{SendSpec: sendSpec, RecvSpec: recvSpec, SenderID: benchSender})
	if err != nil {
		return nil, err
	}
	defer mux.Close()
	exe, name, args, err := o.handlerCmd(handlerBoard, o.shipped(), dir, sendSpec, recvSpec, "")
	if err != nil {
		return nil, err
	}
	proc, err := o.startChild(name, exe, o.hostEnv, args...)
	if err != nil {
		return nil, err
	}
	defer func() {
		if stopErr := proc.stop(); stopErr != nil {
			err = errors.Join(err, fmt.Errorf("bench: %w", stopErr))
		}
	}()
	if _, err := awaitMuxStatus(ctx, mux, proc); err != nil {
		return nil, err
	}

	board, err := loadgen.NewBoard(o.texts)
	if err != nil {
		return nil, err
	}
	visit := func(s loadgen.Script) ([]time.Duration, error) {
		c, err := mux.Start(s)
		if err != nil {
			return nil, err
		}
		if err := c.Wait(ctx, loadgen.DefaultTimeout); err != nil {
			return nil, fmt.Errorf("bench: scale: %w", err)
		}
		return c.RoundTrips(), nil
	}
	// The seed receives the active caller's private messages; the active
	// caller registers before the baseline.
	if _, err := visit(board.Visit("seed", "pw-seed", true, []string{"Q"}, "")); err != nil {
		return nil, err
	}
	if _, err := visit(board.Visit("active", "pw-active", true, nil, "seed")); err != nil {
		return nil, err
	}
	base, err := loadgen.ReadProc(proc.pid())
	if err != nil {
		return nil, err
	}
	baseStatus, err := muxStatus(ctx, mux)
	if err != nil {
		return nil, err
	}

	parkCtx := ctx
	if o.idleBudget > 0 {
		var cancel context.CancelFunc
		parkCtx, cancel = context.WithTimeout(ctx, o.idleBudget)
		defer cancel()
	}
	parked, parking := 0, time.Duration(0)
	for _, n := range o.idle {
		if n <= parked {
			continue
		}
		scripts := make([]loadgen.Script, 0, n-parked)
		for i := parked; i < n; i++ {
			name := "idle" + strconv.Itoa(i)
			scripts = append(scripts, board.Visit(name, "pw-"+name, true, []string{}, ""))
		}
		start, parked0 := time.Now(), parked
		parkErr := mux.Park(parkCtx, scripts, parkWindow, time.Minute)
		step := scaleStep{target: n, baseRSS: base.RSS, baseHeap: baseStatus.HeapBytes}
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case parkCtx.Err() != nil:
			step.failure = fmt.Sprintf("the -idle-budget of %v ran out", o.idleBudget)
		case parkErr != nil:
			step.failure = fmt.Sprintf("parking failed: %v; the host's log ends: %s", parkErr, lastLines(proc.log.String(), 2))
		}
		parkTime := time.Since(start)
		parking += parkTime
		step.elapsed = parking
		parked = n
		if err := o.awaitAsleep(ctx, mux, &step); err != nil {
			return nil, err
		}

		var samples []time.Duration
		for end := time.Now().Add(o.active); time.Now().Before(end); {
			rts, err := visit(board.Visit("active", "pw-active", false, nil, "seed"))
			if err != nil {
				return nil, err
			}
			samples = append(samples, rts...)
		}
		step.active = loadgen.NewLatencies(samples)

		ps, err := loadgen.ReadProc(proc.pid())
		if err != nil {
			return nil, err
		}
		st, err := muxStatus(ctx, mux)
		if err != nil {
			return nil, err
		}
		step.callers = int(st.Sessions.Active)
		step.loginsPerSecond = float64(step.callers-parked0) / parkTime.Seconds()
		step.rss, step.heap, step.goroutines = ps.RSS, st.HeapBytes, st.Goroutines
		step.asleep = int(st.Sessions.Asleep)
		if err := o.wakeSample(ctx, mux, proc, &step); err != nil {
			return nil, err
		}
		step.hostErrors, step.muxStats = hostErrors(st), mux.Stats()
		steps = append(steps, step)
		if step.failure != "" {
			break
		}
	}
	return steps, nil
}

// awaitMuxStatus waits until the host answers its status page over the
// mux.
func awaitMuxStatus(ctx context.Context, mux *loadgen.Mux, proc *child) (dispatch.Status, error) {
	deadline := time.Now().Add(startTimeout)
	for {
		if err := proc.alive(); err != nil {
			return dispatch.Status{}, err
		}
		st, err := muxStatus(ctx, mux)
		if err == nil {
			return st, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return dispatch.Status{}, fmt.Errorf("bench: the host never answered its status page: %w", err)
		}
	}
}

// muxStatus reads the host's status page over the mux.
func muxStatus(ctx context.Context, mux *loadgen.Mux) (dispatch.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	body, err := mux.Status(ctx, dispatch.StatusPath+"?online=0")
	if err != nil {
		return dispatch.Status{}, err
	}
	var st dispatch.Status
	if err := json.Unmarshal(body, &st); err != nil {
		return dispatch.Status{}, fmt.Errorf("bench: status: %w", err)
	}
	return st, nil
}

// awaitAsleep waits, up to -hibernate-wait, until every session the host
// holds is hibernated (the callers parked last sat at the menu for less
// than the host's -hibernate-after), so that the step measures callers
// who have been idle a while.
func (o *benchOptions) awaitAsleep(ctx context.Context, mux *loadgen.Mux, step *scaleStep) error {
	start := time.Now()
	for time.Since(start) < o.hibernateWait {
		st, err := muxStatus(ctx, mux)
		if err != nil {
			return err
		}
		if st.Sessions.Asleep >= st.Sessions.Active {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	step.asleepWait = time.Since(start)
	return nil
}

// wakeSample wakes up to -wake-sample hibernated callers, one at a time,
// each with a line the main menu does not know (it shows its error screen
// and asks again), and keeps the round trips and the host's CPU per
// wake-up. They go back to sleep after -hibernate-after.
func (o *benchOptions) wakeSample(ctx context.Context, mux *loadgen.Mux, proc *child, step *scaleStep) error {
	if o.wakeSampleSize <= 0 || step.asleep == 0 {
		return nil
	}
	calls := mux.ParkedCalls(o.wakeSampleSize)
	before, err := loadgen.ReadProc(proc.pid())
	if err != nil {
		return err
	}
	var samples []time.Duration
	for _, c := range calls {
		next, err := mux.Continue(c, "x", loadgen.ParkAtPrompt{})
		if err != nil {
			return err
		}
		if err := next.Wait(ctx, loadgen.DefaultTimeout); err != nil {
			return fmt.Errorf("bench: scale: wake-up: %w", err)
		}
		samples = append(samples, next.RoundTrips()...)
	}
	after, err := loadgen.ReadProc(proc.pid())
	if err != nil {
		return err
	}
	step.wake = loadgen.NewLatencies(samples)
	if len(calls) > 0 {
		step.wakeCPU = (after.CPU - before.CPU) / time.Duration(len(calls))
	}
	return nil
}
