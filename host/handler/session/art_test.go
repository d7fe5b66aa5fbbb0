package session

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
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
