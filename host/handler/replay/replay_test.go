package replay

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/journal"
	"github.com/m2bbs/m2bbs/host/handler/session"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// board writes a database holding the journal of a caller who was asked
// their name and is looking at that prompt, and a one-prompt script.
func board(t *testing.T, prompt string) (Config, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "bbs.db")
	db, err := store.Open(path, store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	connect := journal.EncodeRequest(&m2proto.Request{Sender: "s", ConnID: "7", Path: "@bbs", Body: []byte(`{"type":"msg","msg":"connect"}`)})
	entries := [][]byte{
		(&journal.Entry{Kind: journal.KindStart, Request: connect}).Append(nil),
		(&journal.Entry{Kind: journal.KindPrompt, Label: "Name?"}).Append(nil),
	}
	if err := db.ResetJournal(context.Background(), "7", -1, entries); err != nil {
		t.Fatal(err)
	}
	script := "require 'ui'\nfunction m2bbs(conn, req)\n    req = ui.ask(conn, req, '" + prompt + "')\nend\n"
	if err := os.WriteFile(filepath.Join(dir, "bbs.lua"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "screens"), 0o755); err != nil {
		t.Fatal(err)
	}
	return Config{
		Session:    session.Config{ScriptsDir: dir, MainScript: filepath.Join(dir, "bbs.lua")},
		ScreensDir: filepath.Join(dir, "screens"),
	}, path
}

func open(t *testing.T, cfg Config, path string) *Board {
	t.Helper()
	b, err := Open(cfg, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestListAndReplay: the journal is listed with where its caller waits,
// replays cleanly on the scripts that wrote it and diverges on scripts
// that ask something else.
func TestListAndReplay(t *testing.T) {
	cfg, path := board(t, "Name?")
	b := open(t, cfg, path)
	ctx := context.Background()
	list, err := b.List(ctx)
	if err != nil || len(list) != 1 || list[0].ConnID != "7" || list[0].Entries != 2 || list[0].Waiting != "Name?" || list[0].Problem != "" {
		t.Fatalf("list: %+v, %v", list, err)
	}
	out, err := b.Replay(ctx, "7")
	if err != nil || out.Result != session.DryClean || out.Prompt != 1 || out.Saw != "Name?" {
		t.Errorf("replay: %+v, %v", out, err)
	}
	if _, err := b.Replay(ctx, "8"); !errors.Is(err, ErrNoJournal) {
		t.Errorf("replay of no journal: %v", err)
	}

	cfg, path = board(t, "Your name?")
	all, err := open(t, cfg, path).ReplayAll(ctx)
	if err != nil || len(all) != 1 || all[0].Result != session.DryDiverged || all[0].Saw != "Name?" || all[0].Shows != "Your name?" {
		t.Errorf("replay all on other scripts: %+v, %v", all, err)
	}
}

// TestTooLargeAndBrokenScripts: a journal over the limit is reported
// unreadable, not loaded; scripts that do not load stop the replay with
// an error naming them.
func TestTooLargeAndBrokenScripts(t *testing.T) {
	cfg, path := board(t, "Name?")
	cfg.MaxJournalBytes = 8
	ctx := context.Background()
	all, err := open(t, cfg, path).ReplayAll(ctx)
	if err != nil || len(all) != 1 || all[0].Result != session.DryUnreadable {
		t.Errorf("over the limit: %+v, %v", all, err)
	}
	cfg.MaxJournalBytes = 0
	if err := os.WriteFile(cfg.Session.MainScript, []byte("function m2bbs(conn, req\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := open(t, cfg, path).ReplayAll(ctx); err == nil {
		t.Error("scripts that do not compile replayed")
	}
}

// TestAScriptThatEatsMemoryIsStopped: the memory limit stops a replay's
// script before the resume budget does, and the outcome says why.
func TestAScriptThatEatsMemoryIsStopped(t *testing.T) {
	cfg, path := board(t, "Name?")
	cfg.MemoryLimit = 64 << 20
	cfg.Session.ResumeBudget = 20 * time.Second
	script := "function m2bbs(conn, req)\n    local t = {}\n    for i = 1, 1e9 do t[i] = string.rep('x', 4096) .. i end\nend\n"
	if err := os.WriteFile(cfg.Session.MainScript, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	all, err := open(t, cfg, path).ReplayAll(context.Background())
	if err != nil || len(all) != 1 || all[0].Result != session.DryFailed || !strings.Contains(all[0].Why, "heap passed its limit of 64 MiB") {
		t.Errorf("a replay eating memory: %+v, %v", all, err)
	}
	if took := time.Since(began); took > 15*time.Second {
		t.Errorf("stopped after %v", took)
	}
}
