package session

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/events"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

const eventsMain = `return function(conn, req) end`

// eventsTable loads eventsMain and the given events.lua over a fresh
// database with user sysop, with a short resume budget.
func eventsTable(t *testing.T, eventsLua string) (*Table, *store.SQLite, error) {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.RegisterUser(context.Background(), "sysop", "pw"); err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"bbs.lua": eventsMain, "events.lua": eventsLua} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tbl, err := New(Config{
		ScriptsDir: dir, MainScript: filepath.Join(dir, "bbs.lua"), EventsScript: filepath.Join(dir, "events.lua"),
		ResumeBudget: 200 * time.Millisecond, LoadBudget: 300 * time.Millisecond, Journal: true,
	}, Deps{Replier: &recorder{}, Screens: screenMap{}, Store: db, Log: slog.New(slog.DiscardHandler)})
	if err == nil {
		t.Cleanup(tbl.Close)
	}
	return tbl, db, err
}

const eventsLua = `
local db = require 'db'
local door = require 'door'
return {
  zone = 'Europe/London',
  { name = 'bulletin', when = 'weekly sun 18:00', run = function(ev)
      db.post_message('sysop', {'Weekly bulletin (' .. ev.cause .. ')'})
  end },
  { name = 'reset', when = 'daily 02:30', zone = 'America/New_York', missed = 'skip', run = function()
      assert(door.open('arena'):set_global('round', 0))
  end },
  { name = 'broken', when = 'every 10m', run = function()
      local t = nil
      return t.field
  end },
  { name = 'loop', when = 'every 1h', run = function() while true do end end },
  { name = 'waits', when = 'every 1h', run = function() coroutine.yield() end },
}
`

func TestEventsDeclaredAndRun(t *testing.T) {
	tbl, db, err := eventsTable(t, eventsLua)
	if err != nil {
		t.Fatal(err)
	}
	evs := tbl.Events()
	if len(evs) != 5 {
		t.Fatalf("%d events declared, want 5", len(evs))
	}
	if evs[0].Zone.String() != "Europe/London" || evs[1].Zone.String() != "America/New_York" || evs[1].Missed != events.MissedSkip {
		t.Errorf("zones/missed: %v %v %v", evs[0].Zone, evs[1].Zone, evs[1].Missed)
	}

	res := tbl.RunEvent(events.Call{Name: "bulletin", Cause: events.CauseSysop})
	if res.Outcome != events.OutcomeOK {
		t.Fatalf("bulletin: %+v", res)
	}
	m, err := db.MessageAt(context.Background(), 0)
	if err != nil || m.Author != "sysop" || m.Lines[0] != "Weekly bulletin (sysop)" {
		t.Fatalf("the bulletin's post: %+v, %v", m, err)
	}
	if res := tbl.RunEvent(events.Call{Name: "reset", Cause: events.CauseSchedule}); res.Outcome != events.OutcomeOK {
		t.Fatalf("reset: %+v", res)
	}

	res = tbl.RunEvent(events.Call{Name: "broken", Cause: events.CauseSchedule})
	if res.Outcome != events.OutcomeError || !strings.Contains(res.Error, "events.lua:14:") {
		t.Errorf("broken: %+v, want an error at events.lua:14", res)
	}
	start := time.Now()
	res = tbl.RunEvent(events.Call{Name: "loop", Cause: events.CauseSchedule})
	if res.Outcome != events.OutcomeTimedOut || time.Since(start) > 2*time.Second {
		t.Errorf("loop: %+v after %s, want timed out after the 200ms budget", res, time.Since(start))
	}
	res = tbl.RunEvent(events.Call{Name: "waits", Cause: events.CauseSchedule})
	if res.Outcome != events.OutcomeError || !strings.Contains(res.Error, "must run to its end") {
		t.Errorf("waits: %+v", res)
	}
	if res := tbl.RunEvent(events.Call{Name: "nope", Cause: events.CauseSysop}); res.Outcome != events.OutcomeError {
		t.Errorf("an undeclared event ran: %+v", res)
	}
	// The table still serves after all that.
	if res := tbl.RunEvent(events.Call{Name: "bulletin", Cause: events.CauseSchedule}); res.Outcome != events.OutcomeOK {
		t.Errorf("bulletin after the failures: %+v", res)
	}
}

func TestEventsRefusedAtLoad(t *testing.T) {
	for _, tc := range []struct{ lua, want string }{
		{`return {{name = 'x', when = 'daily 25:00', run = function() end}}`, "not a time"},
		{`return {{name = 'x', when = 'daily 03:00'}}`, "run must be a function"},
		{`return {{name = 'x y', when = 'daily 03:00', run = function() end}}`, "only letters"},
		{`return {{name = 'x', when = 'daily 03:00', run = print, mised = 'skip'}}`, `unknown field "mised"`},
		{`return {{name = 'x', when = 'daily 03:00', run = print, zone = 'Mars/Olympus'}}`, "Mars/Olympus"},
		{`return {{name = 'x', when = 'daily 03:00', run = print, missed = 'twice'}}`, "'once' or 'skip'"},
		{`return {{name = 'x', when = 'every 1h', run = print}, {name = 'x', when = 'every 2h', run = print}}`, "taken"},
		{`return 42`, "must return a table"},
		{`return {`, "events.lua"},
		{`while true do end`, "events.lua"},
	} {
		_, _, err := eventsTable(t, tc.lua)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to say %q", tc.lua, err, tc.want)
		}
	}
}

// The example of docs/events.md loads, and each of its events runs.
func TestEventsManualExample(t *testing.T) {
	manual, err := os.ReadFile("../../../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(manual), "```lua\n")
	example, _, _ := strings.Cut(rest, "```")
	tbl, db, err := eventsTable(t, example)
	if err != nil {
		t.Fatalf("the manual's events.lua: %v", err)
	}
	if len(tbl.Events()) != 3 {
		t.Fatalf("%d events, want 3", len(tbl.Events()))
	}
	for _, e := range tbl.Events() {
		if res := tbl.RunEvent(events.Call{Name: e.Name, Cause: events.CauseSysop}); res.Outcome != events.OutcomeOK {
			t.Errorf("%s: %+v", e.Name, res)
		}
	}
	if n, err := db.MessageCount(context.Background()); err != nil || n != 1 {
		t.Errorf("the bulletin posted %d messages, %v", n, err)
	}
}
