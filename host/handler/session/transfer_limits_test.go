package session

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/handler/transfer"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
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
	for _, p := range []string{"sz", "rz"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skip("no lrzsz")
		}
	}
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.lua"), []byte(timedTransferScript), 0o644); err != nil {
		t.Fatal(err)
	}
	runner, err := transfer.New(transfer.Config{Root: filepath.Join(t.TempDir(), "transfers")})
	if err != nil {
		t.Fatal(err)
	}
	limits, err := ParseTimeLimits("0=3m/0")
	if err != nil {
		t.Fatal(err)
	}
	clock = &fakeClock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	rec = &recorder{}
	posted := make(chan func(), 64)
	tbl, err = New(Config{
		ScriptsDir: dir, MainScript: filepath.Join(dir, "main.lua"), TimeLimits: limits, TimeZone: time.UTC,
		RatePerSecond: 1e6, RateBurst: 1 << 20, IdleTimeout: time.Hour, Journal: journal,
	}, Deps{
		Replier: rec, Screens: screenMap{"timeout": "Time is up. Bye!"}, Store: db, Now: clock.Now,
		Log:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Nodes: &fakeNodes{held: map[string]int{}}, Transfers: runner,
		Post: func(ctx context.Context, _ string, fn func()) bool {
			select {
			case posted <- fn:
				return true
			case <-ctx.Done():
				return false
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Close)
	send = func(text string) {
		body, _ := json.Marshal(map[string]any{"type": "msg", "msg": text,
			"terminal": map[string]any{"type": "ansi", "width": 80, "height": 24, "encoding": "utf-8", "ansi": true, "keys": true, "bin": true}})
		handle(tbl, &m2proto.Request{Sender: "sender-1", ConnID: "1", Path: "@bbs",
			Headers: []m2proto.Header{{Name: "METHOD", Value: "JSON"}, {Name: "PATH", Value: "@bbs"}}, Body: body})
	}
	return tbl, rec, clock, send
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
