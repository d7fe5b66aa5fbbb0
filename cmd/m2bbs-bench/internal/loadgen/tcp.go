package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
)

// Defaults for Config.
const (
	DefaultRoute   = "@bbs"
	DefaultTimeout = 10 * time.Second
	DefaultDrain   = 15 * time.Second
	// maxErrorSamples bounds the error texts a Result keeps.
	maxErrorSamples = 5
)

// Config says how Run loads a board.
type Config struct {
	// Addr is the front end's caller address (host:port).
	Addr string
	// Route is the JSON-socket route; DefaultRoute when empty.
	Route string
	// Raw says the board sends raw JSON frames instead of base64.
	Raw bool
	// Callers is how many callers visit at once, each on a connection of
	// its own, one visit after another.
	Callers int
	// Scripts makes each visit's script.
	Scripts ScriptFactory
	// Warmup is how long callers run before the measuring window opens;
	// Duration how long it stays open.
	Warmup, Duration time.Duration
	// Ramp spreads the callers' first visits evenly over this time from
	// the start (at most Warmup), so that they do not all log in at once.
	Ramp time.Duration
	// Think is the pause before each answer: each pause is drawn
	// uniformly from [Think/2, 3·Think/2]. Zero: callers answer at once.
	// After the window callers no longer pause.
	Think time.Duration
	// Timeout bounds each wait for a message (DefaultTimeout when zero).
	Timeout time.Duration
	// Drain bounds how long callers may take to finish their visit after
	// the window closes (DefaultDrain when zero); no visit starts after
	// the window.
	Drain time.Duration
	// OnWindow, if set, is called as the measuring window opens (true) and
	// closes (false), from a goroutine of Run's.
	OnWindow func(open bool)
	// OnVisit, if set, is called after each visit with its script and
	// error, from the caller's goroutine; also after a visit cut off at
	// the end of the drain (its error is then the context's).
	OnVisit func(s Script, err error)
	// Arrivals, if positive, makes the load open: a visit starts every
	// 1/Arrivals seconds from the start until the window closes, each by a
	// caller of its own (caller i plays Scripts(i, 0)), however many are
	// still in their visits; Callers and Ramp are then unused.
	Arrivals float64
}

// Result is what Run measured. Rates count only what finished inside the
// measuring window; errors count every visit.
type Result struct {
	Callers int
	// Window is how long the measuring window was open.
	Window time.Duration
	// Visits is the number of visits that ended inside the window, and
	// RoundTrips the prompt round trips; Latency holds the latter's times.
	Visits, RoundTrips int
	Latency            Latencies
	// ByStep sorts the round trips by the step of the visit they answered,
	// for scripts that are Steppers.
	ByStep map[string]Latencies
	// AllVisits counts the visits that ended at any time; Errors those that
	// failed, and ErrorSamples quotes the first few.
	AllVisits, Errors int
	ErrorSamples      []string
}

// VisitsPerSecond is the rate of visits in the window.
func (r Result) VisitsPerSecond() float64 { return float64(r.Visits) / r.Window.Seconds() }

// RoundTripsPerSecond is the rate of prompt round trips in the window.
func (r Result) RoundTripsPerSecond() float64 { return float64(r.RoundTrips) / r.Window.Seconds() }

// window is the measuring window's bounds.
type window struct{ open, close time.Time }

func (w window) holds(t time.Time) bool { return !t.Before(w.open) && t.Before(w.close) }

// callerTally is one caller's share of the Result.
type callerTally struct {
	samples                   []time.Duration
	byStep                    map[string][]time.Duration
	visits, allVisits, errors int
	errorSamples              []string
}

// Run plays cfg.Callers callers against the board at cfg.Addr for the
// warm-up and the measuring window, lets their last visits finish, and
// reports. It returns an error only for a bad Config or when ctx ends
// first.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Arrivals > 0 {
		cfg.Callers = max(cfg.Callers, 1)
	}
	if cfg.Callers <= 0 || cfg.Scripts == nil || cfg.Duration <= 0 || cfg.Addr == "" {
		return Result{}, errors.New("loadgen: run needs an address, callers, scripts and a duration")
	}
	if cfg.Route == "" {
		cfg.Route = DefaultRoute
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Drain <= 0 {
		cfg.Drain = DefaultDrain
	}
	start := time.Now()
	win := window{open: start.Add(cfg.Warmup), close: start.Add(cfg.Warmup + cfg.Duration)}
	// Callers stop starting visits when the window closes; a visit still
	// going after the drain is cut off.
	stopVisits, cancelVisits := context.WithDeadline(ctx, win.close)
	defer cancelVisits()
	drained, cancelDrain := context.WithDeadline(ctx, win.close.Add(cfg.Drain))
	defer cancelDrain()

	var timers sync.WaitGroup
	if cfg.OnWindow != nil {
		timers.Go(func() {
			for _, at := range []struct {
				t    time.Time
				open bool
			}{{win.open, true}, {win.close, false}} {
				select {
				case <-time.After(time.Until(at.t)):
					cfg.OnWindow(at.open)
				case <-drained.Done():
					// The callers may finish right as the window closes:
					// an event whose time has come is still told.
					if time.Now().Before(at.t) {
						return
					}
					cfg.OnWindow(at.open)
				}
			}
		})
	}

	var tallies []callerTally
	if cfg.Arrivals > 0 {
		tallies = arrive(stopVisits, drained, &cfg, win, start)
	} else {
		tallies = loop(stopVisits, drained, &cfg, win, start)
	}
	cancelDrain()
	timers.Wait()
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("loadgen: run: %w", err)
	}

	r := Result{Callers: len(tallies), Window: cfg.Duration}
	var all []time.Duration
	steps := map[string][]time.Duration{}
	for _, t := range tallies {
		all = append(all, t.samples...)
		for step, s := range t.byStep {
			steps[step] = append(steps[step], s...)
		}
		r.Visits += t.visits
		r.AllVisits += t.allVisits
		r.Errors += t.errors
		for _, e := range t.errorSamples {
			if len(r.ErrorSamples) < maxErrorSamples {
				r.ErrorSamples = append(r.ErrorSamples, e)
			}
		}
	}
	r.RoundTrips = len(all)
	r.Latency = NewLatencies(all)
	if len(steps) > 0 {
		r.ByStep = make(map[string]Latencies, len(steps))
		for step, s := range steps {
			r.ByStep[step] = NewLatencies(s)
		}
	}
	return r, nil
}

// loop runs cfg.Callers callers, each playing one visit after another
// until stop ends, and returns their tallies.
func loop(stop, drained context.Context, cfg *Config, win window, start time.Time) []callerTally {
	tallies := make([]callerTally, cfg.Callers)
	var wg sync.WaitGroup
	ramp := min(max(cfg.Ramp, 0), cfg.Warmup)
	for i := range cfg.Callers {
		wg.Go(func() {
			c := caller{cfg: cfg, id: i, win: win, tally: &tallies[i],
				rng: rand.New(rand.NewPCG(uint64(i), uint64(start.UnixNano())))}
			if ramp > 0 {
				t := time.NewTimer(time.Until(start.Add(ramp * time.Duration(i) / time.Duration(cfg.Callers))))
				select {
				case <-t.C:
				case <-stop.Done():
				}
				t.Stop()
			}
			for visit := 0; stop.Err() == nil; visit++ {
				c.visit(drained, visit)
			}
		})
	}
	wg.Wait()
	return tallies
}

// arrive starts a visit every 1/cfg.Arrivals seconds until stop ends,
// each by a caller of its own, waits for them all and returns their
// tallies.
func arrive(stop, drained context.Context, cfg *Config, win window, start time.Time) []callerTally {
	var (
		tallies []*callerTally
		wg      sync.WaitGroup
	)
	every := time.Duration(float64(time.Second) / cfg.Arrivals)
	t := time.NewTimer(0)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-t.C:
		case <-stop.Done():
			wg.Wait()
			out := make([]callerTally, len(tallies))
			for j, tally := range tallies {
				out[j] = *tally
			}
			return out
		}
		t.Reset(time.Until(start.Add(every * time.Duration(i+1))))
		tally := &callerTally{}
		tallies = append(tallies, tally)
		wg.Go(func() {
			c := caller{cfg: cfg, id: i, win: win, tally: tally,
				rng: rand.New(rand.NewPCG(uint64(i), uint64(start.UnixNano())))}
			c.visit(drained, 0)
		})
	}
}

// caller is one of Run's callers.
type caller struct {
	cfg   *Config
	id    int
	win   window
	tally *callerTally
	rng   *rand.Rand
}

// visit plays one visit and tallies it.
func (c *caller) visit(ctx context.Context, n int) {
	script := c.cfg.Scripts(c.id, n)
	err := c.play(ctx, script)
	if err != nil && ctx.Err() != nil {
		// Cut off by the drain deadline or the caller of Run: not a
		// failure, but what the visit did so far counts.
		if c.cfg.OnVisit != nil {
			c.cfg.OnVisit(script, err)
		}
		return
	}
	c.tally.allVisits++
	if err != nil {
		c.tally.errors++
		if len(c.tally.errorSamples) < maxErrorSamples {
			c.tally.errorSamples = append(c.tally.errorSamples, fmt.Sprintf("caller %d visit %d: %v", c.id, n, err))
		}
	} else if c.win.holds(time.Now()) {
		c.tally.visits++
	}
	if c.cfg.OnVisit != nil {
		c.cfg.OnVisit(script, err)
	}
}

// play connects, plays script to its end and hangs up.
func (c *caller) play(ctx context.Context, script Script) error {
	client, err := classic.Dial(ctx, c.cfg.Addr, c.cfg.Route, c.cfg.Raw)
	if err != nil {
		return err
	}
	defer client.Close()
	// Hang up when the run is cut off, so a blocked read returns.
	stop := context.AfterFunc(ctx, func() { client.Close() })
	defer stop()

	stepper, _ := script.(Stepper)
	step := "connect"
	sent := time.Now()
	if err := client.Connect(); err != nil {
		return err
	}
	for {
		m, err := client.Next(c.cfg.Timeout)
		if err != nil {
			return err
		}
		now := time.Now()
		act, line, err := script.Handle(m)
		if err != nil {
			return err
		}
		if act == Read {
			continue
		}
		if c.win.holds(now) {
			c.tally.samples = append(c.tally.samples, now.Sub(sent))
			if stepper != nil {
				if c.tally.byStep == nil {
					c.tally.byStep = map[string][]time.Duration{}
				}
				c.tally.byStep[step] = append(c.tally.byStep[step], now.Sub(sent))
			}
		}
		switch act {
		case Leave:
			return awaitHangUp(client, c.cfg.Timeout)
		case HangUp, Park:
			return nil
		}
		if err := c.think(ctx); err != nil {
			return err
		}
		if stepper != nil {
			step = stepper.Step()
		}
		sent = time.Now()
		if err := client.Send(line); err != nil {
			return err
		}
	}
}

// think pauses before an answer. Once the window has closed callers stop
// thinking, so that their last visits end quickly.
func (c *caller) think(ctx context.Context) error {
	if c.cfg.Think <= 0 {
		return nil
	}
	d := c.cfg.Think/2 + time.Duration(c.rng.Int64N(int64(c.cfg.Think)+1))
	d = min(d, time.Until(c.win.close))
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// awaitHangUp waits for the board to close the connection after its
// goodbye; any further message is an error.
func awaitHangUp(client *classic.Client, timeout time.Duration) error {
	m, err := client.Next(timeout)
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case err != nil:
		return fmt.Errorf("loadgen: waiting for the hang-up: %w", err)
	}
	return fmt.Errorf("loadgen: %w after the goodbye: %s %q", ErrUnexpected, m.Type, m.Msg)
}

// Play runs one visit on a connection of its own, outside any load: to
// seed a board, or to check it after a run.
func Play(ctx context.Context, addr string, raw bool, script Script) error {
	return PlayWithin(ctx, addr, raw, script, DefaultTimeout)
}

// PlayWithin is Play waiting up to timeout for each message: for a board
// still working off a backlog (slow hashes) when the visit starts.
func PlayWithin(ctx context.Context, addr string, raw bool, script Script, timeout time.Duration) error {
	c := caller{cfg: &Config{Addr: addr, Route: DefaultRoute, Raw: raw, Timeout: timeout}, tally: &callerTally{}}
	return c.play(ctx, script)
}
