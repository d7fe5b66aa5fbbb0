package session

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// qwkScript builds ann's packet when the caller says so, writes its
// file, shows its token, then tells the module it was fetched.
const qwkScript = `require 'ui'
local qwk = require 'qwk'
function m2bbs(conn, req)
    req = ui.ask(conn, req, 'ready?')
    local p, err = qwk.build('ann', {'general'})
    local path = assert(qwk.file('ann', p.token))
    req = ui.ask(conn, req, 'built ' .. (p and (p.messages .. ' ' .. p.token) or err))
    local ok, first = qwk.fetched('ann', p.token)
    req = ui.ask(conn, req, 'fetched ' .. tostring(first))
    while true do
        req = ui.ask(conn, req, 'echo ' .. req.data.msg)
    end
end`

// packetCounter counts the packets kept, and the packets' big reads and
// writes made on the worker's goroutine (onWorker) rather than in
// background work.
type packetCounter struct {
	*store.SQLite
	saves    atomic.Int64
	onWorker atomic.Bool
	heavy    atomic.Int64 // big reads and writes while onWorker
}

func (p *packetCounter) noteHeavy() {
	if p.onWorker.Load() {
		p.heavy.Add(1)
	}
}

func (p *packetCounter) SaveQWKPacket(ctx context.Context, pk store.QWKPacket) error {
	p.saves.Add(1)
	p.noteHeavy()
	return p.SQLite.SaveQWKPacket(ctx, pk)
}

func (p *packetCounter) QWKPacketData(ctx context.Context, user, token string) ([]byte, error) {
	p.noteHeavy()
	return p.SQLite.QWKPacketData(ctx, user, token)
}

func (p *packetCounter) QWKNew(ctx context.Context, user string, areas []string, max int) ([]store.ConferencePosts, error) {
	p.noteHeavy()
	return p.SQLite.QWKNew(ctx, user, areas, max)
}

// TestQWKBuildWaitsOffTheWorkerAndReplays: qwk.build and qwk.file run
// through the host's background work while others are served (the
// packet's reads and writes never on the worker's goroutine); after a
// crash the caller's replay answers them and qwk.fetched from the
// journal, building nothing again and moving nothing twice.
func TestQWKBuildWaitsOffTheWorkerAndReplays(t *testing.T) {
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	for _, u := range []string{"ann", "bob"} {
		if err := db.RegisterUser(ctx, u, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Post(ctx, store.NewPost{Area: "general", Author: "bob", Subject: "Hi", Lines: []string{"hello"}}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.lua"), []byte(qwkScript), 0o644); err != nil {
		t.Fatal(err)
	}
	counted := &packetCounter{SQLite: db}
	counted.onWorker.Store(true)
	var held []heldWork
	start := func() (*Table, *recorder) {
		rec := &recorder{}
		tbl, err := New(Config{
			ScriptsDir: dir, MainScript: filepath.Join(dir, "main.lua"),
			RatePerSecond: 1e6, RateBurst: 1 << 20, Journal: true,
		}, Deps{
			Replier: rec, Screens: screenMap{}, Store: counted, Log: slog.New(slog.DiscardHandler),
			Background: func(ctx context.Context, _ string, work, then func()) {
				held = append(held, heldWork{ctx, work, then})
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(tbl.Close)
		return tbl, rec
	}
	tbl, rec := start()
	expect(t, converse(tbl, rec, "1", "connect"), "1 prompt:ready?")
	expect(t, converse(tbl, rec, "1", "go"))
	if len(held) != 1 {
		t.Fatalf("%d works waiting, want qwk.build's", len(held))
	}
	// Another caller is served while the packet is made.
	expect(t, converse(tbl, rec, "2", "connect"), "2 prompt:ready?")
	// The build, then the file: neither reads posts nor reads or writes
	// the packet on the worker's goroutine.
	for range 2 {
		if len(held) != 1 {
			t.Fatalf("%d works waiting, want 1", len(held))
		}
		h := held[0]
		held = nil
		counted.onWorker.Store(false)
		h.work()
		counted.onWorker.Store(true)
		h.then()
		tbl.Commit()
	}
	if n := counted.heavy.Load(); n != 0 {
		t.Errorf("%d packet reads or writes ran on the worker's goroutine", n)
	}
	got := rec.take()
	if len(got) != 1 || !strings.HasPrefix(got[0], "1 prompt:built 1 ") {
		t.Fatalf("after the build: %q", got)
	}
	expect(t, converse(tbl, rec, "1", "x"), "1 prompt:fetched true")
	crash(tbl)

	tbl2, rec2 := start()
	expect(t, converse(tbl2, rec2, "1", "y"), "1 prompt:echo y")
	if st := tbl2.JournalStats(); st.Replayed != 1 || st.Diverged != 0 {
		t.Errorf("journal stats %+v, want one replay and no divergence", st)
	}
	if n := counted.saves.Load(); n != 1 || len(held) != 0 {
		t.Errorf("%d packets kept and %d builds waiting after the replay, want 1 and 0", n, len(held))
	}
	if n, _ := db.NewCount(ctx, "ann", "general"); n != 0 {
		t.Errorf("%d posts new to ann after the fetch", n)
	}
}
