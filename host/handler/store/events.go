package store

import (
	"context"
	"time"
)

// KeepEventRuns is how many runs of each event the store keeps: a run
// stored past it deletes the event's oldest.
const KeepEventRuns = 20

// Events is the schedule of the sysop's events (host/handler/events),
// shared by every host of a board so that a run is claimed by one host
// only. *SQLite implements it; it is not part of Store, and the host runs
// no events without it.
type Events interface {
	// EventDue returns when the event name is next due. The first time a
	// name is seen, or when schedule (the text that says when, zone
	// included) differs from the one stored, first is stored as its due
	// time and returned.
	EventDue(ctx context.Context, name, schedule string, first time.Time) (time.Time, error)
	// ClaimEvent moves name's due time from due to next, if it is still
	// due, in one statement: of several hosts claiming the same due time,
	// exactly one gets true.
	ClaimEvent(ctx context.Context, name string, due, next time.Time) (bool, error)
	// RecordEventRun stores a run and deletes its event's runs older than
	// the last KeepEventRuns.
	RecordEventRun(ctx context.Context, run EventRun) error
	// EventList lists every event stored, by name, each with its last
	// runs, newest first, up to runs.
	EventList(ctx context.Context, runs int) ([]EventInfo, error)
}

// EventRun is one run of an event.
type EventRun struct {
	Event string `json:"event"`
	// Cause is why it ran: "schedule", "catch-up" (a run missed while
	// the board was down) or "sysop" (m2bbs events -run).
	Cause string `json:"cause"`
	// Outcome is "ok", "error", "timed out" or "skipped" (a missed run
	// not caught up).
	Outcome string `json:"outcome"`
	// Error is the error with the script's file:line, or why the run was
	// stopped or skipped.
	Error string `json:"error,omitempty"`
	// Host says which host ran it (phone line and process).
	Host    string    `json:"host,omitempty"`
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
}

// Duration is how long the run took.
func (r EventRun) Duration() time.Duration { return r.Ended.Sub(r.Started) }

// EventInfo is an event as the store knows it.
type EventInfo struct {
	Name     string     `json:"name"`
	Schedule string     `json:"schedule"`
	NextDue  time.Time  `json:"next_due"`
	Runs     []EventRun `json:"runs,omitempty"`
}
