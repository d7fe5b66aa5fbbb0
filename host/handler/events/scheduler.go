package events

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/shared/lograte"
)

// Grace is how late a due time may be seen and still count as on time;
// later, it was missed (the board was down) and the event's Missed says
// what happens.
const Grace = time.Minute

// DefaultTick is how often Run looks at the clock.
const DefaultTick = time.Second

// Causes of a run, as stored.
const (
	CauseSchedule = "schedule"
	CauseCatchUp  = "catch-up"
	CauseSysop    = "sysop"
)

// Outcomes of a run, as stored.
const (
	OutcomeOK       = "ok"
	OutcomeError    = "error"
	OutcomeTimedOut = "timed out"
	OutcomeSkipped  = "skipped"
)

// Result is how one run went.
type Result struct {
	// Outcome is OutcomeOK, OutcomeError or OutcomeTimedOut.
	Outcome string
	// Error is the error, with the script's file:line.
	Error string
	// Started and Ended bound the run, by the Runner's clock.
	Started, Ended time.Time
}

// Call is one run asked of a Runner.
type Call struct {
	Name string
	// Cause is CauseSchedule, CauseCatchUp or CauseSysop.
	Cause string
	// Due is the due time the run is for (zero for CauseSysop).
	Due time.Time
}

// Runner runs an event's function once and says how it went. The host's
// runs it on one of its Lua workers, within the resume budget.
type Runner interface {
	RunEvent(ctx context.Context, c Call) Result
}

// Scheduler runs the events due. Its fields are set before Run or Tick
// and not changed after.
type Scheduler struct {
	Store  store.Events
	Runner Runner
	// Events lists the events declared now (the scripts may be reloaded
	// between two ticks).
	Events func() []Event
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Host names this host in the runs it stores.
	Host string
	Log  *slog.Logger

	// noisy writes the store's warnings, a few a minute (a failing
	// database would otherwise get one a tick per event).
	noisy     *lograte.Limiter
	noisyOnce sync.Once
}

// Run ticks every interval (DefaultTick when zero) until ctx is done.
func (s *Scheduler) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultTick
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		s.Tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// Tick runs each event that is due now, one after the other, and
// returns the runs this host stored (skipped ones included).
func (s *Scheduler) Tick(ctx context.Context) []store.EventRun {
	var done []store.EventRun
	for _, e := range s.Events() {
		if ctx.Err() != nil {
			break
		}
		if run, ok := s.tickOne(ctx, e); ok {
			done = append(done, run)
		}
	}
	return done
}

// tickOne runs e if it is due and this host claims it.
func (s *Scheduler) tickOne(ctx context.Context, e Event) (store.EventRun, bool) {
	now := s.now()
	due, err := s.Store.EventDue(ctx, e.Name, e.Key(), e.Next(now))
	if err != nil {
		s.warn("event: reading its due time", "event", e.Name, "err", err)
		return store.EventRun{}, false
	}
	if now.Before(due) {
		return store.EventRun{}, false
	}
	claimed, err := s.Store.ClaimEvent(ctx, e.Name, due, e.Next(now))
	if err != nil || !claimed {
		if err != nil {
			s.warn("event: claiming its run", "event", e.Name, "err", err)
		}
		return store.EventRun{}, false // another host has it
	}
	late := now.Sub(due) > Grace
	if late && e.Missed == MissedSkip {
		run := store.EventRun{Event: e.Name, Cause: CauseSchedule, Outcome: OutcomeSkipped, Host: s.Host,
			Error:   fmt.Sprintf("missed: due %s, the board was down (missed = 'skip')", due.In(e.Zone).Format(time.DateTime+" MST")),
			Started: now, Ended: now}
		s.record(ctx, run)
		return run, true
	}
	cause := CauseSchedule
	if late {
		cause = CauseCatchUp
	}
	return s.run(ctx, Call{Name: e.Name, Cause: cause, Due: due}), true
}

// RunNow runs the event name at once (the sysop's m2bbs events -run),
// whatever its schedule, and stores the run; its due time is unchanged.
func (s *Scheduler) RunNow(ctx context.Context, name string) (store.EventRun, error) {
	for _, e := range s.Events() {
		if e.Name == name {
			return s.run(ctx, Call{Name: name, Cause: CauseSysop}), nil
		}
	}
	return store.EventRun{}, fmt.Errorf("%w: %q", ErrUnknown, name)
}

// run has the Runner run c, then stores and logs the run.
func (s *Scheduler) run(ctx context.Context, c Call) store.EventRun {
	s.log().Info("event started", "event", c.Name, "cause", c.Cause)
	res := s.Runner.RunEvent(ctx, c)
	run := store.EventRun{Event: c.Name, Cause: c.Cause, Outcome: res.Outcome, Error: res.Error, Host: s.Host,
		Started: res.Started, Ended: res.Ended}
	s.record(ctx, run)
	return run
}

// record stores run, then logs its end (so that the log line says the
// run is stored).
func (s *Scheduler) record(ctx context.Context, run store.EventRun) {
	if err := s.Store.RecordEventRun(context.WithoutCancel(ctx), run); err != nil {
		s.warn("event: storing its run", "event", run.Event, "err", err)
	}
	attrs := []any{"event", run.Event, "cause", run.Cause, "outcome", run.Outcome,
		"duration", run.Duration().Round(time.Millisecond)}
	switch run.Outcome {
	case OutcomeOK:
		s.log().Info("event ended", attrs...)
	case OutcomeSkipped:
		s.log().Warn("event skipped", append(attrs, "why", run.Error)...)
	default:
		s.log().Error("event failed", append(attrs, "err", run.Error)...)
	}
}

func (s *Scheduler) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// warn logs a store's failure, rate-limited.
func (s *Scheduler) warn(msg string, args ...any) {
	s.noisyOnce.Do(func() { s.noisy = lograte.New(s.log(), 0, 0) })
	s.noisy.Warn(msg, args...)
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}
