package session

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/live"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/luaapi"
)

// chatScript is a chat room: the caller gives a name; each line
// they say is published; each event shown, and the prompt asked again.
// 'menu' takes them to a plain ui.ask prompt, where events wait;
// 'rejoin' leaves the room and comes straight back.
const chatScript = `
local ui = require 'ui'
local shared = require 'shared'
function m2bbs(conn, req)
  req = ui.ask(conn, req, 'Name?', '> ')
  local me = req.data.msg
  assert(shared.subscribe(conn, 'chat'))
  shared.incr('room', 'joined')
  while true do
    local r, events = shared.ask(conn, req, 'Say:', '> ')
    if events then
      for _, ev in ipairs(events) do ui.display(conn, req, ev.text) end
    else
      req = r
      local line = req.data.msg
      if line == 'bye' then return end
      if line == 'menu' then
        req = ui.ask(conn, req, 'Menu:', '> ')
      elseif line == 'rejoin' then
        assert(shared.unsubscribe(conn, 'chat'))
        assert(shared.subscribe(conn, 'chat'))
      else
        assert(shared.publish(conn, 'chat', me .. ': ' .. line))
      end
    end
  end
end
`

// chatHost is one host's worth of chat: two workers (tables) sharing a
// hub, over a database that outlives them.
type chatHost struct {
	hub     *live.Hub
	tables  []*Table
	recs    []*recorder
	pending []pendingEvent
}

type pendingEvent struct {
	connID string
	ev     live.Event
}

func newChatHost(t *testing.T, db store.Store, scripts string) *chatHost {
	return newHubHost(t, db, Config{ScriptsDir: scripts, MainScript: filepath.Join(scripts, "main.lua"), Journal: true}, screenMap{}, nil)
}

// newLineChatHost is newChatHost as one phone line's host: its hub
// carries events to and from the other lines' hubs over db.
func newLineChatHost(t *testing.T, db store.Store, scripts string) *chatHost {
	return newHubHostOn(t, db, db, Config{ScriptsDir: scripts, MainScript: filepath.Join(scripts, "main.lua"), Journal: true}, screenMap{}, nil)
}

// newHubHost is a host of two workers running cfg, sharing a hub, on the
// clock now (time.Now when nil).
func newHubHost(t testing.TB, db store.Store, cfg Config, scr luaapi.Screens, now func() time.Time) *chatHost {
	return newHubHostOn(t, db, nil, cfg, scr, now)
}

// newHubHostOn is newHubHost whose hub stores and reads other lines'
// events in events (none when nil).
func newHubHostOn(t testing.TB, db store.Store, events store.SharedState, cfg Config, scr luaapi.Screens, now func() time.Time) *chatHost {
	t.Helper()
	h := &chatHost{}
	h.hub = live.New(func(connID string, ev live.Event) {
		h.pending = append(h.pending, pendingEvent{connID, ev}) // as dispatch posts to the worker
	}, events, nil)
	h.hub.SetTables(db)
	for range 2 {
		rec := &recorder{}
		tbl, err := New(cfg, Deps{
			Replier: rec, Screens: scr, Store: db, Log: slog.New(slog.DiscardHandler),
			Channels: h.hub, Online: h.online, Now: now,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(tbl.Close)
		h.tables, h.recs = append(h.tables, tbl), append(h.recs, rec)
	}
	return h
}

func (h *chatHost) online(connID string) bool {
	for _, tbl := range h.tables {
		if tbl.Has(connID) {
			return true
		}
	}
	return false
}

// saidNow stamps an event the tests hand a table themselves as given out
// after every subscription (live.Event.Stamp).
const saidNow = math.MaxInt64

// join connects connID on worker w as name.
func (h *chatHost) join(w int, connID, name string) {
	h.say(w, connID, "connect")
	h.say(w, connID, name)
}

// say sends line as connID on worker w, then runs the events it
// published on the listeners' workers, as their goroutines would.
func (h *chatHost) say(w int, connID, line string) {
	handle(h.tables[w], msg(connID, line))
	h.pump()
}

func (h *chatHost) pump() {
	for len(h.pending) > 0 {
		p := h.pending[0]
		h.pending = h.pending[1:]
		for _, tbl := range h.tables {
			if tbl.Has(p.connID) {
				tbl.Wake(p.connID, p.ev.Channel, p.ev.From, p.ev.Text, p.ev.Stamp)
				tbl.DeliverEvents() // as the worker does when its queue is empty
				tbl.Commit()
			}
		}
	}
}

func chatBoard(t *testing.T) (store.Store, string) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	scripts := t.TempDir()
	if err := os.WriteFile(filepath.Join(scripts, "main.lua"), []byte(chatScript), 0o644); err != nil {
		t.Fatal(err)
	}
	return db, scripts
}

// TestAnEventWakesACallerOnAnotherWorker: kim, on worker 0, says a line;
// lee, waiting at his prompt on worker 1, is shown it and asked again.
func TestAnEventWakesACallerOnAnotherWorker(t *testing.T) {
	db, scripts := chatBoard(t)
	h := newChatHost(t, db, scripts)
	h.join(0, "1", "kim")
	h.join(1, "2", "lee")
	h.recs[0].take()
	h.recs[1].take()
	h.say(0, "1", "hello")
	expect(t, h.recs[0].take(), "1 prompt:Say:")
	expect(t, h.recs[1].take(), "2 screen:kim: hello", "2 prompt:Say:")
	// Lee's own line still reaches him as a line, and kim as an event.
	h.say(1, "2", "hi kim")
	expect(t, h.recs[1].take(), "2 prompt:Say:")
	expect(t, h.recs[0].take(), "1 screen:lee: hi kim", "1 prompt:Say:")
	if st := h.tables[1].Stats(); st.Events != 1 {
		t.Errorf("worker 1 stats %+v; want one event", st)
	}
}

// TestEventsWaitForSharedAsk: a caller at another prompt is not resumed
// by an event; it waits for their next shared.ask, up to MaxQueuedEvents.
func TestEventsWaitForSharedAsk(t *testing.T) {
	db, scripts := chatBoard(t)
	h := newChatHost(t, db, scripts)
	h.join(0, "1", "kim")
	h.join(1, "2", "lee")
	h.say(1, "2", "menu")
	h.recs[1].take()
	h.say(0, "1", "first")
	if got := h.recs[1].take(); len(got) != 0 {
		t.Fatalf("lee, at the menu, was sent %q", got)
	}
	for i := range MaxQueuedEvents + 3 {
		h.tables[1].Wake("2", "chat", "kim", "flood "+string(rune('a'+i%26)), saidNow)
	}
	if st := h.tables[1].Stats(); st.EventsDropped != 4 {
		t.Errorf("dropped %d events; want 4 (1 + %d + 3 past %d)", st.EventsDropped, MaxQueuedEvents, MaxQueuedEvents)
	}
	h.say(1, "2", "x") // leaves the menu: back in shared.ask, the events come, all at once
	got := h.recs[1].take()
	if len(got) != 1+MaxQueuedEvents+1 || got[1] != "2 screen:kim: first" || got[len(got)-1] != "2 prompt:Say:" {
		t.Fatalf("after the menu lee got %d replies, starting %q", len(got), got[:min(len(got), 3)])
	}
}

// TestReplayAnswersFromTheJournal: lee's host dies after an event woke
// him; a new host rebuilds his session from the journal: the event is
// not shown again, the counter is not incremented again, and he listens
// on the new host's hub.
func TestReplayAnswersFromTheJournal(t *testing.T) {
	db, scripts := chatBoard(t)
	h := newChatHost(t, db, scripts)
	h.join(0, "1", "kim")
	h.join(1, "2", "lee")
	h.say(0, "1", "hello")
	for _, tbl := range h.tables {
		crash(tbl)
	}

	h2 := newChatHost(t, db, scripts)
	h2.say(1, "2", "still here")
	// Lee's line reaches no one yet (kim has no session on this host);
	// lee is asked again.
	expect(t, h2.recs[1].take(), "2 prompt:Say:")
	if st := h2.tables[1].JournalStats(); st.Replayed != 1 || st.Diverged != 0 {
		t.Fatalf("journal stats %+v; want one clean replay", st)
	}
	joined, _, err := db.SharedGet(context.Background(), "room", "joined")
	if err != nil || joined.Num != 2 {
		t.Errorf("room.joined = %v, %v; want 2 (the replay must not count lee again)", joined.Num, err)
	}
	// Kim's session comes back on worker 0; his line wakes lee.
	h2.say(0, "1", "back")
	expect(t, h2.recs[1].take(), "2 screen:kim: back", "2 prompt:Say:")
	if !strings.Contains(strings.Join(h2.recs[0].take(), "\n"), "1 prompt:Say:") {
		t.Error("kim was not asked again")
	}
}

// TestChatDoorAcrossWorkers: the shipped Teleconference door, two callers
// on two workers: what one says reaches the other at their Chat> prompt.
func TestChatDoorAcrossWorkers(t *testing.T) {
	h := doorsHost(t, 0, nil)
	for w, name := range []string{"kim", "lee"} {
		id := string(rune('1' + w))
		h.join(w, id, name)
		h.say(w, id, "3") // the third door: wire.lua
	}
	kim, lee := strings.Join(h.recs[0].take(), "\n"), strings.Join(h.recs[1].take(), "\n")
	if !strings.Contains(kim, "1 prompt:") || !strings.Contains(kim, "T E L E C O N F E R E N C E") {
		t.Fatalf("kim did not get into the room:\n%s", kim)
	}
	// (Each worker's table sees only its own callers online here.)
	if !strings.Contains(lee, "Lately:\n* kim comes in.\nYou are in lobby.") || !strings.Contains(lee, "In lobby: lee") {
		t.Errorf("lee was not shown the room's last lines and the room he is in:\n%s", lee)
	}
	if !strings.Contains(kim, "1 prompt:* lee comes in.") {
		t.Errorf("kim, at his prompt, did not see lee come in:\n%s", kim)
	}
	h.say(0, "1", "hello lee")
	expect(t, h.recs[1].take(), "2 prompt:kim: hello lee")
	// A burst of events costs lee one message, however many they are:
	// a front end hangs up on a caller with more than 16 waiting.
	for i := range 20 {
		h.tables[1].Wake("2", "chat.room.lobby", "kim", fmt.Sprint("kim: burst ", i), saidNow)
	}
	h.tables[1].DeliverEvents()
	h.tables[1].Commit()
	got := h.recs[1].take()
	if len(got) != 1 || !strings.HasPrefix(got[0], "2 prompt:kim: burst 0\nkim: burst 1\n") || !strings.HasSuffix(got[0], "kim: burst 19") {
		t.Errorf("lee got %q; want one prompt with the 20 lines", got)
	}
	// A line too long for one event is refused to its sayer, and the
	// room goes on.
	expect(t, h.recs[0].take(), "1 prompt:") // kim's own, after he spoke
	h.say(1, "2", strings.Repeat("x", 1100))
	expect(t, h.recs[1].take(), "2 prompt:(that line is too long for the room: 400 bytes at most)")
	if got := h.recs[0].take(); len(got) != 0 {
		t.Errorf("kim was told of a line the room refused: %q", got)
	}
	h.say(1, "2", "/q")
	expect(t, h.recs[0].take(), "1 prompt:* lee leaves.")
}
