package session

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/nativedoor"
	"github.com/m2bbs/m2bbs/host/handler/nativedoor/doortest"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/handler/termbridge"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// doorScript plays a native door from a menu: the test door, which reads
// DOOR32.SYS and echoes keys until Q.
const doorScript = `require 'ui'
local door = require 'door'
local game = door.external{name = 'Echo', command = {TESTDOOR, 'echo'}, dropfile = {'door32.sys', 'door.sys'}, charset = 'utf-8'}
local hang = door.external{name = 'Hang', command = {TESTDOOR, 'hang'}}
local size = door.external{name = 'Size', command = {TESTDOOR, 'size'}, charset = 'utf-8'}
function m2bbs(conn, req)
    while true do
        req = ui.ask(conn, req, 'menu')
        if req.data.msg == 'd' then
            local ok, why, code
            req, ok, why, code = game.run(conn, req)
            ui.display(conn, req, ('door: %s %s %s'):format(tostring(ok), tostring(why), tostring(code)))
        elseif req.data.msg == 'n' then
            ui.display(conn, req, 'node ' .. tostring(door.node()))
        elseif req.data.msg == 's' then
            req = size.run(conn, req)
        elseif req.data.msg == 'h' then
            local ok, why, code
            req, ok, why, code = hang.run(conn, req)
            ui.display(conn, req, ('door: %s %s %s'):format(tostring(ok), tostring(why), tostring(code)))
        end
    end
end`

// nativeBoard is a table whose door output and ends come back through a
// channel the test pumps, as a worker's results do.
type nativeBoard struct {
	tbl    *Table
	rec    *recorder
	db     *store.SQLite
	dir    string
	posted chan func()
	nodes  *fakeNodes
	closed bool
	logs   syncBuffer
	// now is the tables' clock; the test moves it.
	now time.Time
	// maxDoors is the runner's MaxRunning (its default when zero).
	maxDoors int
}

// syncBuffer is a log the door's goroutines may write too.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type fakeNodes struct{ held map[string]int }

func (f *fakeNodes) Claim(id string) int {
	if n := f.held[id]; n != 0 {
		return n
	}
	n := 1
	for taken := true; taken; {
		taken = false
		for _, m := range f.held {
			if m == n {
				taken, n = true, n+1
			}
		}
	}
	f.held[id] = n
	return n
}
func (f *fakeNodes) Release(id string) { delete(f.held, id) }
func (f *fakeNodes) Forget(id string)  { delete(f.held, id) }

func newNativeBoard(t *testing.T) *nativeBoard {
	t.Helper()
	return newNativeBoardWith(t, 0)
}

// newNativeBoardWith is newNativeBoard whose runner runs at most
// maxDoors doors at once (its default when zero).
func newNativeBoardWith(t *testing.T, maxDoors int) *nativeBoard {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dir := t.TempDir()
	script := strings.ReplaceAll(doorScript, "TESTDOOR", `'`+doortest.Build(t)+`'`)
	if err := os.WriteFile(filepath.Join(dir, "main.lua"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	b := &nativeBoard{db: db, dir: dir, nodes: &fakeNodes{held: map[string]int{}}, now: time.Unix(1e9, 0), maxDoors: maxDoors}
	b.start(t)
	return b
}

// start runs a fresh table (a new host) on the board's database.
func (b *nativeBoard) start(t *testing.T) {
	t.Helper()
	b.rec = &recorder{}
	posted := make(chan func(), 16) // this table's: an old one's goroutines may still post
	b.posted = posted
	runner := &nativedoor.Runner{TempRoot: t.TempDir(), MaxRunning: b.maxDoors}
	tbl, err := New(Config{
		ScriptsDir: b.dir, MainScript: filepath.Join(b.dir, "main.lua"),
		RatePerSecond: 1e6, RateBurst: 1 << 20, Journal: true, IdleTimeout: time.Minute,
	}, Deps{
		Replier: b.rec, Screens: screenMap{}, Store: b.db, Log: slog.New(slog.NewTextHandler(&b.logs, nil)),
		Nodes: b.nodes, Doors: runner, Now: func() time.Time { return b.now },
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
	b.tbl, b.closed = tbl, false
	t.Cleanup(func() {
		if b.tbl == tbl && !b.closed {
			tbl.Close()
		}
	})
}

// stop stops the table as a host that shuts down does.
func (b *nativeBoard) stop() {
	b.tbl.Close()
	b.closed = true
}

// doorGroup is the process group of the door connID is in.
func (b *nativeBoard) doorGroup(connID string) int {
	return b.tbl.sessions[connID].stream.stream.(*nativedoor.Run).Pgid()
}

// awaitGroupGone runs what the door's goroutines post until every process
// of group pgid has died, or fails.
func (b *nativeBoard) awaitGroupGone(t *testing.T, pgid int, why string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(nativedoor.Alive(pgid)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s: the door's group %d is still running", why, pgid)
		}
		select {
		case fn := <-b.posted:
			fn()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// say handles a line from a telnet caller (whose terminal does keystroke
// mode).
func (b *nativeBoard) say(connID, line string) []string { return b.send(connID, "msg", line) }

// keys handles keys from the telnet caller.
func (b *nativeBoard) keys(connID, keys string) []string { return b.send(connID, "keys", keys) }

func (b *nativeBoard) send(connID, kind, text string) []string {
	return b.sendSized(connID, kind, text, 80, 24)
}

// sendSized is send from a terminal of width × height.
func (b *nativeBoard) sendSized(connID, kind, text string, width, height int) []string {
	body, _ := json.Marshal(map[string]any{"type": kind, "msg": text,
		"terminal": map[string]any{"type": "ansi", "width": width, "height": height, "encoding": "utf-8", "ansi": true, "keys": true}})
	handle(b.tbl, &m2proto.Request{
		Sender: "sender-1", ConnID: connID, Path: "@bbs",
		Headers: []m2proto.Header{{Name: "METHOD", Value: "JSON"}, {Name: "PATH", Value: "@bbs"}},
		Body:    body,
	})
	return b.rec.take()
}

// pumpUntil runs what the door's goroutines posted, as the worker does,
// until the replies so far hold want.
func (b *nativeBoard) pumpUntil(t *testing.T, want string) string {
	t.Helper()
	var all strings.Builder
	deadline := time.After(10 * time.Second)
	for {
		for _, r := range b.rec.take() {
			all.WriteString(r + "\n")
		}
		if strings.Contains(all.String(), want) {
			return all.String()
		}
		select {
		case fn := <-b.posted:
			fn()
			b.tbl.Commit()
		case <-deadline:
			t.Fatalf("no %q in:\n%s", want, all.String())
		}
	}
}

// TestNativeDoor: a caller plays the door: it greets them from its drop
// files with their node, takes their keys, and when it exits the script
// goes on with its result; the door's call is journaled, the keys are not.
func TestNativeDoor(t *testing.T) {
	b := newNativeBoard(t)
	expect(t, b.say("1", "connect"), "1 prompt:menu")
	expect(t, b.say("2", "connect"), "2 prompt:menu")
	expect(t, b.say("2", "d"), "2 keys:") // the door runs; the coroutine waits
	b.pumpUntil(t, "Hello , 30 minutes left on node 2.")
	// Others are served meanwhile.
	expect(t, b.say("1", "x"), "1 prompt:menu")
	b.keys("2", "a")
	b.pumpUntil(t, `key 'a'`)
	b.say("2", "b") // a line sent before the gateway took keystroke mode
	b.pumpUntil(t, `key '\r'`)
	b.keys("2", "q")
	out := b.pumpUntil(t, "2 prompt:menu")
	if !strings.Contains(out, "Bye!") || !strings.Contains(out, "2 screen:door: true exited 0") {
		t.Errorf("after the door:\n%s", out)
	}
	raw, _, err := b.db.LoadJournal(t.Context(), "2")
	if err != nil {
		t.Fatal(err)
	}
	joined := ""
	for _, r := range raw {
		joined += string(r)
	}
	if !strings.Contains(joined, DoorCall) || strings.Contains(joined, `"msg":"a"`) || strings.Contains(joined, `"msg":"b"`) {
		t.Errorf("journal: %q", joined)
	}
}

// TestDoorAfterRestart: the host dies while a caller is in a door; the
// door dies with it (its group is killed), and the caller, resumed on a
// new host, is told so and goes on at the menu.
func TestDoorAfterRestart(t *testing.T) {
	b := newNativeBoard(t)
	b.say("1", "connect")
	b.say("1", "d")
	b.pumpUntil(t, "Q quits.")
	pgid := b.doorGroup("1")
	b.stop() // the host stops: the door is killed, the journal kept
	if len(nativedoor.Alive(pgid)) > 0 {
		t.Errorf("door's group %d alive after the host stopped", pgid)
	}
	b.start(t)
	// The caller's next key brings them back: told the door is over, at
	// the menu (the key itself is dropped: the menu takes lines).
	got := b.keys("1", "k")
	expect(t, got, "1 screen:The board restarted while you were in Echo: it had to close.",
		"1 screen:door: nil the board restarted while you were in the door nil", "1 prompt:menu")
	expect(t, b.say("1", "x"), "1 prompt:menu")
}

// TestHangUpKillsTheDoor: a caller who hangs up in a door that never
// exits leaves no process behind: its whole group is killed.
func TestHangUpKillsTheDoor(t *testing.T) {
	b := newNativeBoard(t)
	b.say("1", "connect")
	b.say("1", "h")
	b.pumpUntil(t, "hanging, child")
	pgid := b.doorGroup("1")
	if len(nativedoor.Alive(pgid)) == 0 {
		t.Fatal("door not running")
	}
	handle(b.tbl, &m2proto.Request{Sender: "sender-1", ConnID: "1", Path: "@bbs", Body: []byte(`{"type":"disconnect"}`),
		Headers: []m2proto.Header{{Name: "METHOD", Value: "JSON"}}})
	b.awaitGroupGone(t, pgid, "after the hang-up")
	if b.tbl.Has("1") {
		t.Error("session left after the hang-up")
	}
}

// TestClassicCallerIsToldDoorsNeedATerminal: the classic client has no
// terminal: the door does not start and the caller is told why.
func TestClassicCallerIsToldDoorsNeedATerminal(t *testing.T) {
	b := newNativeBoard(t)
	handle(b.tbl, msg("1", "connect"))
	b.rec.take()
	handle(b.tbl, msg("1", "d"))
	expect(t, b.rec.take(), "1 screen:"+streamNeedsTerminal, "1 screen:door: nil "+streamNeedsTerminal+" nil", "1 prompt:menu")
	// Nor does a telnet caller whose client would not do keystroke mode.
	body := `{"type":"msg","msg":"d","terminal":{"type":"ansi","width":80,"height":24,"ansi":true}}`
	handle(b.tbl, jsonReq("1", body))
	expect(t, b.rec.take(), "1 screen:"+streamNeedsTerminal, "1 screen:door: nil "+streamNeedsTerminal+" nil", "1 prompt:menu")
	// The refusals are journaled: a new host replays them as they were.
	b.stop()
	b.start(t)
	handle(b.tbl, msg("1", "x"))
	expect(t, b.rec.take(), "1 prompt:menu")
}

// TestKeysFloodIntoADoorHoldsUpNoOne: a hostile caller pours keys into a
// door that never reads them; each of their requests is taken or dropped
// at once (the worker never waits for the door), the keys held for the
// door stay bounded, and another caller's prompts keep answering at once.
func TestKeysFloodIntoADoorHoldsUpNoOne(t *testing.T) {
	b := newNativeBoard(t)
	b.say("1", "connect")
	b.say("2", "connect")
	b.say("1", "h")
	b.pumpUntil(t, "hanging, child")
	d := b.tbl.sessions["1"].stream
	burst := strings.Repeat("k", 1000)
	var worst time.Duration
	began := time.Now()
	for i := range 2000 {
		b.keys("1", burst)
		if i%200 == 0 {
			t0 := time.Now()
			expect(t, b.say("2", "x"), "2 prompt:menu")
			worst = max(worst, time.Since(t0))
		}
	}
	took := time.Since(began)
	st := d.bridge.Stats()
	if took > 5*time.Second || worst > 500*time.Millisecond {
		t.Errorf("2,000 keys requests took %v; the other caller's slowest prompt %v", took, worst)
	}
	// The host's keys rate took at most its burst; the door, reading
	// nothing, was handed at most its queue and its terminal's buffer.
	if st.KeysIn > int64(termbridgeMaxHeld) || st.Dropped == 0 && b.tbl.Stats().KeysDropped == 0 {
		t.Errorf("keys held for the door: %+v (host dropped %d)", st, b.tbl.Stats().KeysDropped)
	}
	t.Logf("2,000 keys requests in %v; other caller's slowest prompt %v; door took %d bytes, dropped %d pieces; host dropped %d requests",
		took, worst, st.KeysIn, st.Dropped, b.tbl.Stats().KeysDropped)
}

// termbridgeMaxHeld bounds the bytes of keys a door that reads nothing
// can be handed: the bridge's queue, the one piece its writer holds, and
// what the kernel's pseudo-terminal buffers (a few KiB; 64 KiB allowed).
const termbridgeMaxHeld = (termbridge.MaxQueued+1)*termbridge.MaxKeys + 64<<10

// TestDoorFollowsTheCallersTerminalSize: the door's terminal has the
// caller's size, and takes the new one when they resize theirs.
func TestDoorFollowsTheCallersTerminalSize(t *testing.T) {
	b := newNativeBoard(t)
	b.say("1", "connect")
	b.say("1", "s")
	b.pumpUntil(t, "size 80x24")
	b.sendSized("1", "keys", "", 120, 40) // the gateway reports the resize with the next keys
	b.pumpUntil(t, "size 120x40")
	b.keys("1", "x")
	b.pumpUntil(t, "1 prompt:menu")
}

// TestScriptsSeeTheNode: door.node() is the caller's node.
func TestScriptsSeeTheNode(t *testing.T) {
	b := newNativeBoard(t)
	b.say("1", "connect")
	b.say("2", "connect")
	expect(t, b.say("2", "n"), "2 screen:node 2", "2 prompt:menu")
}

// TestDetachKeepsTheNode: a caller detached from one table (an upgrade)
// and adopted by the next keeps their node.
func TestDetachKeepsTheNode(t *testing.T) {
	b := newNativeBoard(t)
	b.say("1", "connect")
	b.say("2", "connect")
	if n := b.tbl.NodeOf("2"); n != 2 {
		t.Fatalf("caller 2 on node %d", n)
	}
	old := b.tbl
	sender, ok := old.Detach("2")
	if !ok {
		t.Fatal("not detached")
	}
	b.start(t)
	b.say("3", "connect") // a new caller meanwhile: node 2 is not free
	if !b.tbl.Adopt("2", sender) || b.tbl.NodeOf("2") != 2 || b.tbl.NodeOf("3") != 3 {
		t.Errorf("adopted on node %d (the new caller on %d), want 2 (and 3)", b.tbl.NodeOf("2"), b.tbl.NodeOf("3"))
	}
	old.Close()
}

// TestConnectInADoorStartsANewCall: a "connect" on the conn id of a caller
// in a door (a front end that restarted and gave the id to someone else)
// starts a new call; the old caller's door is killed.
func TestConnectInADoorStartsANewCall(t *testing.T) {
	b := newNativeBoard(t)
	b.say("1", "connect")
	b.say("1", "h")
	b.pumpUntil(t, "hanging, child")
	pgid := b.doorGroup("1")
	expect(t, b.say("1", "connect"), "1 prompt:menu")
	b.awaitGroupGone(t, pgid, "after a new call on the id")
}

// TestDoorStartsArePaced: a caller going in and out of doors as fast as
// they can is refused a start within DoorStartEvery of the last.
func TestDoorStartsArePaced(t *testing.T) {
	b := newNativeBoard(t)
	b.say("1", "connect")
	b.say("1", "d")
	b.keys("1", "q")
	b.pumpUntil(t, "1 prompt:menu")
	b.now = b.now.Add(DoorStartEvery - time.Millisecond)
	expect(t, b.say("1", "d"), "1 screen:One moment before the next door, please.",
		"1 screen:door: nil One moment before the next door, please. nil", "1 prompt:menu")
	b.now = b.now.Add(time.Millisecond)
	expect(t, b.say("1", "d"), "1 keys:")
	b.pumpUntil(t, "Q quits.")
}
