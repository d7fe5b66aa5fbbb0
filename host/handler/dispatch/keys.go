package dispatch

import (
	"bytes"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// keysPrefix starts the body of a keystroke-mode request as the gateways
// and the browser page write it (classic.AppendKeys; the page's
// JSON.stringify puts type first too).
var keysPrefix = []byte(`{"type":"keys"`)

// binPrefix starts the body of a binary stream mode request
// (classic.AppendBinary).
var binPrefix = []byte(`{"type":"bin"`)

// isKeys reports whether body is a keystroke-mode request, or a binary
// stream mode one (a file transfer's piece), which waits and is dropped
// the same way. A keys request written otherwise is taken for a line
// here, and refused as one (with a word, charged to the caller's flood
// limit).
func isKeys(body []byte) bool {
	return bytes.HasPrefix(body, keysPrefix) || bytes.HasPrefix(body, binPrefix)
}

// KeysQueuedPerCaller bounds the requests of a caller in keystroke mode
// waiting for their worker, keys requests included: more than
// MaxQueuedPerCaller lines, since a gateway sends up to
// keystroke.RequestsPerSecond of them and a worker held by another
// caller's script for its whole resume budget (2 s) must not lose a
// typist's keys. A line still finds at most MaxQueuedPerCaller before it.
const KeysQueuedPerCaller = 64

// queueLimit is how many of the caller's requests may wait when req
// comes: KeysQueuedPerCaller for a keys request, else
// MaxQueuedPerCaller.
func (h *Host) queueLimit(req *m2proto.Request) int {
	if isKeys(req.Body) {
		return max(KeysQueuedPerCaller, h.maxQueuedPerCaller())
	}
	return h.maxQueuedPerCaller()
}

// keysDropTolerance is how many of a caller's keys requests in a row
// the dispatch loop drops before it charges the next ones to the
// caller's flood limit: far more than a gateway sends while a worker is
// held for a whole resume budget.
const keysDropTolerance = 256

// dropKeys drops a keystroke-mode request the caller's queue (o) or
// worker had no room for: unanswered (an answer, a screen or a prompt,
// would end the caller's keystroke mode), and, for the first
// keysDropTolerance in a row, not charged to the caller's flood limit
// (a burst queued behind a busy worker is no flood); past them each is
// charged as a refused line, so a caller who floods keys past the
// gateways is cut off as a line flooder is. Counted in
// AdmissionStats.DroppedKeys.
func (h *Host) dropKeys(o *owner, req *m2proto.Request, why string) {
	h.admit.droppedKeys.Add(1)
	h.admit.noisy.Warn("keys dropped", "conn_id", req.ConnID, "why", why)
	o.droppedKeys++
	if o.droppedKeys > keysDropTolerance && o.pending > 0 {
		o.unchargedRefusals++ // charged when the next queued request is handled
	}
}
