package live

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// Departures: what a caller's call leaves behind when it ends (a quit,
// an error, a kick, a hang-up) while the caller still listens or holds.
// A chat room's "ann hangs up" notice is a farewell: a text published
// on a channel, as the caller, when their call ends while they listen
// there. Who sits in which room is a held value: set in a shared table
// for the length of the call, and deleted by the host when it ends,
// unless something else was set there since.
//
// Departures are carried out on a goroutine of their own (Forget runs
// under the dispatcher's lock and must not wait for the store), each
// within departTimeout. A host that stops (killed, or its machine gone)
// carries out none: held values then stay until their key is set again.

// MaxHoldsPerCaller bounds the values one caller holds at once.
const MaxHoldsPerCaller = 8

// departTimeout bounds one departure's store calls.
const departTimeout = 10 * time.Second

// ErrTooManyHolds means the caller holds MaxHoldsPerCaller values
// already.
var ErrTooManyHolds = fmt.Errorf("holding %d values already", MaxHoldsPerCaller)

// errNoTables means the hub was given no store to hold values in.
var errNoTables = errors.New("no shared tables to hold values in")

// held is a value held in a shared table for the length of a call.
type held struct {
	table, key string
	value      store.SharedValue
}

// SetTables gives the hub the shared tables that Hold's values are
// released from. Call it before the hub is used.
func (h *Hub) SetTables(tables store.SharedState) { h.tables = tables }

// SetFarewell makes text, said by from, the farewell of connID's caller
// on channel: it is published there when the call ends while they
// listen on channel. Unsubscribe, or SetFarewell with an empty text,
// drops it; nothing happens if the caller does not listen on channel.
func (h *Hub) SetFarewell(connID, channel, from, text string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.callers[connID]
	if c == nil {
		return
	}
	if _, ok := c.channels[channel]; !ok {
		return
	}
	if text == "" {
		delete(c.farewells, channel)
		return
	}
	if c.farewells == nil {
		c.farewells = make(map[string]Event)
	}
	c.farewells[channel] = Event{Channel: channel, From: from, Text: text}
}

// Hold records that connID's caller holds v at table[key] (the caller
// has set it) for the length of their call: when it ends, the key is
// deleted if it still holds v. A second Hold of the same key replaces
// the first. Past MaxHoldsPerCaller keys it returns ErrTooManyHolds,
// unless force (a replay re-establishing what was granted before).
func (h *Hub) Hold(connID, table, key string, v store.SharedValue, force bool) error {
	if h.tables == nil {
		return errNoTables
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.callerOf(connID)
	for i := range c.holds {
		if c.holds[i].table == table && c.holds[i].key == key {
			c.holds[i].value = v
			return nil
		}
	}
	if !force && len(c.holds) >= MaxHoldsPerCaller {
		return ErrTooManyHolds
	}
	c.holds = append(c.holds, held{table: table, key: key, value: v})
	return nil
}

// Release forgets that connID's caller holds table[key] and returns the
// value they held there (ok false if they held none): the caller gives
// it up before their call ends.
func (h *Hub) Release(connID, table, key string) (v store.SharedValue, ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.callers[connID]
	if c == nil {
		return v, false
	}
	for i, hd := range c.holds {
		if hd.table == table && hd.key == key {
			c.holds = append(c.holds[:i], c.holds[i+1:]...)
			return hd.value, true
		}
	}
	return v, false
}

// Moving says that connID's session is leaving this host for another
// (a line drained): it did not end, so when the hub forgets the caller
// it publishes none of their farewells and releases none of their
// values; the host that takes the session over holds them again when it
// rebuilds it.
func (h *Hub) Moving(connID string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c := h.callers[connID]; c != nil {
		c.farewells, c.holds = nil, nil
	}
}

// depart releases the values connID's caller held, then publishes their
// farewells, so that whoever reads the table after a farewell no longer
// finds the caller there.
func (h *Hub) depart(connID string, farewells []Event, holds []held) {
	ctx, cancel := context.WithTimeout(context.Background(), departTimeout)
	defer cancel()
	for _, hd := range holds {
		_, _, err := h.tables.SharedUpdate(ctx, hd.table, hd.key, func(cur store.SharedValue, ok bool) (*store.SharedValue, bool, error) {
			return nil, ok && cur.Equal(hd.value), nil
		})
		if err != nil {
			h.log.Warn("shared: a value held for a call not released", "conn_id", connID, "table", hd.table, "err", err)
		}
	}
	for _, ev := range farewells {
		if h.noticeAllowed(ev.From) { // many connections of one account hanging up at once
			h.spread(ctx, connID, ev)
		}
	}
}

// WaitDepartures waits for the departures under way (for tests, and a
// host stopping: dispatch.Host.Run waits for them before it returns).
func (h *Hub) WaitDepartures() { h.departing.Wait() }
