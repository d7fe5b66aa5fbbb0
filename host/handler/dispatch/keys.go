package dispatch

import (
	"bytes"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// keysPrefix starts the body of a keystroke-mode request as the gateways
// and the browser page write it (classic.AppendKeys; the page's
// JSON.stringify puts type first too).
var keysPrefix = []byte(`{"type":"keys"`)

// isKeys reports whether body is a keystroke-mode request. A keys
// request written otherwise is taken for a line here, and refused as one
// (with a word, charged to the caller's flood limit).
func isKeys(body []byte) bool { return bytes.HasPrefix(body, keysPrefix) }

// dropKeys drops a keystroke-mode request the caller's queue or worker
// had no room for: unanswered (an answer, a screen or a prompt, would end
// the caller's keystroke mode), and not charged to the caller's line
// flood limit (the gateways send keys at a bounded pace, and a burst
// queued behind a busy worker is no flood; the host's keys rate bounds
// what a caller who bypasses them gets). Counted in
// AdmissionStats.DroppedKeys.
func (h *Host) dropKeys(req *m2proto.Request, why string) {
	h.admit.droppedKeys.Add(1)
	h.admit.noisy.Warn("keys dropped", "conn_id", req.ConnID, "why", why)
}
