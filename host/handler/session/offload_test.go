package session

import (
	"cmp"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/journal"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// hashScript registers a new name or logs an old one in (through pcall,
// which a hash must wait across too), then echoes.
const hashScript = `require 'ui'
require 'db'
function m2bbs(conn, req)
    req = ui.ask(conn, req, 'name?')
    local name = req.data.msg
    req = ui.ask(conn, req, 'password?')
    local pw = req.data.msg
    local ok, err
    if db.user_exists(name) then
        local fine
        fine, ok, err = pcall(function() return db.auth_user(name, pw) end)
    else
        ok, err = db.register_user(name, pw)
    end
    req = ui.ask(conn, req, name .. ' ' .. tostring(ok) .. ' ' .. tostring(err))
    while true do
        req = ui.ask(conn, req, 'echo ' .. req.data.msg)
    end
end`

// countingStore counts the hashes the store is asked for.
type countingStore struct {
	*store.SQLite
	hashes atomic.Int64
}

func (c *countingStore) HashPassword(password string) ([]byte, error) {
	c.hashes.Add(1)
	return c.SQLite.HashPassword(password)
}

func (c *countingStore) ComparePassword(name string, hash []byte, password string) (bool, error) {
	c.hashes.Add(1)
	return c.SQLite.ComparePassword(name, hash, password)
}

// heldWork is a hash handed to Background, held until the test runs it.
type heldWork struct {
	ctx        context.Context
	work, then func()
}

// hashBoard is a table whose hashes wait for the test: held lists them.
type hashBoard struct {
	tbl   *Table
	rec   *recorder
	db    *countingStore
	held  []heldWork
	now   time.Time
	logs  strings.Builder
	dir   string
	clock func() time.Time
	// burst is the callers' rate burst (0: no practical limit).
	burst int
}

func newHashBoard(t *testing.T) *hashBoard {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.lua"), []byte(hashScript), 0o644); err != nil {
		t.Fatal(err)
	}
	b := &hashBoard{db: &countingStore{SQLite: db}, dir: dir, now: time.Unix(1e9, 0)}
	b.clock = func() time.Time { return b.now }
	b.start(t)
	return b
}

// start runs a fresh table (a new host) on the board's database.
func (b *hashBoard) start(t *testing.T) {
	t.Helper()
	b.rec, b.held = &recorder{}, nil
	tbl, err := New(Config{
		ScriptsDir: b.dir, MainScript: filepath.Join(b.dir, "main.lua"),
		RatePerSecond: 1e6, RateBurst: cmp.Or(b.burst, 1<<20), Journal: true, IdleTimeout: time.Minute,
	}, Deps{
		Replier: b.rec, Screens: screenMap{"kicked": "Kicked.", "idle": "Idle."}, Store: b.db,
		Log: slog.New(slog.NewTextHandler(&b.logs, nil)), Now: b.clock,
		Background: func(ctx context.Context, _ string, work, then func()) {
			b.held = append(b.held, heldWork{ctx, work, then})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Close)
	b.tbl = tbl
}

// say handles a line as the worker does and returns the replies.
func (b *hashBoard) say(connID, line string) []string {
	handle(b.tbl, msg(connID, line))
	return b.rec.take()
}

// finish runs the oldest held hash and hands its result back, as the
// pool and the worker do, and returns the replies.
func (b *hashBoard) finish(t *testing.T) []string {
	t.Helper()
	if len(b.held) == 0 {
		t.Fatal("no hash is waiting")
	}
	h := b.held[0]
	b.held = b.held[1:]
	if h.ctx.Err() == nil {
		h.work()
	}
	h.then()
	b.tbl.Commit()
	return b.rec.take()
}

func TestOthersAreServedWhileAHashRuns(t *testing.T) {
	b := newHashBoard(t)
	b.say("2", "connect")
	b.say("2", "bob")
	expect(t, b.say("2", "pw-of-bob"))
	expect(t, b.finish(t), "2 prompt:bob true nil")

	expect(t, b.say("1", "connect"), "1 prompt:name?")
	expect(t, b.say("1", "ann"), "1 prompt:password?")
	// Ann's registration hashes: nothing for her yet, and Bob goes on.
	expect(t, b.say("1", "hunter2x"))
	if len(b.held) != 1 {
		t.Fatalf("%d hashes waiting, want 1", len(b.held))
	}
	expect(t, b.say("2", "hi"), "2 prompt:echo hi")
	expect(t, b.say("2", "again"), "2 prompt:echo again")
	// A line Ann types ahead waits for her hash, and is answered after it.
	expect(t, b.say("1", "early"))
	expect(t, b.finish(t), "1 prompt:ann true nil", "1 prompt:echo early")

	// The call was journaled with its result, and no password in clear.
	raw, _, err := b.db.LoadJournal(context.Background(), "1")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range raw {
		if strings.Contains(string(r), "hunter2x") {
			t.Errorf("the journal holds the password in clear: %q", r)
		}
		if e, err := journal.Parse(r); err == nil && e.Kind == journal.KindCall && e.Name == "db.register_user" && len(e.Results) > 0 {
			found = true
		}
	}
	if !found {
		t.Error("db.register_user is not journaled with its results")
	}

	// A new host replays Ann's call from the journal: no hash, no store.
	hashes := b.db.hashes.Load()
	crash(b.tbl)
	b.start(t)
	expect(t, b.say("1", "back"), "1 prompt:echo back")
	if len(b.held) != 0 || b.db.hashes.Load() != hashes {
		t.Errorf("the replay hashed: %d held, %d hashes (was %d)", len(b.held), b.db.hashes.Load(), hashes)
	}

	// A login waits across pcall; a wrong password is false, as before.
	b.say("3", "connect")
	b.say("3", "ann")
	expect(t, b.say("3", "hunter2x"))
	expect(t, b.say("2", "meanwhile"), "2 prompt:echo meanwhile")
	expect(t, b.finish(t), "3 prompt:ann true nil")
	b.say("4", "connect")
	b.say("4", "ANN")
	expect(t, b.say("4", "wrong"))
	expect(t, b.finish(t), "4 prompt:ANN false nil")
}

func TestAHashOutlivesNoCaller(t *testing.T) {
	b := newHashBoard(t)
	for _, id := range []string{"1", "2", "3"} {
		b.say(id, "connect")
		b.say(id, "user"+id)
		expect(t, b.say(id, "password"))
	}
	// 1 hangs up, 2 is kicked; 3 waits long past the idle timeout and is
	// not reaped: the board is working for them.
	b.tbl.Disconnect("1")
	b.tbl.Kick("2")
	b.rec.take()
	b.now = b.now.Add(time.Hour)
	if reaped := b.tbl.ReapIdle(); len(reaped) != 0 {
		t.Errorf("reaped %v while they waited for a hash", reaped)
	}
	expect(t, b.finish(t))
	expect(t, b.finish(t))
	expect(t, b.finish(t), "3 prompt:user3 true nil")
	for _, name := range []string{"user1", "user2"} {
		if ok, _ := b.db.UserExists(context.Background(), name); ok {
			t.Errorf("%s was registered after they left", name)
		}
	}
	if b.tbl.Len() != 1 {
		t.Errorf("%d sessions, want 1", b.tbl.Len())
	}
}

func TestALineFloodWhileHashingIsRefused(t *testing.T) {
	b := newHashBoard(t)
	b.say("1", "connect")
	b.say("1", "ann")
	b.say("1", "pw")
	for i := range MaxQueuedWhileHashing {
		expect(t, b.say("1", "ahead"+string(rune('a'+i))))
	}
	expect(t, b.say("1", "one too many"), "1 screen:"+waitingText)
	got := b.finish(t)
	if len(got) != 1+MaxQueuedWhileHashing || got[len(got)-1] != "1 prompt:echo aheadh" {
		t.Errorf("after the hash: %q", got)
	}
}

// TestAFloodWhileHashingIsCutOff: lines refused while their caller waits
// for a hash count against the flood limit, so a caller who keeps typing
// through a long wait is cut off, not answered for ever; the hash's
// result is then dropped.
func TestAFloodWhileHashingIsCutOff(t *testing.T) {
	b := newHashBoard(t)
	b.burst = 5 // the clock stands still: no token comes back
	b.start(t)
	b.say("1", "connect")
	b.say("1", "ann")
	b.say("1", "pw") // 2 of the 5 tokens spent ("connect" starts the call)
	for i := range MaxQueuedWhileHashing {
		expect(t, b.say("1", "ahead"+string(rune('a'+i))))
	}
	var last []string
	refusals := 0
	for refusals < 100 && b.tbl.Len() == 1 {
		last = b.say("1", "more")
		refusals++
	}
	// 3 tokens left, then 5 refusals within the limit, then the cut-off.
	if refusals != 9 || len(last) == 0 || !strings.Contains(last[0], "exit:"+fallbackFloodText) {
		t.Fatalf("after %d lines past the queue: %q", refusals, last)
	}
	expect(t, b.finish(t)) // nobody left to answer
}

func TestDetachFinishesTheHashFirst(t *testing.T) {
	b := newHashBoard(t)
	b.say("1", "connect")
	b.say("1", "ann")
	b.say("1", "pw")
	h := b.held[0]
	b.held = nil
	// The pool runs the hash; its result has not reached the table yet
	// when the drain asks for the session.
	go h.work()
	sender, ok := b.tbl.Detach("1")
	if !ok || sender == "" {
		t.Fatalf("Detach = %q, %v", sender, ok)
	}
	h.then() // late: dropped
	b.tbl.Commit()
	expect(t, b.rec.take(), "1 prompt:ann true nil")
	if ok, _ := b.db.UserExists(context.Background(), "ann"); !ok {
		t.Error("ann was not registered")
	}
	b.start(t)
	if !b.tbl.Adopt("1", sender) {
		t.Fatal("not adopted")
	}
	expect(t, b.say("1", "moved"), "1 prompt:echo moved")
}
