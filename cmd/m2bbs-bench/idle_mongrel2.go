package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/m2bbs/m2bbs/cmd/m2bbs-bench/internal/loadgen"
	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/handler/dispatch"
	"github.com/m2bbs/m2bbs/host/message"
)

// m2ParkWindow is how many callers connect to Mongrel2 at once while
// parking.
const m2ParkWindow = 128

// m2IdleRoundTrips is how many round trips one parked caller makes once
// the others are parked.
const m2IdleRoundTrips = 20

// idleMongrel2Result is what the -mongrel2-idle step measured: callers
// parked behind a real Mongrel2 sized for them by `m2bbs m2conf
// -callers`, with the echo floor as the handler.
type idleMongrel2Result struct {
	// target is the callers asked for; fit how many the open-file limit
	// gives Mongrel2 room for (mongrel2.Tuning.Callers).
	target, fit int
	// parked got their first answer; lost got none to a second line sent
	// by all at once, or never parked.
	parked, lost int
	parkTime     time.Duration
	// rss is Mongrel2's resident memory with every caller parked.
	rss uint64
	// roundTrip is the median of one parked caller's round trips while
	// the others stay silent.
	roundTrip time.Duration
	// stalled says whether Mongrel2 logged "Too many handler requests
	// outstanding" (it ran out of hot poll slots).
	stalled bool
}

func (r idleMongrel2Result) String() string {
	line := fmt.Sprintf("behind Mongrel2 1.12 sized for %d callers (room for %d): %d idle callers parked in %v, %d lost, Mongrel2 RSS %.0f MiB (%.1f KiB per caller), a parked caller's round trip %v (median), out of poll slots: %v",
		r.target, r.fit, r.parked, r.parkTime.Round(time.Millisecond), r.lost,
		float64(r.rss)/(1<<20), float64(r.rss)/1024/float64(max(r.parked, 1)), r.roundTrip.Round(10*time.Microsecond), r.stalled)
	if r.fit < r.target {
		line += fmt.Sprintf(" (this shell's open-file limit leaves room for %d callers only: the step needs ulimit -n %d)", r.fit, mongrel2.FileLimitFor(r.target))
	}
	return line
}

// met says whether every caller parked and none was lost.
func (r idleMongrel2Result) met() bool { return r.parked == r.target && r.lost == 0 && !r.stalled }

// idleMongrel2 parks n callers behind a real Mongrel2 configured for n
// (with the echo floor behind it), times one parked caller's round trips,
// then has all of them send a line at once: a caller that gets no answer
// within loadgen.DefaultTimeout is lost.
func (o *benchOptions) idleMongrel2(ctx context.Context, n int) (r idleMongrel2Result, err error) {
	r.target = n
	dir, err := os.MkdirTemp(o.tmp, "mongrel2-idle-")
	if err != nil {
		return r, err
	}
	s := &system{front: frontMongrel2, handler: handlerEcho}
	defer func() {
		if stopErr := s.stop(); stopErr != nil {
			err = errors.Join(err, fmt.Errorf("bench: %w", stopErr))
		}
	}()
	startCtx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	s.m2, err = mongrel2.Start(startCtx, mongrel2.Config{
		Dir: filepath.Join(dir, "mongrel2"), SenderID: benchSender, HTTPRoutes: []string{dispatch.StatusPath}, Callers: n,
	})
	if err != nil {
		return r, fmt.Errorf("bench: %w", err)
	}
	r.fit = s.m2.Cfg.Tuning().Callers
	s.addr = s.m2.Addr()
	exe, name, args, err := o.handlerCmd(handlerEcho, boardSpec{}, dir, s.m2.Cfg.SendSpec, s.m2.Cfg.RecvSpec, "")
	if err != nil {
		return r, err
	}
	if s.handlerProc, err = o.startChild(name, exe, o.hostEnv, args...); err != nil {
		return r, err
	}
	if err := s.awaitStatus(ctx); err != nil {
		return r, err
	}

	start := time.Now()
	callers := parkEchoCallers(ctx, s.addr, n)
	defer func() {
		for _, c := range callers {
			if c != nil {
				c.Close()
			}
		}
	}()
	r.parkTime = time.Since(start)
	for _, c := range callers {
		if c != nil {
			r.parked++
		}
	}
	ps, err := loadgen.ReadProc(s.m2.PID)
	if err != nil {
		return r, err
	}
	r.rss = ps.RSS
	if r.parked > 0 {
		i := slices.IndexFunc(callers, func(c *classic.Client) bool { return c != nil })
		if r.roundTrip, err = medianRoundTrip(callers[i]); err != nil {
			return r, fmt.Errorf("bench: a parked caller behind Mongrel2: %w", err)
		}
	}
	r.lost = n - r.parked + echoAll(callers)
	log, _ := os.ReadFile(filepath.Join(s.m2.Cfg.Dir, "logs", "error.log"))
	r.stalled = bytes.Contains(log, []byte("Too many handler requests outstanding"))
	return r, nil
}

// parkEchoCallers connects n callers, m2ParkWindow at a time; each says
// hello and waits for the echo. A caller that fails is closed and left
// nil.
func parkEchoCallers(ctx context.Context, addr string, n int) []*classic.Client {
	callers := make([]*classic.Client, n)
	sem := make(chan struct{}, m2ParkWindow)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, err := classic.Dial(ctx, addr, loadgen.DefaultRoute, false)
			if err != nil {
				return
			}
			if err := echoOnce(c, ""); err != nil {
				c.Close()
				return
			}
			callers[i] = c
		}()
	}
	wg.Wait()
	return callers
}

// echoOnce sends line (the connect message if empty) and checks its echo.
func echoOnce(c *classic.Client, line string) error {
	send, want := c.Send, line
	if line == "" {
		send, want = func(string) error { return c.Connect() }, "connect"
	}
	if err := send(line); err != nil {
		return err
	}
	m, err := c.Next(loadgen.DefaultTimeout)
	if err != nil {
		return err
	}
	if m.Type != message.TypePrompt || m.Msg != want {
		return fmt.Errorf("got %s %q, want the echo of %q", m.Type, m.Msg, want)
	}
	return nil
}

// medianRoundTrip is the median of m2IdleRoundTrips round trips of c.
func medianRoundTrip(c *classic.Client) (time.Duration, error) {
	rts := make([]time.Duration, 0, m2IdleRoundTrips)
	for i := range m2IdleRoundTrips {
		t0 := time.Now()
		if err := echoOnce(c, fmt.Sprintf("round trip %d", i)); err != nil {
			return 0, err
		}
		rts = append(rts, time.Since(t0))
	}
	slices.Sort(rts)
	return rts[len(rts)/2], nil
}

// echoAll has every parked caller send a line at once and counts those
// that get no echo.
func echoAll(callers []*classic.Client) int {
	var lost atomic.Int64
	var wg sync.WaitGroup
	for _, c := range callers {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if echoOnce(c, "still there?") != nil {
				lost.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(lost.Load())
}

// idleMongrel2Step runs the -mongrel2-idle step if it is on and returns
// its line for the end of the report ("" if it is off).
func (o *benchOptions) idleMongrel2Step(ctx context.Context) (string, error) {
	n := o.mongrel2Idle
	if n == 0 && len(o.idle) > 0 {
		n = o.idle[0]
	}
	if !o.withMongrel2 || n <= 0 {
		return "", nil
	}
	r, err := o.idleMongrel2(ctx, n)
	if err != nil {
		return "", err
	}
	o.progress("%s", r)
	verdict := "met"
	if !r.met() {
		verdict = "MISSED"
	}
	return fmt.Sprintf("\n%d idle callers behind Mongrel2, none lost: %s\n  %s\n", n, verdict, r), nil
}
