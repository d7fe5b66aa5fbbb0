package live

import (
	"context"
	"time"
)

// Bell is how the hosts of a board's phone lines tell each other that
// events were stored: a host rings after storing its callers' events, and
// waits for a ring before reading the other lines'. With SQLite the bell
// is a clock (PollBell: every host reads the table every 100 ms); a
// server engine can ring for real (PostgreSQL's LISTEN/NOTIFY), so an
// event crosses lines in about the time of a round trip, and an idle
// board reads nothing.
//
// A Bell is used by one hub: Ring may be called from any goroutine, Wait
// from the hub's reading goroutine only.
type Bell interface {
	// Ring tells the other hosts that this one stored an event. It must
	// not block for long: it runs on the publisher's worker.
	Ring(ctx context.Context) error
	// Wait returns nil when other hosts may have stored events (a
	// spurious return is harmless: the hub reads and finds nothing), or
	// ctx's error when ctx is done. A bell that can lose rings (a
	// dropped connection) also returns now and then without one.
	Wait(ctx context.Context) error
}

// PollBell is the Bell of an engine that cannot ring: Wait returns every
// Interval (DefaultPollInterval when not positive), Ring does nothing.
type PollBell struct {
	Interval time.Duration
}

var _ Bell = PollBell{}

// Ring does nothing: the other hosts look by themselves.
func (PollBell) Ring(context.Context) error { return nil }

// Wait returns after the interval, or when ctx is done.
func (b PollBell) Wait(ctx context.Context) error {
	d := b.Interval
	if d <= 0 {
		d = DefaultPollInterval
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
