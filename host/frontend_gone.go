package host

import (
	"bytes"
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/m2bbs/m2bbs/host/session"
	"github.com/m2bbs/m2bbs/host/store"
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
var frontEndGonePrefix = []byte("\x00front-end-gone ")

// FrontEndGoneNote is the message a Transport delivers, in order with the
// front end's messages, when the connection to the front end dropped at
// at (zmqtransport.HandlerConfig.PeerGone).
func FrontEndGoneNote(at time.Time) []byte {
	return strconv.AppendInt(bytes.Clone(frontEndGonePrefix), at.UnixMilli(), 10)
}

// parseFrontEndGone reports whether msg is a FrontEndGoneNote, and when
// the front end went away.
func parseFrontEndGone(msg []byte) (time.Time, bool) {
	rest, ok := bytes.CutPrefix(msg, frontEndGonePrefix)
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
// those a previous host process left). It returns once that is done, so
// that the messages after the note (a new front end's) find nothing of
// the old callers.
func (h *Host) frontEndGone(ctx context.Context, at time.Time) {
	h.mu.Lock()
	byWorker := map[*worker][]string{}
	for id, o := range h.owners {
		byWorker[o.w] = append(byWorker[o.w], id)
		delete(h.owners, id)
	}
	h.nudgeLine()
	h.mu.Unlock()

	var wg sync.WaitGroup
	for w, ids := range byWorker {
		h.ws.forget(ids...)
		wg.Go(func() {
			_, err := onWorker(ctx, w, statusTimeout, func(t *session.Table) bool {
				for _, id := range ids {
					t.Forget(id)
				}
				h.mu.Lock()
				w.owned -= len(ids)
				h.mu.Unlock()
				return true
			})
			if err != nil {
				h.log.Warn("front end gone: a worker did not let go of its callers in time", "callers", len(ids), "err", err)
			}
		})
	}
	wg.Wait()
	n := 0
	for _, ids := range byWorker {
		n += len(ids)
	}
	h.log.Warn("front end went away: its callers' sessions ended", "sessions", n, "at", at.Format(time.RFC3339Nano))
	h.dropJournalsBefore(ctx, at)
}

// dropJournalsBefore drops every journal last written before cutoff (or
// in its millisecond).
func (h *Host) dropJournalsBefore(ctx context.Context, cutoff time.Time) {
	journals, ok := h.deps.Store.(store.Journals)
	if !ok || !h.cfg.Session.Journal || cutoff.IsZero() {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	// Times are stored in milliseconds: one written in cutoff's own
	// millisecond goes too.
	n, err := journals.PruneJournals(ctx, cutoff.Add(time.Millisecond))
	switch {
	case err != nil:
		h.log.Error("journals of a front end that went away could not be dropped", "err", err)
	case n > 0:
		h.log.Info("journals of a front end that went away dropped", "journals", n)
	}
}
