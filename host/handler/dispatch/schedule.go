package dispatch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/events"
	"github.com/m2bbs/m2bbs/host/handler/session"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// EventStatus is one event on the status page (the sysop's): as the
// scripts declare it, when it is next due and its last runs, newest first.
type EventStatus struct {
	Name     string           `json:"name"`
	Schedule string           `json:"schedule"`
	Zone     string           `json:"zone"`
	Missed   string           `json:"missed"`
	NextDue  time.Time        `json:"next_due,omitzero"`
	Runs     []store.EventRun `json:"runs,omitempty"`
}

// eventRunsShown is how many runs of each event the status page lists.
const eventRunsShown = 5

// newScheduler makes the host's scheduler of events, or nil without
// Deps.Events.
func (h *Host) newScheduler() *events.Scheduler {
	if h.deps.Events == nil {
		return nil
	}
	who := fmt.Sprintf("pid %d", os.Getpid())
	if h.cfg.Line > 0 {
		who = fmt.Sprintf("line %d, %s", h.cfg.Line, who)
	}
	return &events.Scheduler{
		Store: h.deps.Events, Runner: eventRunner{h}, Events: h.declaredEvents,
		Now: h.deps.Now, Host: who, Log: h.log,
	}
}

// runEvents runs the scheduler until ctx is done; it logs the events
// declared and the host's own time zone first.
func (h *Host) runEvents(ctx context.Context) {
	if h.sched == nil {
		return
	}
	evs := h.declaredEvents()
	h.log.Info("events", "declared", len(evs), "host_zone", events.ZoneName(time.Local))
	for _, e := range evs {
		h.log.Info("event declared", "event", e.Name, "when", e.Schedule.String(), "zone", events.ZoneName(e.Zone), "missed", e.Missed.String())
	}
	h.sched.Run(ctx, h.cfg.EventTick)
}

// declaredEvents are the events of the current scripts. A table's events
// are set when it loads and never change, so any goroutine may read them.
func (h *Host) declaredEvents() []events.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.current.workers[0].table.Events()
}

// eventRunner runs an event on a worker of the current scripts: the one
// with the fewest callers, so that a long event holds up as few callers
// as can be.
type eventRunner struct{ h *Host }

// RunEvent implements events.Runner.
func (r eventRunner) RunEvent(ctx context.Context, c events.Call) events.Result {
	h := r.h
	h.mu.Lock()
	w := h.current.leastBusy()
	h.mu.Unlock()
	budget := h.cfg.Session.ResumeBudget
	if budget <= 0 {
		budget = session.DefaultResumeBudget
	}
	started := time.Now()
	res, err := onWorker(ctx, w, 2*budget+statusTimeout, func(t *session.Table) events.Result {
		return t.RunEvent(c)
	})
	if err != nil {
		return events.Result{Outcome: events.OutcomeError, Error: "not run: " + err.Error(), Started: started, Ended: time.Now()}
	}
	return res
}

// EventList describes the events the scripts declare, with their due
// times and last runs from the store.
func (h *Host) EventList(ctx context.Context) []EventStatus {
	evs := h.declaredEvents()
	if len(evs) == 0 {
		return nil
	}
	stored := map[string]store.EventInfo{}
	if h.deps.Events != nil {
		list, err := h.deps.Events.EventList(ctx, eventRunsShown)
		if err != nil {
			h.log.Warn("status: listing events", "err", err)
		}
		for _, e := range list {
			stored[e.Name] = e
		}
	}
	out := make([]EventStatus, 0, len(evs))
	for _, e := range evs {
		st := EventStatus{Name: e.Name, Schedule: e.Schedule.String(), Zone: events.ZoneName(e.Zone), Missed: e.Missed.String()}
		if info, ok := stored[e.Name]; ok {
			st.Runs = info.Runs
			if info.Schedule == e.Key() {
				st.NextDue = info.NextDue
			}
		}
		out = append(out, st)
	}
	return out
}

// answerRunEvent runs the event ?name=NAME now (m2bbs events -run) and
// answers with the run.
func (h *Host) answerRunEvent(r *http.Request) (int, []byte) {
	if h.sched == nil {
		return http.StatusNotImplemented, []byte("this host runs no events (it has no event store)\n")
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		return http.StatusBadRequest, []byte("run needs ?name=EVENT\n")
	}
	run, err := h.sched.RunNow(r.Context(), name)
	if errors.Is(err, events.ErrUnknown) {
		return http.StatusNotFound, []byte(err.Error() + "\n")
	}
	if err != nil {
		return http.StatusInternalServerError, []byte(err.Error() + "\n")
	}
	return http.StatusOK, jsonLine(run)
}
