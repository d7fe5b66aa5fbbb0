package dispatch

import (
	"bytes"
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/m2bbs/m2bbs/host/wire/zmqtransport"
)

// A caller is a conn id of one front-end process: when that process ends,
// its callers' connections end with it, and the next one numbers its
// callers from scratch (Mongrel2 does). So the host forgets every session
// and journal of a front end that went away, without a word to their conn
// ids, which may be new callers' by then. Two ways to know it went away:
//
//   - The transport says so in order with the messages: the note
//     FrontEndGoneNote (zmqtransport watches its connection to the front
//     end with a socket monitor and delivers the note when it drops).
//   - The host's own process started the front end (m2bbs run):
//     Config.DropJournalsBefore, the process's start, drops every journal
//     an earlier run left. A host restarted on its own while the front end
//     kept running (m2bbs host) hears no note and keeps the journals: its
//     callers go on where they were.

// frontEndGonePrefix starts a FrontEndGoneNote; no handler message starts
// with a NUL byte (a sender is a word).
const frontEndGonePrefix = "\x00front-end-gone "

// FrontEndGoneNote is the message a Transport delivers, in order with the
// front end's messages, when the connection to the front end dropped at
// at (zmqtransport.HandlerConfig.PeerGone).
func FrontEndGoneNote(at time.Time) []byte {
	return strconv.AppendInt([]byte(frontEndGonePrefix), at.UnixMilli(), 10)
}

// parseFrontEndGone reports whether msg is a FrontEndGoneNote, and when
// the front end went away.
func parseFrontEndGone(msg []byte) (time.Time, bool) {
	rest, ok := bytes.CutPrefix(msg, []byte(frontEndGonePrefix))
	if !ok {
		return time.Time{}, false
	}
	ms, err := strconv.ParseInt(string(rest), 10, 64)
	if err != nil {
		return time.Now(), true
	}
	return time.UnixMilli(ms), true
}

// frontEndGone forgets every caller of the front end that went away at at:
// their sessions end on their workers without a word, then every journal
// last written before at is dropped (those of this host's callers, and
// those a previous host process left); with the front end on another
// machine (Config.FrontEndElsewhere), only this host's callers' journals. It returns once that is done, so
// that the messages after the note (a new front end's) find nothing of
// the old callers; then the transport may send replies again.
//
// Each worker gets one job that forgets its callers, straight into its
// inbox (never through route, whose overflow policy may drop a line) and
// waited for as long as the run lasts: the worker's FIFO puts it after
// every line of the old callers and before any line of a new caller with
// the same conn id, which the dispatch loop hands over only after this
// returns. The owners stay until the job settles them, so a new caller's
// line goes to the worker that forgot the old one.
func (h *Host) frontEndGone(ctx context.Context, at time.Time) {
	h.mu.Lock()
	byWorker := map[*worker][]string{}
	n := 0
	for id, o := range h.owners {
		byWorker[o.w] = append(byWorker[o.w], id)
		n++
	}
	h.mu.Unlock()

	var wg sync.WaitGroup
	for w, ids := range byWorker {
		h.ws.Forget(ids...)
		wg.Go(func() { h.forgetOn(ctx, w, ids) })
	}
	wg.Wait()
	h.log.Warn("front end went away: its callers' sessions ended", "sessions", n, "at", at.Format(time.RFC3339Nano))
	if h.cfg.FrontEndElsewhere {
		h.dropOwnJournals(ctx, byWorker)
	} else {
		h.dropJournalsBefore(ctx, h.journalCutoff(at))
	}
	// The next front end's callers may get the conn ids of old callers
	// whose sessions had ended (up to the forgetting, which the old
	// callers' queued lines came before): their lines must start calls.
	h.ForgetEndedSessions()
	if r, ok := h.transport.(sendResumer); ok {
		r.ResumeSending()
	}
}

// dropOwnJournals drops the journals of the callers this host forgot, and
// only theirs: with the front end on another machine, a dropped
// connection may be the network's fault and not the front end's restart,
// and the callers of the other lines' hosts may be live (their hosts drop
// their own journals if they see the front end go too).
func (h *Host) dropOwnJournals(ctx context.Context, byWorker map[*worker][]string) {
	if !h.cfg.Session.Journal || h.deps.Store == nil {
		return
	}
	var ids []string
	for _, list := range byWorker {
		ids = append(ids, list...)
	}
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	if err := h.deps.Store.DropJournals(ctx, ids); err != nil {
		h.log.Error("journals of the callers of a front end that went away could not be dropped", "err", err)
	}
}

// FrontEndWatch counts what the watch of the front end saw.
type FrontEndWatch struct {
	// Drops counts how often the front end went away.
	Drops uint64 `json:"drops"`
	// MonitorErrors counts failures of the watch itself: a restart of the
	// front end may have gone unnoticed (see the error log).
	MonitorErrors uint64 `json:"monitor_errors"`
	// RepliesDropped counts replies for callers of a front end that had
	// gone, dropped instead of reaching the next front end's callers.
	RepliesDropped uint64 `json:"replies_dropped"`
}

// peerWatcher is a Transport that watches its front end (zmqtransport).
type peerWatcher interface {
	PeerStats() zmqtransport.PeerStats
}

// frontEndWatch is the status of the front end's watch, or nil if the
// transport does not watch it.
func (h *Host) frontEndWatch() *FrontEndWatch {
	pw, ok := h.transport.(peerWatcher)
	if !ok {
		return nil
	}
	st := pw.PeerStats()
	return &FrontEndWatch{Drops: st.Drops, MonitorErrors: st.MonitorErrors, RepliesDropped: st.AwayDropped}
}

// sendResumer is a Transport that drops replies from a drop of its front
// end until told the old callers are forgotten (zmqtransport does).
type sendResumer interface{ ResumeSending() }

// forgetOn forgets ids on w's goroutine, behind whatever w has queued, and
// waits for it until ctx ends.
func (h *Host) forgetOn(ctx context.Context, w *worker, ids []string) {
	done := make(chan struct{})
	job := func() {
		defer close(done)
		for _, id := range ids {
			w.table.Forget(id)
			h.settle(w, id, false)
		}
	}
	select {
	case w.inbox <- job:
	case <-ctx.Done():
		h.log.Warn("front end gone: stopping before a worker let go of its callers", "callers", len(ids))
		return
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
}
