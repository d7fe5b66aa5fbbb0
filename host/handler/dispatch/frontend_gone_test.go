package dispatch

import (
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/session"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// counting numbers the lines of one call, so that a test sees whether a
// line went to a new call or carried on an old one.
const counting = `require 'ui'
function m2bbs(conn, req)
    local n = 0
    repeat
        n = n + 1
        req = ui.ask(conn, req, 'line ' .. n .. ': ' .. req.data.msg)
    until req.data.msg == 'bye'
end`

func journaled() Config { return Config{Session: session.Config{Journal: true}} }

func openDB(t *testing.T) *store.SQLite {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func (b *board) answers(t *testing.T, connID, line, want string) {
	t.Helper()
	b.say(connID, line)
	b.ft.waitFor(t, connID, func(r reply) bool { return r.kind == "prompt" && r.text == want })
}

// TestFrontEndGoneEndsItsCalls: after the transport's note that the front
// end went away, a line on an old conn id starts a new call: nothing of the
// old caller's session or journal is reached, and nothing is sent to the
// old conn ids.
func TestFrontEndGoneEndsItsCalls(t *testing.T) {
	b := startBoardDeps(t, counting, journaled(), Deps{Store: openDB(t)})
	b.answers(t, "1", "connect", "line 1: connect")
	b.answers(t, "1", "a", "line 2: a")
	b.answers(t, "2", "connect", "line 1: connect")
	b.ft.mu.Lock()
	sentBefore := len(b.ft.sent)
	b.ft.mu.Unlock()

	b.ft.in <- FrontEndGoneNote(time.Now())
	// The new front end's caller 1 says something without a connect.
	b.answers(t, "1", "b", "line 1: b")
	b.ft.mu.Lock()
	for _, raw := range b.ft.sent[sentBefore:] {
		for _, r := range decodeReply(t, raw) {
			if r.connID == "2" {
				t.Errorf("the old caller 2 was sent %+v after its front end went away", r)
			}
		}
	}
	b.ft.mu.Unlock()
	if st := b.host.Status(); st.Sessions.Active != 1 {
		t.Errorf("%d sessions active, want only the new caller's", st.Sessions.Active)
	}
}

// TestFrontEndElsewhereGoneDropsOnlyItsOwnJournals: with the front end on
// another machine, a host that sees it go ends its own calls and drops
// their journals, but not the journal of another line's caller, who may
// be live behind it (the drop may be the network's).
func TestFrontEndElsewhereGoneDropsOnlyItsOwnJournals(t *testing.T) {
	db := openDB(t)
	ctx := t.Context()
	other := [][]byte{[]byte("another host's caller")}
	if err := db.ResetJournal(ctx, "77", -1, other); err != nil {
		t.Fatal(err)
	}
	cfg := journaled()
	cfg.FrontEndElsewhere = true
	b := startBoardDeps(t, counting, cfg, Deps{Store: db})
	b.answers(t, "1", "connect", "line 1: connect")
	b.answers(t, "1", "a", "line 2: a")
	b.ft.in <- FrontEndGoneNote(time.Now().Add(time.Second))
	b.answers(t, "1", "b", "line 1: b") // a new call
	if got, _, err := db.LoadJournal(ctx, "77"); err != nil || len(got) != 1 {
		t.Errorf("another line's journal after the front end went: %q, %v", got, err)
	}
}

// TestHostRestartKeepsCallsUnlessItsFrontEndRestarted: a host restarted on
// its own (m2bbs host) carries its callers on from their journals; a host
// whose process also started the front end (m2bbs run,
// DropJournalsBefore) does not, as its callers' connections are gone.
func TestHostRestartKeepsCallsUnlessItsFrontEndRestarted(t *testing.T) {
	for _, tc := range []struct {
		name     string
		drop     bool
		wantNext string
	}{
		{"host alone", false, "line 3: b"},
		{"with its front end", true, "line 1: b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t)
			first := startBoardDeps(t, counting, journaled(), Deps{Store: db})
			first.answers(t, "1", "connect", "line 1: connect")
			first.answers(t, "1", "a", "line 2: a")
			first.cancel()
			if err := <-first.done; err != nil {
				t.Fatal(err)
			}
			first.done <- nil // for its Cleanup
			cfg := journaled()
			if tc.drop {
				cfg.DropJournalsBefore = time.Now()
			}
			second := startBoardDeps(t, counting, cfg, Deps{Store: db})
			second.answers(t, "1", "b", tc.wantNext)
		})
	}
}

// FuzzFrontEndGoneNote: no handler message is taken for the note, and the
// note gives back its time.
func FuzzFrontEndGoneNote(f *testing.F) {
	f.Add([]byte("m2bbs 1 @bbs 2:{},0:,"), int64(0))
	f.Add(FrontEndGoneNote(time.UnixMilli(1)), int64(1796242668286))
	f.Fuzz(func(t *testing.T, msg []byte, ms int64) {
		if _, ok := parseFrontEndGone(msg); ok && (len(msg) == 0 || msg[0] != 0) {
			t.Fatalf("%q taken for the note", msg)
		}
		at, ok := parseFrontEndGone(FrontEndGoneNote(time.UnixMilli(ms)))
		if !ok || at.UnixMilli() != ms {
			t.Fatalf("note of %d read back as %v, %v", ms, at, ok)
		}
	})
}
