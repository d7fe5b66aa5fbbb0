package dispatch

import (
	"bytes"
	"context"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/lines"
)

// Adopting a line that went down. On phone lines whose hosts are on
// several machines, a dead host's callers need not wait for it: the host
// that wins the line going down (lines.Config.Adopt) connects to the dead
// line's handler as well (Deps.AdoptLine), rebuilds the callers' sessions
// from their journals (AdoptAll), and serves the line's requests beside
// its own until the last of the line's callers it served has gone; then it
// lets the line go, for its own host to take back.

// adoptInbox bounds the adopted lines' requests waiting for the dispatch
// loop (one queue for them all; a forwarder waits when it is full).
const adoptInbox = 1024

// adoptCheck is how often a host looks whether an adopted line's callers
// have all gone.
const adoptCheck = time.Second

// adoptGrace is how long an adopted line is kept for a caller of it who
// has not been online here yet (no journal to rebuild their session from:
// their next line starts a call here).
const adoptGrace = 30 * time.Second

// LineAdopter connects to the handler of phone line `line` (whose host
// went down) and returns its transport, and release, which gives the line
// up (closing the transport is Close's, if it has one). It fails when the
// line is not this host's to take (another process holds it).
type LineAdopter func(line int) (t Transport, release func(), err error)

// adoption is what a host adopted.
type adoption struct {
	in chan []byte // requests of the adopted lines, to the dispatch loop

	mu    sync.Mutex
	ctx   context.Context // the host's run, set by startAdopting
	wg    sync.WaitGroup
	lines map[int]*adoptedLine
}

// adoptedLine is one adopted line.
type adoptedLine struct {
	line  int
	since time.Time
	// conns are its callers, true once online here or a line of theirs
	// came (guarded by adoption.mu).
	conns map[string]bool
	last  time.Time // when it last carried a request (guarded by adoption.mu)
}

// startAdopting lets the host adopt lines from now on (Run, before the
// line starts); the adopted lines end with ctx.
func (h *Host) startAdopting(ctx context.Context) {
	h.adopt.mu.Lock()
	h.adopt.ctx = ctx
	h.adopt.mu.Unlock()
}

// adoptLine takes line over with its callers (lines.Config.Adopt): it
// takes the line's lock and connects to its handler here (bounded by
// Deps.AdoptLine), and rebuilds the callers' sessions in the background.
func (h *Host) adoptLine(line int, callers []lines.Caller) bool {
	a := &h.adopt
	a.mu.Lock()
	ctx := a.ctx
	_, have := a.lines[line]
	a.mu.Unlock()
	if ctx == nil || ctx.Err() != nil || !h.cfg.Session.Journal {
		return false
	}
	if !have {
		t, release, err := h.deps.AdoptLine(line)
		if err != nil {
			h.log.Warn("line went down and cannot be adopted here", "line", line, "err", err)
			return false
		}
		al := &adoptedLine{line: line, since: time.Now(), conns: map[string]bool{}, last: time.Now()}
		a.mu.Lock()
		if a.lines == nil {
			a.lines = map[int]*adoptedLine{}
		}
		a.lines[line] = al
		for _, c := range callers {
			al.conns[c.ConnID] = false
		}
		a.mu.Unlock()
		lctx, cancel := context.WithCancel(ctx)
		a.wg.Go(func() {
			defer release() // once the transport is closed: then the line's host may take it
			h.forwardAdopted(lctx, al, t)
		})
		a.wg.Go(func() {
			defer cancel()
			h.watchAdopted(lctx, al)
		})
	} else {
		a.mu.Lock()
		for _, c := range callers {
			if _, ok := a.lines[line].conns[c.ConnID]; !ok {
				a.lines[line].conns[c.ConnID] = false
			}
		}
		a.mu.Unlock()
	}
	detached := make([]Detached, len(callers))
	for i, c := range callers {
		detached[i] = Detached{ConnID: c.ConnID}
	}
	// Rebuilding many sessions takes a while: not on the line's own
	// goroutine, whose heartbeat must go on. A caller who types first is
	// rebuilt by that line, as after a restart.
	a.wg.Go(func() {
		n := h.AdoptAll(ctx, detached)
		h.log.Info("line adopted", "line", line, "callers", len(callers), "rebuilt", n)
	})
	return true
}

// forwardAdopted hands the adopted line's requests to the dispatch loop
// until ctx ends, then closes the line's transport.
func (h *Host) forwardAdopted(ctx context.Context, al *adoptedLine, t Transport) {
	defer func() {
		if c, ok := t.(io.Closer); ok {
			c.Close()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-t.Messages():
			if !ok {
				return
			}
			if id := requestConnID(msg); id != "" {
				h.adopt.mu.Lock()
				al.conns[id] = true // served here from now on, until they go
				al.last = time.Now()
				h.adopt.mu.Unlock()
			}
			select {
			case h.adopt.in <- msg:
			case <-ctx.Done():
				return
			}
		}
	}
}

// watchAdopted returns once none of the adopted line's callers is online
// here (or, never online yet, kept it adoptGrace) and the line has
// carried nothing for adoptCheck, or ctx ends.
func (h *Host) watchAdopted(ctx context.Context, al *adoptedLine) {
	tick := time.NewTicker(adoptCheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if h.adoptedHeld(al) {
			continue
		}
		h.adopt.mu.Lock()
		delete(h.adopt.lines, al.line)
		h.adopt.mu.Unlock()
		h.log.Info("adopted line let go: its callers have left", "line", al.line)
		return
	}
}

// adoptedHeld reports whether al must be kept: a caller of it is online
// here or may still come, or it carried a request lately. Callers gone
// are forgotten.
func (h *Host) adoptedHeld(al *adoptedLine) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.adopt.mu.Lock()
	defer h.adopt.mu.Unlock()
	held := time.Since(al.last) < adoptCheck
	for id, seen := range al.conns {
		switch {
		case h.owners[id] != nil:
			al.conns[id] = true
			held = true
		case seen || time.Since(al.since) >= adoptGrace:
			delete(al.conns, id)
		default:
			held = true // not online here yet
		}
	}
	return held
}

// adoptedLines lists the lines this host has adopted, in order.
func (h *Host) adoptedLines() []int {
	h.adopt.mu.Lock()
	defer h.adopt.mu.Unlock()
	var out []int
	for n := range h.adopt.lines {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// requestConnID is the conn id of a handler request (SENDER ID PATH ...),
// or "" if msg is not one.
func requestConnID(msg []byte) string {
	_, rest, ok := bytes.Cut(msg, []byte{' '})
	if !ok {
		return ""
	}
	id, _, ok := bytes.Cut(rest, []byte{' '})
	if !ok || len(id) > 64 {
		return ""
	}
	return string(id)
}
