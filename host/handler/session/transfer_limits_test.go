package session

import (
	"strings"
	"testing"
	"time"
)

const timedTransferScript = `require 'ui'
require 'db'
local transfer = require 'transfer'
function m2bbs(conn, req)
    req = ui.ask(conn, req, 'name?')
    local name = req.data.msg
    assert(db.register_user(name, 'secret pw'))
    while true do
        req = ui.ask(conn, req, 'menu')
        if req.data.msg == 'u' then
            local files, info
            req, files, info = transfer.receive(conn, req)
            ui.display(conn, req, 'got ' .. tostring(files and #files) .. ' ' .. tostring(info))
        end
    end
end`

// timedTransferBoard is a table with a 3-minute call limit and a
// transfer runner, on a fake clock; send sends caller 1 a line.
func timedTransferBoard(t *testing.T, journal bool) (tbl *Table, rec *recorder, clock *fakeClock, send func(string)) {
	t.Helper()
	limits, err := ParseTimeLimits("0=3m/0")
	if err != nil {
		t.Fatal(err)
	}
	clock = &fakeClock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	b := newXferBoard(t, xferBoardOptions{script: timedTransferScript, journal: journal, limits: limits, idle: time.Hour, now: clock.Now})
	return b.tbl, b.rec, clock, func(text string) { b.send("1", "msg", text) }
}

// A caller with a 3-minute call limit who is in an upload when their time
// is up is ended as anywhere, the transfer with them: a transfer's own
// deadline (30 minutes) is not cut to the caller's time, as a door's is.
func TestTimeLimitEndsACallerInATransfer(t *testing.T) {
	tbl, rec, clock, send := timedTransferBoard(t, true)
	send("connect")
	send("ann")
	send("u")
	if s := tbl.sessions["1"]; s == nil || s.stream == nil {
		t.Fatalf("no transfer started: %v", rec.take())
	}
	rec.take()
	// The caller's time runs out (and then some) while rz waits for them.
	for range 10 {
		clock.Advance(time.Minute)
		tbl.ReapIdle()
	}
	s := tbl.sessions["1"]
	if s != nil {
		t.Fatalf("10 minutes into a 3-minute call, the caller is still online in the transfer (stream running: %v); replies: %v",
			s.stream != nil, rec.take())
	}
	if got := strings.Join(rec.take(), "\n"); !strings.Contains(got, "Time is up. Bye!") {
		t.Errorf("the caller was not told their time is up: %q", got)
	}
}

// On a board run with -no-journal a stream call (transfer.receive here;
// door.external and door.server take the same path) starts its stream.
func TestTransferOnABoardWithoutJournals(t *testing.T) {
	tbl, rec, _, send := timedTransferBoard(t, false)
	send("connect")
	send("ann")
	send("u")
	if s := tbl.sessions["1"]; s == nil || s.stream == nil {
		t.Fatalf("no transfer started without a journal: %v", rec.take())
	}
}
