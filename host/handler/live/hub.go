// Package live carries the events of the Lua shared module between the
// callers of a board: who listens on which channel, and handing each
// event published to the worker of every listener, at once on this host
// and, through the shared database, on the other phone lines.
//
// A Hub is one host's: every worker's sessions share it, so a caller on
// one worker wakes a caller on another. Listening is per host (a caller's
// session lives on one host); events cross lines through
// store.SharedState's event table, which each host polls (Poll).
package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// Limits on what one caller may cost the others.
const (
	// MaxChannelsPerCaller bounds the channels one caller listens on.
	MaxChannelsPerCaller = 8
	// MaxListenersPerChannel bounds the listeners of one channel on one
	// host.
	MaxListenersPerChannel = 256
	// PublishRate and PublishBurst bound how fast one publisher (an
	// account, however many connections it has; a caller not logged in
	// by their connection) publishes on this host: a token bucket of
	// PublishBurst events refilled at PublishRate per second. Past it,
	// Publish returns ErrTooFast.
	PublishRate  = 5
	PublishBurst = 10
	// maxBuckets bounds the publishers' buckets kept; past it, the full
	// (idle) ones are forgotten.
	maxBuckets = 4096
)

// Sentinel errors; their text is what scripts are told.
var (
	// ErrTooFast means the caller publishes faster than PublishRate.
	ErrTooFast = errors.New("publishing too fast: wait a moment")
	// ErrTooManyChannels means the caller listens on MaxChannelsPerCaller
	// channels already.
	ErrTooManyChannels = fmt.Errorf("listening on %d channels already", MaxChannelsPerCaller)
	// ErrChannelFull means the channel has MaxListenersPerChannel
	// listeners already.
	ErrChannelFull = fmt.Errorf("the channel has %d listeners already", MaxListenersPerChannel)
)

// Event is one event for one listener.
type Event struct {
	Channel, From, Text string
	// Stamp orders the event among the hub's subscriptions: a caller
	// whose subscription to Channel has a later stamp began to listen
	// after the event was given out, and did not hear it (Hears).
	Stamp int64
}

// Deliver hands ev to the worker of connID's caller; it must not block
// (a worker publishing must never wait for another).
type Deliver func(connID string, ev Event)

// Stats are a hub's counters.
type Stats struct {
	Published     int64 `json:"published"`
	Delivered     int64 `json:"delivered"`
	FromLines     int64 `json:"from_other_lines"`
	TooFast       int64 `json:"too_fast"`
	LinesFailures int64 `json:"lines_failures"`
}

// Hub is one host's listeners and publishers. It is safe for concurrent
// use.
type Hub struct {
	deliver Deliver
	// events, if set, carries events to and from other phone lines.
	events store.SharedState
	// bell, if set, is rung after each event stored, and Poll waits on
	// it (SetBell); nil is a PollBell.
	bell   Bell
	origin string
	// since is the last stored event when the hub was made: Poll
	// delivers those after it.
	since int64
	now   func() time.Time
	log   *slog.Logger
	// tables, if set, is where values held for a call are released
	// (SetTables).
	tables store.SharedState
	// departing counts the departures under way (Forget).
	departing sync.WaitGroup

	mu sync.Mutex
	// stamp counts the events given out and the subscriptions made
	// live (Event.Stamp); a forced one takes no stamp of its own.
	stamp     int64
	listeners map[string]map[string]struct{} // channel -> conn ids
	callers   map[string]*caller             // conn id -> what they do
	// publishers are the token buckets of PublishRate, by publisher
	// name. (No bound per channel: a flooder would deny the room to
	// everyone else.)
	publishers map[string]*bucket
	// notices are the token buckets of NoticeRate, by publisher name
	// (announce.go).
	notices map[string]*bucket

	published, delivered, fromLines, tooFast, linesFailures atomic.Int64
}

// caller is what the hub knows of one caller.
type caller struct {
	// channels are the channels they listen on, and since when.
	channels map[string]listening
	// farewells are the texts to publish, by channel, if the call ends
	// while the caller listens there (SetFarewell).
	farewells map[string]Event
	// holds are the values held for the length of the call (Hold).
	holds []held
}

// listening is since when a caller listens on a channel. A forced
// subscription (a replay taking up one it had) is zero: it hears every
// event.
type listening struct {
	// stored is the id of the newest event stored for other lines when
	// they began: what other lines said there up to it was said before.
	stored int64
	// stamp is the hub's stamp when they began (Event.Stamp).
	stamp int64
}

// bucket is a token bucket.
type bucket struct {
	tokens float64
	last   time.Time
}

// New returns a hub delivering with deliver; with events set, every
// event published is also stored there for other lines, and Poll
// delivers theirs, from those stored after New on.
func New(deliver Deliver, events store.SharedState, log *slog.Logger) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Hub{
		deliver: deliver, events: events, origin: newOrigin(), now: time.Now, log: log,
		listeners: make(map[string]map[string]struct{}), callers: make(map[string]*caller),
		publishers: make(map[string]*bucket), notices: make(map[string]*bucket),
	}
	if events != nil {
		var err error
		if h.since, err = events.LastSharedEvent(context.Background()); err != nil {
			h.log.Warn("shared events of other lines: cannot read the last one", "err", err)
		}
	}
	return h
}

// SetBell makes b the bell the hub rings after storing an event and
// that Poll waits on, instead of a PollBell. Call it before Poll and the
// first Publish.
func (h *Hub) SetBell(b Bell) { h.bell = b }

// newOrigin names this host process in the events it stores.
func newOrigin() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// callerOf returns connID's record, creating it (caller holds h.mu).
func (h *Hub) callerOf(connID string) *caller {
	c := h.callers[connID]
	if c == nil {
		c = &caller{channels: make(map[string]listening)}
		h.callers[connID] = c
	}
	return c
}

// Subscribe implements luaapi.Channels. With other lines, the caller
// hears what they say on channel from now on: events stored before,
// which this host may not have read yet, are not theirs (they were said
// before the caller came, or came back), nor are the events this host
// gave out before, still on their way to the caller's worker (Hears). A
// forced subscription is a session rebuilt by replay (luaapi's reapply)
// taking up one it had: the caller listened all along, so it hears
// every event this host reads or still carries, as before the move.
func (h *Hub) Subscribe(connID, channel string, force bool) error {
	if err := store.CheckSharedName("channel", channel); err != nil {
		return err
	}
	if h.listens(connID, channel) {
		return nil // spares the store's read; checked again below
	}
	var since listening
	if !force {
		since.stored = h.lastStored(connID, channel)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.callerOf(connID)
	if _, ok := c.channels[channel]; ok {
		return nil
	}
	if !force && len(c.channels) >= MaxChannelsPerCaller {
		return ErrTooManyChannels
	}
	set := h.listeners[channel]
	if !force && len(set) >= MaxListenersPerChannel {
		return ErrChannelFull
	}
	if set == nil {
		set = make(map[string]struct{})
		h.listeners[channel] = set
	}
	set[connID] = struct{}{}
	if !force {
		h.stamp++
		since.stamp = h.stamp
	}
	c.channels[channel] = since
	return nil
}

// lastStored is the id of the newest event stored for other lines, as
// connID's caller begins to listen on channel: 0 without a store, or
// when it cannot be read (then they may hear what another line said just
// before, as if said after).
func (h *Hub) lastStored(connID, channel string) int64 {
	if h.events == nil {
		return 0
	}
	id, err := h.events.LastSharedEvent(context.Background())
	if err != nil {
		h.linesFailures.Add(1)
		h.log.Warn("shared events of other lines: cannot read the last one as a caller joins", "conn_id", connID, "channel", channel, "err", err)
		return 0
	}
	return id
}

// Unsubscribe implements luaapi.Channels.
func (h *Hub) Unsubscribe(connID, channel string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c := h.callers[connID]; c != nil {
		delete(c.channels, channel)
		delete(c.farewells, channel)
	}
	h.unlisten(connID, channel)
}

// listens reports whether connID's caller listens on channel now.
func (h *Hub) listens(connID, channel string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.listeners[channel][connID]
	return ok
}

// Hears reports whether connID's caller hears the event of channel
// stamped stamp (Event.Stamp) now: they listen on channel, and did since
// before the hub gave the event out. An event can still be on its way to
// their worker, behind the lines that made them leave (and come back).
func (h *Hub) Hears(connID, channel string, stamp int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.callers[connID]
	if c == nil {
		return false
	}
	since, ok := c.channels[channel]
	return ok && since.stamp < stamp
}

// unlisten removes connID from channel's listeners (caller holds h.mu).
func (h *Hub) unlisten(connID, channel string) {
	if set := h.listeners[channel]; set != nil {
		delete(set, connID)
		if len(set) == 0 {
			delete(h.listeners, channel)
		}
	}
}

// Forget drops everything of connID's caller, whose session ended here.
func (h *Hub) Forget(connID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.callers[connID]
	if c == nil {
		return
	}
	var farewells []Event
	for channel := range c.channels {
		h.unlisten(connID, channel)
		if ev, ok := c.farewells[channel]; ok {
			farewells = append(farewells, ev)
		}
	}
	delete(h.callers, connID)
	if len(farewells) > 0 || len(c.holds) > 0 {
		h.departing.Go(func() { h.depart(connID, farewells, c.holds) })
	}
}

// Publish implements luaapi.Channels: the listeners on this host get the
// event at once, those of other lines when their host polls.
func (h *Hub) Publish(connID, from, channel, text string) (int, error) {
	if err := store.CheckSharedName("channel", channel); err != nil {
		return 0, err
	}
	if len(text) > store.MaxSharedValueBytes {
		return 0, fmt.Errorf("%w: text longer than %d bytes", store.ErrSharedValue, store.MaxSharedValueBytes)
	}
	h.mu.Lock()
	now := h.now()
	if !take(h.publishers, from, now, PublishRate, PublishBurst) {
		h.mu.Unlock()
		h.tooFast.Add(1)
		return 0, ErrTooFast
	}
	h.mu.Unlock()
	return h.spread(context.Background(), connID, Event{Channel: channel, From: from, Text: text}), nil
}

// spread delivers ev to its channel's listeners on this host but
// except, stores it for the other lines, and returns how many it
// reached here.
func (h *Hub) spread(ctx context.Context, except string, ev Event) int {
	h.mu.Lock()
	targets := h.listenersOf(ev.Channel, except)
	h.stamp++
	ev.Stamp = h.stamp
	h.mu.Unlock()
	h.published.Add(1)
	for _, id := range targets {
		h.deliver(id, ev)
	}
	h.delivered.Add(int64(len(targets)))
	if h.events != nil {
		e := store.SharedEvent{Origin: h.origin, Channel: ev.Channel, From: ev.From, Text: ev.Text, At: h.now()}
		if _, err := h.events.AppendSharedEvent(ctx, e); err != nil {
			h.linesFailures.Add(1)
			h.log.Warn("shared event not stored for other lines", "channel", ev.Channel, "err", err)
		} else if h.bell != nil {
			if err := h.bell.Ring(ctx); err != nil {
				h.linesFailures.Add(1)
				h.log.Warn("shared event stored, the other lines not rung (they read it at their next look)", "channel", ev.Channel, "err", err)
			}
		}
	}
	return len(targets)
}

// listenersOf lists channel's listeners but except (caller holds h.mu).
func (h *Hub) listenersOf(channel, except string) []string {
	set := h.listeners[channel]
	out := make([]string, 0, len(set))
	for id := range set {
		if id != except {
			out = append(out, id)
		}
	}
	return out
}

// listenersBefore lists channel's listeners who began to listen before
// the event stored as id was (caller holds h.mu).
func (h *Hub) listenersBefore(channel string, id int64) []string {
	set := h.listeners[channel]
	out := make([]string, 0, len(set))
	for connID := range set {
		if c := h.callers[connID]; c != nil && c.channels[channel].stored < id {
			out = append(out, connID)
		}
	}
	return out
}

// take spends one token of key's bucket in buckets (rate a second,
// burst at most), if there is one (caller holds h.mu). Past maxBuckets
// buckets, the full ones, whose keys have been idle long enough to be
// as good as new, are forgotten first.
func take(buckets map[string]*bucket, key string, now time.Time, rate, burst float64) bool {
	b := buckets[key]
	if b == nil {
		if len(buckets) >= maxBuckets {
			for k, old := range buckets {
				if old.tokens+now.Sub(old.last).Seconds()*rate >= burst {
					delete(buckets, k)
				}
			}
		}
		b = &bucket{tokens: burst, last: now}
		buckets[key] = b
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	return Stats{
		Published: h.published.Load(), Delivered: h.delivered.Load(), FromLines: h.fromLines.Load(),
		TooFast: h.tooFast.Load(), LinesFailures: h.linesFailures.Load(),
	}
}
