package session

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/screens"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// dryRunOf is a dry run on b's scripts as they are now, reading b's
// database read-only, as m2bbs replay does.
func dryRunOf(t *testing.T, b *journaledBoard, budget time.Duration) *DryRun {
	t.Helper()
	ro, err := store.OpenReadOnly(b.path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ro.Close() })
	d, err := NewDryRun(Config{
		ScriptsDir: b.scripts, MainScript: filepath.Join(b.scripts, "bbs.lua"), ResumeBudget: budget,
	}, Deps{Screens: screens.NewDir("../../../screens"), Store: ro, Log: slog.New(slog.NewTextHandler(&b.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	return d
}

// storedJournal is connID's journal as b's database holds it.
func storedJournal(t *testing.T, b *journaledBoard, connID string) [][]byte {
	t.Helper()
	raw, _, err := b.db.LoadJournal(context.Background(), connID)
	if err != nil || len(raw) == 0 {
		t.Fatalf("journal of conn %s: %d entries, %v", connID, len(raw), err)
	}
	return raw
}

// editScript replaces old by new in b's scripts/NAME, which must hold it.
func editScript(t *testing.T, b *journaledBoard, name, old, new string) {
	t.Helper()
	path := filepath.Join(b.scripts, name)
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), old, new, 1)
	if edited == string(src) {
		t.Fatalf("%s no longer has %q", name, old)
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
}

// transcriptText is the transcript as one string, caller lines marked.
func transcriptText(lines []TranscriptLine) string {
	var b strings.Builder
	for _, l := range lines {
		switch {
		case l.Hidden:
			b.WriteString("> (hidden)\n")
		case l.Caller:
			b.WriteString("> " + l.Text + "\n")
		default:
			b.WriteString(l.Type + ": " + l.Text + "\n")
		}
	}
	return b.String()
}

// TestDryRunFindsTheCallerWhosePathChanged: three callers online, one
// writing a message, one at the "send to" prompt of a private message,
// one at the main menu. On the same scripts every journal replays
// cleanly and the transcript is what the caller saw; after an edit of the
// "send to" prompt, only that caller diverges, at that prompt. The dry
// runs leave every stored journal as it was.
func TestDryRunFindsTheCallerWhosePathChanged(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	converse(tbl, rec, "1", "connect", "ann", "pw", "pw", "y", "1", "first line")
	converse(tbl, rec, "2", "connect", "bob", "pw", "pw", "y", "3")
	converse(tbl, rec, "3", "connect", "cat", "pw", "pw", "y")
	stored := map[string][][]byte{}
	for _, id := range []string{"1", "2", "3"} {
		stored[id] = storedJournal(t, b, id)
	}

	d := dryRunOf(t, b, 0)
	for _, id := range []string{"1", "2", "3"} {
		out := d.Replay(id, stored[id])
		if out.Result != DryClean || out.Why != "" {
			t.Errorf("conn %s on the same scripts: %+v", id, out)
		}
	}
	ann := d.Replay("1", stored["1"])
	text := transcriptText(ann.Transcript)
	if ann.User != "ann" || !ann.FromCheckpoint || !strings.Contains(text, "> 1\n") || !strings.Contains(text, "> first line\n") ||
		!strings.Contains(text, "Type your message") {
		t.Errorf("ann's replay: %+v\n%s", ann, text)
	}

	editScript(t, b, "bbs.lua", "req = ui.prompt(conn, req, 'send_to')", "req = ui.ask(conn, req, 'Send it to whom?')")
	d = dryRunOf(t, b, 0)
	bob := d.Replay("2", stored["2"])
	if bob.Result != DryDiverged || bob.Prompt != 2 || bob.Saw != "[send_to]" || bob.Shows != "Send it to whom?" || bob.User != "bob" {
		t.Errorf("bob after the edit: %+v", bob)
	}
	for _, id := range []string{"1", "3"} {
		if out := d.Replay(id, stored[id]); out.Result != DryClean {
			t.Errorf("conn %s after the edit: %+v", id, out)
		}
	}
	for id, want := range stored {
		if got, _, err := b.db.LoadJournal(context.Background(), id); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("conn %s's journal changed by the dry runs (%v)", id, err)
		}
	}
	if got := converse(tbl, rec, "2", "ann"); len(got) == 0 || !strings.Contains(strings.Join(got, "\n"), "Type your message") {
		t.Errorf("bob's next line on the live table after the dry runs: %q", got)
	}
}

// TestDryRunHidesPasswords: a caller who registered and sits at the
// message of the day: their password lines are hidden in the transcript,
// and the password is nowhere in it.
func TestDryRunHidesPasswords(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	const password = "correct horse battery"
	converse(tbl, rec, "1", "connect", "ann", password, password)
	out := dryRunOf(t, b, 0).Replay("1", storedJournal(t, b, "1"))
	text := transcriptText(out.Transcript)
	if out.Result != DryClean || strings.Count(text, "> (hidden)\n") != 2 || strings.Contains(text, password) {
		t.Errorf("replay of a registration: %+v\n%s", out, text)
	}
}

// TestDryRunHidesAPasswordTheJournalHoldsInClear: a script that asks for
// the password with ui.ask and checks it a prompt later leaves it in
// clear in the journal (see secrets.go); the replay learns it is a
// password from db.auth_user, and the transcript hides it. (Such a replay
// diverges at that call, as a host's does: the call was journaled with
// the password's placeholder under the key of the table that ran it.)
func TestDryRunHidesAPasswordTheJournalHoldsInClear(t *testing.T) {
	b := newJournaledBoard(t)
	if err := b.db.RegisterUser(context.Background(), "ann", "open sesame"); err != nil {
		t.Fatal(err)
	}
	script := `require 'ui'
require 'db'
function m2bbs(conn, req)
    req = ui.ask(conn, req, 'Password?')
    local pw = req.data.msg
    req = ui.ask(conn, req, 'Log in now?')
    if db.auth_user('ann', pw) then
        req = ui.ask(conn, req, 'Welcome, ann. Command?')
    end
end
`
	if err := os.WriteFile(filepath.Join(b.scripts, "bbs.lua"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl, rec := b.table(t)
	converse(tbl, rec, "1", "connect", "open sesame", "y")
	raw := storedJournal(t, b, "1")
	if !strings.Contains(string(joinEntries(raw)), "open sesame") {
		t.Skip("the journal no longer holds this password in clear: this test has nothing to check")
	}
	out := dryRunOf(t, b, 0).Replay("1", raw)
	text := transcriptText(out.Transcript)
	if out.Result != DryDiverged || !strings.Contains(out.Why, "db.auth_user") || out.Saw != "Welcome, ann. Command?" ||
		strings.Contains(text, "open sesame") || !strings.Contains(text, "> (hidden)\n") || !strings.Contains(text, "> y\n") {
		t.Errorf("replay: %+v\n%s", out, text)
	}
}

func joinEntries(raw [][]byte) []byte {
	var all []byte
	for _, e := range raw {
		all = append(all, e...)
	}
	return all
}

// TestDryRunStopsAScriptThatLoops: an edit makes the menu item a caller
// chose loop for ever; the replay is stopped by the resume budget and
// reported as failed, with the reason.
func TestDryRunStopsAScriptThatLoops(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	converse(tbl, rec, "1", "connect", "ann", "pw", "pw", "y", "1", "first line")
	editScript(t, b, "bbs.lua", "local function leave_message(conn, req, user)\n", "local function leave_message(conn, req, user)\n    while true do ui.display(conn, req, 'again') end\n")
	began := time.Now()
	out := dryRunOf(t, b, 200*time.Millisecond).Replay("1", storedJournal(t, b, "1"))
	if out.Result != DryFailed || !strings.Contains(out.Why, "ran for more than 200ms") || out.Prompt != 2 {
		t.Errorf("replay of a looping script: %+v", out)
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("the looping replay took %v", took)
	}
	if !out.Truncated || len(out.Transcript) > MaxTranscriptLines {
		t.Errorf("transcript of a script sending in a loop: %d lines, truncated %v", len(out.Transcript), out.Truncated)
	}
}

// TestDryRunReportsAScriptError: the error and its position.
func TestDryRunReportsAScriptError(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	converse(tbl, rec, "1", "connect", "ann", "pw", "pw", "y", "1", "first line")
	editScript(t, b, "bbs.lua", "local function leave_message(conn, req, user)\n", "local function leave_message(conn, req, user)\n    local broken = nil\n    broken.field = 1\n")
	out := dryRunOf(t, b, 0).Replay("1", storedJournal(t, b, "1"))
	want := fmt.Sprintf("bbs.lua:%d: attempt to index", lineOf(t, filepath.Join(b.scripts, "bbs.lua"), "broken.field = 1"))
	if out.Result != DryFailed || !strings.Contains(out.Why, want) {
		t.Errorf("replay of a broken script: %+v, want %q", out, want)
	}
}

// TestDryRunReportsUnreadableJournals: damaged, empty, or not starting
// with a start: reported, not replayed.
func TestDryRunReportsUnreadableJournals(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	converse(tbl, rec, "1", "connect", "ann")
	good := storedJournal(t, b, "1")
	d := dryRunOf(t, b, 0)
	for name, raw := range map[string][][]byte{
		"empty":      nil,
		"damaged":    {good[0][:len(good[0])/2]},
		"no start":   good[1:],
		"bad kind":   {[]byte("Zjunk")},
		"bad length": {{'s', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}},
	} {
		if out := d.Replay("1", raw); out.Result != DryUnreadable || out.Why == "" {
			t.Errorf("%s journal: %+v", name, out)
		}
	}
	if out := d.Replay("1", good); out.Result != DryClean {
		t.Errorf("the good journal after the bad ones: %+v", out)
	}
}

// FuzzDryRun: whatever a journal holds, a dry run reports it and returns.
func FuzzDryRun(f *testing.F) {
	f.Add([]byte("s"), []byte("P\x05[motd]"))
	f.Add([]byte{'s', 0x03, 'a', 'b', 'c'}, []byte("r\x00\x00"))
	b := newJournaledBoardTB(f)
	ro, err := store.OpenReadOnly(b.path, store.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { ro.Close() })
	d, err := NewDryRun(Config{ScriptsDir: b.scripts, MainScript: filepath.Join(b.scripts, "bbs.lua"), ResumeBudget: 100 * time.Millisecond},
		Deps{Screens: screens.NewDir("../../../screens"), Store: ro})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(d.Close)
	f.Fuzz(func(t *testing.T, first, second []byte) {
		out := d.Replay("1", [][]byte{first, second})
		switch out.Result {
		case DryClean, DryDiverged, DryFailed, DryUnreadable:
		default:
			t.Fatalf("result %q", out.Result)
		}
	})
}

// TestDryRunCannotSeeNewTextAboveAPromptsLastLine: a journal keeps only
// a prompt's last line, so a renamed menu item (not the last) replays
// cleanly; docs/sessions.md says so.
func TestDryRunCannotSeeNewTextAboveAPromptsLastLine(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	converse(tbl, rec, "1", "connect", "ann", "pw", "pw", "y", "3")
	editScript(t, b, "bbs.lua", "label = 'Send to someone else.'", "label = 'Send a letter.'")
	out := dryRunOf(t, b, 0).Replay("1", storedJournal(t, b, "1"))
	if text := transcriptText(out.Transcript); out.Result != DryClean || !strings.Contains(text, "3. Send a letter.") {
		t.Errorf("replay after a menu item was renamed: %+v\n%s", out, text)
	}
}

// BenchmarkDryRun is what m2bbs upgrade -dry-run spends per caller: a
// fresh Lua state on the shipped board, and the replay of a caller's
// journal (from the main menu, writing a message: 3 prompts).
func BenchmarkDryRun(b *testing.B) {
	board := newJournaledBoardTB(b)
	tbl, rec := board.tableTB(b, true)
	converse(tbl, rec, "1", "connect", "ann", "pw", "pw", "y", "1", "first line")
	raw, _, err := board.db.LoadJournal(context.Background(), "1")
	if err != nil {
		b.Fatal(err)
	}
	ro, err := store.OpenReadOnly(board.path, store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ro.Close() })
	snap, err := screens.Load("../../../screens")
	if err != nil {
		b.Fatal(err)
	}
	cfg := Config{ScriptsDir: board.scripts, MainScript: filepath.Join(board.scripts, "bbs.lua")}
	deps := Deps{Screens: snap, Store: ro}
	b.Run("new", func(b *testing.B) {
		for b.Loop() {
			d, err := NewDryRun(cfg, deps)
			if err != nil {
				b.Fatal(err)
			}
			d.Close()
		}
	})
	b.Run("replay", func(b *testing.B) {
		d, err := NewDryRun(cfg, deps)
		if err != nil {
			b.Fatal(err)
		}
		defer d.Close()
		for b.Loop() {
			if out := d.Replay("1", raw); out.Result != DryClean {
				b.Fatalf("%+v", out)
			}
		}
	})
}

// lineOf is the number of the first line of file that contains text.
func lineOf(t *testing.T, file, text string) int {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(src), "\n") {
		if strings.Contains(line, text) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", file, text)
	return 0
}
