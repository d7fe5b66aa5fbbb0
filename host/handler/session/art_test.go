package session

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/handler/screens"
)

// artScreens is a fake Screens with ANSI art for some screens.
type artScreens struct {
	screenMap
	art map[string]string
}

func (a artScreens) Art(name string) (string, bool) {
	art, ok := a.art[name]
	return art, ok
}

// TestArtFollowsTheClient: a caller whose client said "ansi": true at
// connect gets a screen's art; the classic client (no "ansi"), and a
// caller that also asked for no colour, get its text.
func TestArtFollowsTheClient(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "bbs.lua")
	if err := os.WriteFile(script, []byte("require 'ui'\nfunction m2bbs(conn, req) ui.exit(conn, req, 'bye') end\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	tbl, err := New(Config{ScriptsDir: dir, MainScript: script}, Deps{
		Replier: rec,
		Screens: artScreens{screenMap: screenMap{"bye": "Bye."}, art: map[string]string{"bye": "\x1b[1;34m▓▒░ Bye."}},
		Log:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Close)
	tbl.Handle(jsonReq("1", `{"type":"msg","msg":"connect","ansi":true}`))
	tbl.Handle(jsonReq("2", `{"type":"msg","msg":"connect"}`))
	tbl.Handle(jsonReq("3", `{"type":"msg","msg":"connect","ansi":true,"color":false}`))
	expect(t, rec.take(),
		"1 exit:\x1b[1;34m▓▒░ Bye.", "1 hangup",
		"2 exit:Bye.", "2 hangup",
		"3 exit:Bye.", "3 hangup")
}

// TestArtSurvivesACheckpointAndACrash: the journal of a caller at the
// main menu starts at a checkpoint, after their connect; since the telnet
// gateway says "ansi": true with every line, the session rebuilt on a new
// host still sends them the shipped board's art (bye.ans).
func TestArtSurvivesACheckpointAndACrash(t *testing.T) {
	b := newJournaledBoard(t)
	snap, err := screens.Load("../../../screens")
	if err != nil {
		t.Fatal(err)
	}
	table := func() (*Table, *recorder) {
		rec := &recorder{}
		tbl, err := New(Config{
			ScriptsDir: b.scripts, MainScript: filepath.Join(b.scripts, "bbs.lua"),
			RatePerSecond: 1e6, RateBurst: 1 << 20, Journal: true,
		}, Deps{Replier: rec, Screens: snap, Store: b.db, Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(tbl.Close)
		return tbl, rec
	}
	telnet := func(tbl *Table, rec *recorder, lines ...string) []string {
		for _, line := range lines {
			handle(tbl, jsonReq("1", `{"type":"msg","msg":"`+line+`","ansi":true}`))
		}
		return rec.take()
	}
	tbl, rec := table()
	got := telnet(tbl, rec, "connect")
	if len(got) != 1 || !strings.Contains(got[0], "\x1b[") || !strings.Contains(got[0], "█▄ ▄█") {
		t.Fatalf("the welcome is not the art: %q", got)
	}
	telnet(tbl, rec, "dee", "a long passphrase", "a long passphrase", "y", "5") // at the menu, twice
	if j, _, _ := b.db.LoadJournal(context.Background(), "1"); len(j) > 4 {
		t.Fatalf("the journal holds %d entries: no checkpoint at the main menu", len(j))
	}
	crash(tbl)

	tbl2, rec2 := table()
	got = telnet(tbl2, rec2, "Q")
	if len(got) != 2 || !strings.HasPrefix(got[0], "1 exit:") || !strings.Contains(got[0], "\x1b[") || !strings.Contains(got[0], "see ya later.") {
		t.Errorf("after the crash, the goodbye is not bye.ans: %q", got)
	}
}
