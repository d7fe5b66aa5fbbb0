package live

import (
	"context"
	"time"
)

// Across phone lines: each host stores the events its callers publish
// (Publish), rings its Bell, and reads those of the other hosts when the
// bell rings (Listen; with PollBell, every DefaultPollInterval).
const (
	// DefaultPollInterval is how often PollBell has Listen look for other lines'
	// events: an event reaches a listener on another line within about
	// this long (plus the store's write).
	DefaultPollInterval = 100 * time.Millisecond
	// EventsKept is how long stored events are kept for slow pollers.
	EventsKept = time.Minute
	// pollBatch bounds the events read at once.
	pollBatch = 256
)

// Poll is Listen with a PollBell looking every interval
// (DefaultPollInterval when not positive), unless SetBell gave the hub a
// bell of its own.
func (h *Hub) Poll(ctx context.Context, interval time.Duration) {
	b := h.bell
	if b == nil {
		b = PollBell{Interval: interval}
	}
	h.Listen(ctx, b)
}

// Listen delivers the events the hosts of other lines publish, reading
// them each time bell rings, until ctx is done; it also deletes stored
// events older than EventsKept. Events stored before New made the hub
// are not delivered. Without an event store it returns at once.
func (h *Hub) Listen(ctx context.Context, bell Bell) {
	if h.events == nil {
		return
	}
	after := h.since
	lastPrune := h.now()
	for {
		if bell.Wait(ctx) != nil {
			return
		}
		after = h.pollOnce(ctx, after)
		if now := h.now(); now.Sub(lastPrune) >= EventsKept {
			lastPrune = now
			if _, err := h.events.PruneSharedEvents(ctx, now.Add(-EventsKept)); err != nil && ctx.Err() == nil {
				h.log.Warn("shared events: prune", "err", err)
			}
		}
	}
}

// pollOnce delivers the events stored after the id after by other hosts
// and returns the last id it read.
func (h *Hub) pollOnce(ctx context.Context, after int64) int64 {
	for {
		events, err := h.events.SharedEventsAfter(ctx, after, pollBatch)
		if err != nil {
			if ctx.Err() == nil {
				h.linesFailures.Add(1)
				h.log.Warn("shared events of other lines: read", "err", err)
			}
			return after
		}
		for _, e := range events {
			after = e.ID
			if e.Origin == h.origin {
				continue
			}
			h.mu.Lock()
			targets := h.listenersBefore(e.Channel, e.ID)
			h.stamp++
			ev := Event{Channel: e.Channel, From: e.From, Text: e.Text, Stamp: h.stamp}
			h.mu.Unlock()
			for _, id := range targets {
				h.deliver(id, ev)
			}
			h.fromLines.Add(1)
			h.delivered.Add(int64(len(targets)))
		}
		if len(events) < pollBatch {
			return after
		}
	}
}
