package events

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// clock is a fake clock a test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// runner records the runs it is asked for; each takes no time.
type runner struct {
	mu    sync.Mutex
	clock *clock
	runs  []string // "name/cause"
}

func (r *runner) RunEvent(_ context.Context, c Call) Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.runs = append(r.runs, c.Name+"/"+c.Cause)
	now := r.clock.Now()
	return Result{Outcome: OutcomeOK, Started: now, Ended: now}
}

func (r *runner) count() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.runs) }

func openStore(t *testing.T, path string) *store.SQLite {
	t.Helper()
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func newScheduler(t *testing.T, db store.Events, c *clock, evs ...Event) (*Scheduler, *runner) {
	r := &runner{clock: c}
	return &Scheduler{Store: db, Runner: r, Events: func() []Event { return evs }, Now: c.Now, Host: "test"}, r
}

func event(t *testing.T, name, sched string, loc *time.Location, missed Missed) Event {
	return Event{Name: name, Schedule: mustParse(t, sched), Zone: loc, Missed: missed}
}

// A daily event runs once a day at its time, and not at first sight.
func TestSchedulerRunsWhenDue(t *testing.T) {
	london := zone(t, "Europe/London")
	c := &clock{t: time.Date(2026, 1, 10, 2, 0, 0, 0, london)}
	db := openStore(t, filepath.Join(t.TempDir(), "bbs.db"))
	s, r := newScheduler(t, db, c, event(t, "nightly", "daily 03:00", london, MissedOnce))
	ctx := context.Background()
	for _, step := range []struct {
		at   time.Time
		runs int
	}{
		{time.Date(2026, 1, 10, 2, 0, 0, 0, london), 0},
		{time.Date(2026, 1, 10, 2, 59, 59, 0, london), 0},
		{time.Date(2026, 1, 10, 3, 0, 0, 0, london), 1},
		{time.Date(2026, 1, 10, 3, 0, 1, 0, london), 1}, // not twice
		{time.Date(2026, 1, 11, 3, 0, 30, 0, london), 2},
	} {
		c.Set(step.at)
		s.Tick(ctx)
		if got := r.count(); got != step.runs {
			t.Fatalf("at %s: %d runs, want %d", step.at, got, step.runs)
		}
	}
	list, err := db.EventList(ctx, 5)
	if err != nil || len(list) != 1 || len(list[0].Runs) != 2 || list[0].Runs[0].Outcome != OutcomeOK {
		t.Fatalf("EventList = %+v, %v", list, err)
	}
	if want := time.Date(2026, 1, 12, 3, 0, 0, 0, london); !list[0].NextDue.Equal(want) {
		t.Errorf("next due %s, want %s", list[0].NextDue, want)
	}
}

// After a downtime over several due times, missed = 'once' runs one
// catch-up at start and 'skip' stores a skipped run; both then wait for
// their next time.
func TestSchedulerMissedRuns(t *testing.T) {
	london := zone(t, "Europe/London")
	path := filepath.Join(t.TempDir(), "bbs.db")
	c := &clock{t: time.Date(2026, 1, 10, 12, 0, 0, 0, london)}
	once := event(t, "maintenance", "daily 03:00", london, MissedOnce)
	skip := event(t, "bulletin", "every 1h", london, MissedSkip)
	ctx := context.Background()

	db := openStore(t, path)
	s, r := newScheduler(t, db, c, once, skip)
	s.Tick(ctx) // the board first sees them: nothing runs
	if r.count() != 0 {
		t.Fatalf("runs at first sight: %v", r.runs)
	}
	_ = db.Close()

	// Down for three days; back at 15:20.
	c.Set(time.Date(2026, 1, 13, 15, 20, 0, 0, london))
	db = openStore(t, path)
	s, r = newScheduler(t, db, c, once, skip)
	done := s.Tick(ctx)
	if len(r.runs) != 1 || r.runs[0] != "maintenance/catch-up" {
		t.Fatalf("after the downtime ran %v, want one catch-up of maintenance", r.runs)
	}
	if len(done) != 2 || done[1].Event != "bulletin" || done[1].Outcome != OutcomeSkipped {
		t.Fatalf("runs stored %+v, want the bulletin skipped", done)
	}
	s.Tick(ctx) // nothing more until their next times
	c.Set(time.Date(2026, 1, 13, 16, 0, 0, 0, london))
	s.Tick(ctx)
	if want := []string{"maintenance/catch-up", "bulletin/schedule"}; len(r.runs) != 2 || r.runs[1] != want[1] {
		t.Fatalf("runs %v, want %v", r.runs, want)
	}
	c.Set(time.Date(2026, 1, 14, 3, 0, 0, 0, london))
	s.Tick(ctx)
	if r.runs[len(r.runs)-1] != "maintenance/schedule" {
		t.Fatalf("runs %v: maintenance did not run at 03:00 the next day", r.runs)
	}
}

// Two hosts of one board (two stores on one database file, as phone
// lines have) tick at the same moments: each due run happens once.
func TestSchedulerOncePerBoard(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bbs.db")
	c := &clock{t: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}
	ev := event(t, "tick", "every 10s", time.UTC, MissedOnce)
	a, ra := newScheduler(t, openStore(t, path), c, ev)
	b, rb := newScheduler(t, openStore(t, path), c, ev)
	ctx := context.Background()
	a.Tick(ctx)
	b.Tick(ctx)
	const rounds = 30
	for i := 1; i <= rounds; i++ {
		c.Set(c.Now().Add(10 * time.Second))
		var wg sync.WaitGroup
		for _, s := range []*Scheduler{a, b} {
			wg.Add(1)
			go func() { defer wg.Done(); s.Tick(ctx) }()
		}
		wg.Wait()
		if got := ra.count() + rb.count(); got != i {
			t.Fatalf("after round %d: %d runs on host a, %d on b, want %d in all", i, ra.count(), rb.count(), i)
		}
	}
	list, err := a.Store.EventList(ctx, 100)
	if err != nil || len(list[0].Runs) != store.KeepEventRuns {
		t.Fatalf("stored runs: %d, %v; want the last %d kept", len(list[0].Runs), err, store.KeepEventRuns)
	}
}

// A changed schedule resets the due time; RunNow runs at once.
func TestSchedulerChangedScheduleAndRunNow(t *testing.T) {
	c := &clock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}
	db := openStore(t, filepath.Join(t.TempDir(), "bbs.db"))
	s, r := newScheduler(t, db, c, event(t, "job", "daily 23:00", time.UTC, MissedOnce))
	ctx := context.Background()
	s.Tick(ctx)
	s.Events = func() []Event { return []Event{event(t, "job", "daily 11:00", time.UTC, MissedOnce)} }
	s.Tick(ctx)
	c.Set(time.Date(2026, 5, 1, 11, 0, 0, 0, time.UTC))
	s.Tick(ctx)
	if len(r.runs) != 1 {
		t.Fatalf("runs %v, want one at the new time", r.runs)
	}
	run, err := s.RunNow(ctx, "job")
	if err != nil || run.Cause != CauseSysop || len(r.runs) != 2 {
		t.Fatalf("RunNow = %+v, %v (runs %v)", run, err, r.runs)
	}
	if _, err := s.RunNow(ctx, "nope"); err == nil {
		t.Fatal("RunNow of an undeclared event succeeded")
	}
}

// dueRunner records the due time of each run.
type dueRunner struct{ dues []time.Time }

func (r *dueRunner) RunEvent(_ context.Context, c Call) Result {
	r.dues = append(r.dues, c.Due)
	return Result{Outcome: OutcomeOK}
}

// A daily 02:30 job in Berlin, the scheduler ticking every minute across
// both clock changes of 2026: once a day, at the jump on the spring day,
// the first 02:30 on the autumn day.
func TestSchedulerAcrossClockChanges(t *testing.T) {
	berlin := zone(t, "Europe/Berlin")
	ev := event(t, "backup", "daily 02:30", berlin, MissedOnce)
	for _, tc := range []struct {
		name string
		from time.Time
		want []string // the runs, in Berlin time
	}{
		{"spring", time.Date(2026, 3, 27, 12, 0, 0, 0, time.UTC),
			[]string{"03-28 02:30 CET", "03-29 03:00 CEST", "03-30 02:30 CEST"}},
		{"autumn", time.Date(2026, 10, 23, 12, 0, 0, 0, time.UTC),
			[]string{"10-24 02:30 CEST", "10-25 02:30 CEST", "10-26 02:30 CET"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: tc.from}
			r := &dueRunner{}
			s := &Scheduler{Store: openStore(t, filepath.Join(t.TempDir(), "bbs.db")), Runner: r,
				Events: func() []Event { return []Event{ev} }, Now: c.Now}
			for at := tc.from; at.Before(tc.from.Add(3 * 24 * time.Hour)); at = at.Add(time.Minute) {
				c.Set(at)
				s.Tick(context.Background())
			}
			var got []string
			for _, d := range r.dues {
				got = append(got, d.In(berlin).Format("01-02 15:04 MST"))
			}
			if strings.Join(got, ", ") != strings.Join(tc.want, ", ") {
				t.Errorf("runs at %v, want %v", got, tc.want)
			}
		})
	}
}
