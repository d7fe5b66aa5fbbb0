package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/handler/events"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// e2eEvents is the events.lua of TestEventsEndToEnd: docs/events.md's
// bulletin, posted every second until it is on the board, and a job that
// never ends.
const e2eEvents = `local db = require 'db'
local door = require 'door'
return {
    zone = 'Europe/London',
    { name = 'bulletin', when = 'every 1s', missed = 'skip', run = function(ev)
        local state = door.open('bulletin')
        if state:get_global('posted') or not db.user_exists('zed') then return end
        assert(db.post_message('zed', {'BULLETIN: the board is open all night.'}))
        assert(state:set_global('posted', true))
        print('bulletin posted (' .. ev.cause .. ')')
    end },
    { name = 'stuck', when = 'weekly sun 03:00', zone = 'America/New_York', run = function()
        while true do end
    end },
}
`

// TestEventsEndToEnd: a real board with events.lua runs its every-second
// bulletin by itself, a caller then reads it, "m2bbs events" lists the
// events and their runs, and "m2bbs events -run" of a job that loops
// reports it stopped at the resume budget while the caller is served.
func TestEventsEndToEnd(t *testing.T) {
	dir := t.TempDir()
	scripts, screensDir := filepath.Join(dir, "scripts"), filepath.Join(dir, "screens")
	copyDir(t, "../../scripts", scripts)
	copyDir(t, "../../screens", screensDir)
	if err := os.WriteFile(filepath.Join(scripts, "events.lua"), []byte(e2eEvents), 0o644); err != nil {
		t.Fatal(err)
	}
	port, err := mongrel2.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	logs := startM2BBS(t, "run", "-port", fmt.Sprint(port), "-data", dir, "-db", filepath.Join(dir, "bbs.db"),
		"-scripts", scripts, "-screens", screensDir, "-bcrypt-cost", "4", "-resume-budget", "700ms",
		"-web-port", "-1", "-telnet-port", "-1")
	logs.WaitFor(t, 30*time.Second, "host ready")
	logs.WaitFor(t, 5*time.Second, `msg=events`, "declared=2", "host_zone=")
	logs.WaitFor(t, 5*time.Second, `msg="event declared"`, "event=stuck", `when="weekly sun 03:00"`, "zone=America/New_York", "missed=once")
	b := &bbs{addr: fmt.Sprintf("127.0.0.1:%d", port), logs: logs}
	b.awaitRoute(t)

	zed := b.call(t)
	arrive(t, zed, "zed", "pw", "pw", "y")
	logs.WaitFor(t, 10*time.Second, "lua print", "bulletin posted (schedule)", "event=bulletin")
	if out := visit(t, zed, "2"); !strings.Contains(out, "BULLETIN: the board is open all night.") {
		t.Errorf("the caller does not see the bulletin:\n%s", out)
	}

	eventsCmd := func(args ...string) (string, error) {
		cmd := exec.Command(os.Args[0], append([]string{"events", "-addr", "http://" + b.addr}, args...)...)
		cmd.Env = append(os.Environ(), runMainEnv+"=1")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := eventsCmd()
	if err != nil {
		t.Fatalf("m2bbs events: %v\n%s", err, out)
	}
	for _, want := range []string{
		`(?m)^EVENT +WHEN +ZONE +MISSED +NEXT DUE$`,
		`(?m)^bulletin +every 1s +Europe/London +skip +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (GMT|BST)$`,
		`(?m)^LAST RUNS\nbulletin +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (GMT|BST) +ok in [\d.]+m?s \(schedule, pid \d+\)$`,
		`(?m)^stuck +weekly sun 03:00 +America/New_York +once +\d{4}-\d\d-\d\d 03:00:00 E[SD]T$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("m2bbs events does not match %s:\n%s", want, out)
		}
	}

	start := time.Now()
	out, err = eventsCmd("-run", "stuck")
	if err == nil || !strings.Contains(out, "event stuck: timed out in") || !strings.Contains(out, "(sysop, pid") ||
		!strings.Contains(out, "ran for more than 700ms") {
		t.Errorf("m2bbs events -run stuck (%v):\n%s", err, out)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("running the stuck event took %s", took)
	}
	logs.WaitFor(t, 5*time.Second, `msg="event failed"`, "event=stuck", "cause=sysop", `outcome="timed out"`)
	if out := visit(t, zed, "Q", "5"); !strings.Contains(out, "Online now:\n  zed\n") {
		t.Errorf("the caller after the stuck event:\n%s", out)
	}
	if out, err := eventsCmd("-run", "nope"); err == nil || !strings.Contains(out, "404") {
		t.Errorf("m2bbs events -run nope (%v):\n%s", err, out)
	}
}

// TestEventsOncePerBoardWithLines: two phone lines (two hosts, one
// database) both tick an every-second event; each due time runs once.
func TestEventsOncePerBoardWithLines(t *testing.T) {
	dir := t.TempDir()
	scripts := filepath.Join(dir, "scripts")
	copyDir(t, "../../scripts", scripts)
	if err := os.WriteFile(filepath.Join(scripts, "events.lua"), []byte(`local door = require 'door'
return {{name = 'tick', when = 'every 1s', run = function(ev)
    print('tick due ' .. ev.due)
end}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	port, err := mongrel2.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	logs := startM2BBS(t, "run", "-lines", "2", "-port", fmt.Sprint(port), "-data", dir,
		"-db", filepath.Join(dir, "bbs.db"), "-scripts", scripts, "-screens", "../../screens",
		"-web-port", "-1", "-telnet-port", "-1")
	logs.WaitFor(t, 30*time.Second, "m2bbs is ready")
	for _, line := range []string{"line=1", "line=2"} { // each line's host runs a scheduler
		logs.WaitFor(t, 10*time.Second, `msg=events`, line, "declared=1")
	}
	deadline := time.Now().Add(15 * time.Second)
	for logs.Count("lua print", "tick due") < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than 5 ticks in 15 s:\n%s", logs.String())
		}
		logs.WaitFor(t, 5*time.Second, "lua print", "tick due")
	}
	// Each due time (in Unix seconds) is printed by the one host that
	// claimed it: twice would mean both lines ran it.
	seen := map[string]bool{}
	for _, r := range regexp.MustCompile(`tick due (\d+)`).FindAllStringSubmatch(logs.String(), -1) {
		if seen[r[1]] {
			t.Errorf("due time %s ran twice:\n%s", r[1], logs.String())
		}
		seen[r[1]] = true
	}
}

// TestEventsMissedWhileDown: a board whose database says its events were
// due three days ago (it was down since) starts: the 'once' event runs one
// catch-up, the 'skip' event is stored as skipped, and both wait for
// their next time.
func TestEventsMissedWhileDown(t *testing.T) {
	dir := t.TempDir()
	scripts := filepath.Join(dir, "scripts")
	copyDir(t, "../../scripts", scripts)
	if err := os.WriteFile(filepath.Join(scripts, "events.lua"), []byte(`return {
    zone = 'Europe/London',
    { name = 'nightly', when = 'daily 03:00', run = function(ev) print('nightly ' .. ev.cause) end },
    { name = 'greeting', when = 'daily 18:00', missed = 'skip', run = function() print('good evening') end },
}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// The database as the board left it three days ago.
	dbPath := filepath.Join(dir, "bbs.db")
	db, err := store.Open(dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	threeDaysAgo := time.Now().Add(-72 * time.Hour)
	for name, when := range map[string]string{"nightly": "daily 03:00", "greeting": "daily 18:00"} {
		sched, err := events.Parse(when)
		if err != nil {
			t.Fatal(err)
		}
		ev := events.Event{Name: name, Schedule: sched, Zone: london}
		if _, err := db.EventDue(t.Context(), name, ev.Key(), ev.Next(threeDaysAgo)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	port, err := mongrel2.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	logs := startM2BBS(t, "run", "-port", fmt.Sprint(port), "-data", dir, "-db", dbPath,
		"-scripts", scripts, "-screens", "../../screens", "-web-port", "-1", "-telnet-port", "-1")
	logs.WaitFor(t, 30*time.Second, "lua print", "nightly catch-up", "event=nightly")
	logs.WaitFor(t, 10*time.Second, `msg="event skipped"`, "event=greeting", "the board was down")
	b := &bbs{addr: fmt.Sprintf("127.0.0.1:%d", port), logs: logs}
	b.awaitRoute(t)
	st := b.status(t)
	if len(st.Events) != 2 {
		t.Fatalf("events on the status page: %+v", st.Events)
	}
	for _, e := range st.Events {
		if len(e.Runs) != 1 || !e.NextDue.After(time.Now()) {
			t.Errorf("%s: next due %s, runs %+v; want one run and a due time to come", e.Name, e.NextDue, e.Runs)
			continue
		}
		want := map[string]string{"nightly": "catch-up ok", "greeting": "schedule skipped"}[e.Name]
		if got := e.Runs[0].Cause + " " + e.Runs[0].Outcome; got != want {
			t.Errorf("%s ran as %q, want %q", e.Name, got, want)
		}
	}
	if n := logs.Count("good evening"); n != 0 {
		t.Errorf("the skipped event ran %d times", n)
	}
}
