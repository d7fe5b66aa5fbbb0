package dispatch

import (
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/session"
)

// Regression tests from the hostile review of keystroke mode (commit
// 3675614, /work/notes/reports/review_keys.md): each test is named and
// documented after the defect it found; they pass since the fixes.

// keysSpinner: "edit" puts the caller in keystroke mode, and each keys
// request is answered with keys; "spin" keeps the worker busy 1.5 s (a
// script step within the default 2 s resume budget).
const keysSpinner = `require 'ui'
function m2bbs(conn, req)
    while true do
        local m = req.data.msg
        if req.data.type == 'keys' or m == 'edit' then
            req = ui.keys(conn, req, 'k')
        else
            if m == 'spin' then
                local t = os.clock()
                while os.clock() - t < 1.9 do end
            end
            req = ui.ask(conn, req, 'said ' .. m)
        end
    end
end`

// TestReviewKeysTypistCutOffAsFlooder: a caller typing in keystroke mode
// at the gateway's own pace (30 requests/s, within the host's 60/s) while
// another caller's script holds the shared worker for 1.5 s: past 8
// queued, the dispatch loop refuses their keys with "busy" text (which
// ends keystroke mode at the gateway) and charges each refusal to the
// LINE rate (10/s, burst 20), so the typist is disconnected as a flooder.
func TestReviewKeysTypistCutOffAsFlooder(t *testing.T) {
	b := startBoard(t, keysSpinner, Config{Workers: 1,
		Session: session.Config{RatePerSecond: session.DefaultRatePerSecond, RateBurst: session.DefaultRateBurst}})
	term := `,"terminal":{"ansi":true,"keys":true}`
	b.ft.in <- request("JSON", "1", "@bbs", `{"type":"msg","msg":"connect"`+term+`}`)
	b.ft.waitFor(t, "1", said("connect"))
	b.ft.in <- request("JSON", "1", "@bbs", `{"type":"msg","msg":"edit"`+term+`}`)
	b.ft.waitFor(t, "1", kind("keys"))
	b.say("2", "connect")
	b.ft.waitFor(t, "2", said("connect"))
	b.say("2", "spin")
	time.Sleep(50 * time.Millisecond)
	for range 62 { // 2 s at the gateway's pace
		b.ft.in <- request("JSON", "1", "@bbs", `{"type":"keys","msg":"k"`+term+`}`)
		time.Sleep(time.Second / 30)
	}
	b.ft.waitFor(t, "2", said("spin"))
	time.Sleep(200 * time.Millisecond)
	b.ft.mu.Lock()
	defer b.ft.mu.Unlock()
	for _, raw := range b.ft.sent {
		for _, r := range decodeReply(t, raw) {
			if r.connID == "1" && (r.kind == "exit" || r.text == busyText) {
				t.Errorf("the typist got %s %q", r.kind, r.text)
			}
		}
	}
	st := b.host.Status()
	t.Logf("admission %+v", st.Admission)
	if st.Admission.DroppedKeys != 0 || st.Admission.RefusedQueued != 0 {
		t.Errorf("the typist's keys were dropped or refused while the worker was held: %+v", st.Admission)
	}
}
