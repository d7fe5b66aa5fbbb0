package session

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/handler/live"
)

// rejoinScript is chatScript with a 'rejoin' line: the caller leaves the
// room and comes straight back (a /join of the room they are in).
const rejoinScript = `
local ui = require 'ui'
local shared = require 'shared'
function m2bbs(conn, req)
  req = ui.ask(conn, req, 'Name?', '> ')
  local me = req.data.msg
  assert(shared.subscribe(conn, 'chat'))
  while true do
    local r, events = shared.ask(conn, req, 'Say:', '> ')
    if events then
      for _, ev in ipairs(events) do ui.display(conn, req, ev.text) end
    else
      req = r
      if req.data.msg == 'rejoin' then
        assert(shared.unsubscribe(conn, 'chat'))
        assert(shared.subscribe(conn, 'chat'))
      end
    end
  end
end
`

// onceBell rings once, then ends Listen: one poll of the other lines.
type onceBell struct{ rung bool }

func (b *onceBell) Ring(context.Context) error { return nil }
func (b *onceBell) Wait(context.Context) error {
	if b.rung {
		return errors.New("done")
	}
	b.rung = true
	return nil
}

// TestCallerInTheRoomAllAlongHearsAnotherLineAcrossAnUpgrade: lee, on
// phone line 2, left the room and came back, and has been in it since.
// Kim, on line 1, says a line; before line 2's host reads it, an upgrade
// moves lee onto the new scripts (Detach, then Adopt by replay, on the
// same host's hub). Lee has listened all along: he must be shown kim's
// line.
func TestCallerInTheRoomAllAlongHearsAnotherLineAcrossAnUpgrade(t *testing.T) {
	db, scripts := chatBoard(t)
	if err := os.WriteFile(filepath.Join(scripts, "main.lua"), []byte(rejoinScript), 0o644); err != nil {
		t.Fatal(err)
	}
	h := &chatHost{}
	h.hub = live.New(func(connID string, ev live.Event) {
		h.pending = append(h.pending, pendingEvent{connID, ev})
	}, db, nil)
	cfg := Config{ScriptsDir: scripts, MainScript: filepath.Join(scripts, "main.lua"), Journal: true}
	for range 2 {
		rec := &recorder{}
		tbl, err := New(cfg, Deps{
			Replier: rec, Screens: screenMap{}, Store: db, Log: slog.New(slog.DiscardHandler),
			Channels: h.hub, Online: h.online,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(tbl.Close)
		h.tables, h.recs = append(h.tables, tbl), append(h.recs, rec)
	}
	line1 := live.New(func(string, live.Event) {}, db, nil)

	h.join(0, "2", "lee")
	h.say(0, "2", "rejoin") // lee leaves the room and comes back: in it from now on
	h.recs[0].take()
	if _, err := line1.Publish("1", "kim", "chat", "kim: hello lee"); err != nil {
		t.Fatal(err)
	}
	sender, ok := h.tables[0].Detach("2") // the upgrade moves lee (Host.Upgrade)
	if !ok || !h.tables[1].Adopt("2", sender) {
		t.Fatal("lee was not moved")
	}
	h.recs[1].take()
	h.hub.Listen(context.Background(), &onceBell{}) // line 2's host reads line 1's events
	h.pump()
	if got := strings.Join(h.recs[1].take(), "\n"); !strings.Contains(got, "kim: hello lee") {
		t.Errorf("lee, in the room all along, was not shown kim's line; he got:\n%s", got)
	}
}
