package session

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// editorScript: the shipped board's editor limits (24 lines, the default
// 64 KiB).
const editorScript = `require 'ui'
function m2bbs(conn, req)
    req = ui.ask(conn, req, 'ready')
    local lines
    req, lines = ui.edit(conn, req, {title = 'post', max_lines = 24})
    req = ui.ask(conn, req, 'done ' .. #(lines or {}))
end
`

// calling makes script the board's bbs.lua, starts a table on b and a
// call on it from connID with terminal term (as termLine takes it), past
// the script's first prompt.
func (b *journaledBoard) calling(t *testing.T, script, connID, term string) (*Table, *recorder) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(b.scripts, "bbs.lua"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl, rec := b.table(t)
	handle(tbl, jsonReq(connID, termLine(connID, "connect", term)))
	handle(tbl, jsonReq(connID, termLine(connID, "go", term)))
	return tbl, rec
}

// wideKeysTerm is a keystroke-mode terminal with a 250-column window.
const wideKeysTerm = `{"ansi":true,"keys":true,"width":250,"height":100}`

// editorCaller starts caller 7 in the editor of editorScript on a new
// table of b and sends it n keys requests after filling the text's 24
// lines of 248 characters: each of those is 1 KiB of characters the full
// text refuses.
func editorCaller(t *testing.T, b *journaledBoard, n int) {
	t.Helper()
	tbl, rec := b.calling(t, editorScript, "7", wideKeysTerm)
	keys := func(k string) {
		tbl.sessions["7"].keyRate.tokens = 100 // as if paced
		handle(tbl, jsonReq("7", `{"type":"keys","msg":"`+k+`","terminal":`+wideKeysTerm+`}`))
	}
	for i := range 24 {
		keys(strings.Repeat("x", 248))
		if i < 23 {
			keys(`\r`)
		}
	}
	paste := strings.Repeat("a", 1024)
	for range n {
		keys(paste)
	}
	rec.take()
	crash(tbl)
}

// TestEditorReplayIsBounded: a caller in the editor pastes 1,200 keys
// requests of 1 KiB into a full text (40 seconds of typing at the
// gateway's pace); after a restart their next key replays them all. The
// worker, and every other caller on it, is held at most the replay
// budget (2 s) and one step (it was 1 min 10 s when each key measured
// the whole text and the replay had no budget of its own).
func TestEditorReplayIsBounded(t *testing.T) {
	b := newJournaledBoard(t)
	editorCaller(t, b, 1200)
	tbl, rec := b.table(t)
	began := time.Now()
	handle(tbl, jsonReq("7", `{"type":"keys","msg":"!","terminal":`+wideKeysTerm+`}`))
	took := time.Since(began)
	t.Logf("the replay of 1,247 keys requests held the worker %v", took)
	if took > DefaultReplayBudget+DefaultResumeBudget {
		t.Errorf("one caller's next key after a restart held the worker %v", took)
	}
	if got := rec.take(); len(got) == 0 {
		t.Errorf("the caller was not answered")
	}
}

// TestReplayPastItsBudgetRestartsTheCaller: a replay that runs past
// Config.ReplayBudget stops, and the caller starts over, told so,
// instead of holding the worker.
func TestReplayPastItsBudgetRestartsTheCaller(t *testing.T) {
	b := newJournaledBoard(t)
	editorCaller(t, b, 3)
	b.replayBudget = time.Nanosecond
	tbl, rec := b.table(t)
	handle(tbl, jsonReq("7", termLine("7", "again", wideKeysTerm)))
	expect(t, rec.take(),
		"7 screen:The board was upgraded while you were online: back to the main menu you go.",
		"7 prompt:ready")
	if st := tbl.JournalStats(); st.Diverged != 1 {
		t.Errorf("journal stats %+v, want the replay stopped once", st)
	}
	if !strings.Contains(b.logs.String(), replayTooLong) {
		t.Errorf("the log does not say why the caller was restarted:\n%s", b.logs.String())
	}
}
