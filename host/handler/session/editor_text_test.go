package session

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/luaapi"
)

// quoteEditScript replies in ui.edit to a post whose lines and subject
// the script got from the board module (pipe-escaped, as for ui.display),
// then shows the saved lines, each bar as '!' (a prompt reads pipe codes).
const quoteEditScript = `require 'ui'
function m2bbs(conn, req)
    req = ui.ask(conn, req, 'ready')
    local lines
    req, lines = ui.edit(conn, req, {title = TITLE, quote = QUOTE})
    local saved = table.concat(lines or {}, '/'):gsub('|', '!')
    req = ui.ask(conn, req, 'saved ' .. saved)
end
`

// TestEditorQuotesPostsAsTyped: the board module hands a script a
// post's lines and subject with their bars escaped ("||") so that
// ui.display shows them as typed; ui.edit shows and quotes them as typed
// too, not with every escaped bar doubled ("| ascii art |" was saved as
// "> | ascii art ||", and each reply of a reply doubled them again); the
// lines it returns are as typed, like ui.read_lines', for board.post.
func TestEditorQuotesPostsAsTyped(t *testing.T) {
	post := []string{"| ascii art |", "code: a || b", "colour |04red"}
	var quote []string
	for _, l := range post {
		quote = append(quote, "'"+luaapi.CallerLine(l)+"'") // as board.read gives post.lines
	}
	script := strings.Replace(quoteEditScript, "QUOTE", "{"+strings.Join(quote, ", ")+"}", 1)
	script = strings.Replace(script, "TITLE", "'"+luaapi.CallerLine("Re: a || b")+"'", 1)
	b := newJournaledBoard(t)
	term := `{"ansi":true,"keys":true,"width":80,"height":24}`
	tbl, rec := b.calling(t, script, "7", term)
	if got := strings.Join(rec.take(), "\n"); !strings.Contains(got, "Re: a || b") || strings.Contains(got, "|||") {
		t.Errorf("the title bar shows %q", got)
	}
	handle(tbl, jsonReq("7", `{"type":"keys","msg":"\u0011","terminal":`+term+`}`))
	if got := strings.Join(rec.take(), "\n"); !strings.Contains(got, "> | ascii art |\x1b[K") {
		t.Errorf("the quote shows %q", got)
	}
	handle(tbl, jsonReq("7", `{"type":"keys","msg":"typed |04 ||\u001a","terminal":`+term+`}`))
	want := []string{"7 keys:\x1b[0m\x1b[2J\x1b[H", "7 prompt:saved > ! ascii art !/> code: a !! b/> colour !04red/typed !04 !!"}
	if got := rec.take(); !slices.Equal(got, want) {
		t.Errorf("saved %q\nwant %q", got, want)
	}
}

// lineEditScript is ui.edit with the given opts, the saved lines counted.
const lineEditScript = `require 'ui'
function m2bbs(conn, req)
    req = ui.ask(conn, req, 'ready')
    local ok, lines = pcall(function() local _, l = ui.edit(conn, req, OPTS); return l end)
    if not ok then req = ui.ask(conn, req, 'error ' .. tostring(lines)) end
    req = ui.ask(conn, req, 'got ' .. #(lines or {}))
end
`

// TestLineEditorFallbackKeepsTheEditorsLimits: a caller without
// keystroke mode gets the line editor with the editor's defaults (100
// lines, not 24) and its checks (a max_lines of 0 or not a number is an
// error the script sees, not a message that ends at once or a Lua
// arithmetic error).
func TestLineEditorFallbackKeepsTheEditorsLimits(t *testing.T) {
	for _, c := range []struct{ opts, want string }{
		{"{}", "got 30"},
		{"{max_lines = 0}", "error <ui.edit fallback>"},
		{"{max_lines = 'x'}", "error <ui.edit fallback>"},
		{"{max_bytes = 26}", "got 2"},
	} {
		b := newJournaledBoard(t)
		script := strings.Replace(lineEditScript, "OPTS", c.opts, 1)
		tbl, rec := b.calling(t, script, "8", "")
		for i := range 30 {
			handle(tbl, jsonReq("8", termLine("8", "line number "+strings.Repeat("x", i%3), "")))
		}
		handle(tbl, jsonReq("8", termLine("8", ".", "")))
		got := rec.take()
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, "8 prompt:"+c.want)
		}
		if !found {
			t.Errorf("opts %s: %q, want a prompt %q", c.opts, got[len(got)-3:], c.want)
		}
	}
}

// TestEditorCountsColumnsAsACP437CallerSeesThem: a CP437 caller's edge
// writes "…" as "...": the editor quotes it as such, so a quoted row of
// 70 of them wraps within the 80-column window instead of running to
// 212 columns.
func TestEditorCountsColumnsAsACP437CallerSeesThem(t *testing.T) {
	script := strings.Replace(quoteEditScript, "QUOTE", "{'"+strings.Repeat("…", 70)+"'}", 1)
	script = strings.Replace(script, "TITLE", "'Re: dots'", 1)
	b := newJournaledBoard(t)
	term := `{"ansi":true,"keys":true,"width":80,"height":24,"encoding":"cp437"}`
	tbl, rec := b.calling(t, script, "7", term)
	handle(tbl, jsonReq("7", `{"type":"keys","msg":"\u0011\u001a","terminal":`+term+`}`))
	got := rec.take()
	dots := strings.Repeat(".", 77) // a row of 79 columns after "> "
	want := "7 prompt:saved > " + dots + "/> " + dots + "/> " + strings.Repeat(".", 210-2*77)
	if len(got) == 0 || got[len(got)-1] != want {
		t.Errorf("saved %q\nwant %q", got[len(got)-1], want)
	}
}

// TestBoardReplyToALongPostInTheEditor: the shipped board's reply to a
// post of 990 lines (a long chain of quoted replies) opens the editor
// and posts: it gave max_lines = 24 + #quote, past the editor's 1,000,
// an error that ended the replier's call. The quote has its own line
// budget in the editor, and the replier still has 24 lines of their own.
func TestBoardReplyToALongPostInTheEditor(t *testing.T) {
	tbl, rec, db := boardsTable(t)
	long := make([]string, 990)
	for i := range long {
		long[i] = "> > line " + strings.Repeat("x", i%50)
	}
	long[len(long)-1] = "the end"
	call(t, tbl, rec, "1", "ann").sayAll("B", "1", "Q", "Q", "Q") // the areas exist
	if _, err := db.Post(context.Background(), store.NewPost{Area: "general", Author: "ann", Subject: "Long", Lines: long}); err != nil {
		t.Fatal(err)
	}
	term := `{"ansi":true,"keys":true,"width":80,"height":24}`
	say := func(line string) []string {
		rec.replies = nil
		handle(tbl, jsonReq("2", termLine("2", line, term)))
		return rec.take()
	}
	for _, l := range []string{"bob", "B", "1"} {
		say(l)
	}
	got := strings.Join(say("1"), "\n")
	for i := 0; !strings.Contains(got, "the end"); i++ { // through the pager to the last page
		if i == 100 {
			t.Fatalf("no reply prompt after the post: %q", got)
		}
		got = strings.Join(say(""), "\n")
	}
	say("R")
	if got := strings.Join(say(""), "\n"); !strings.Contains(got, "2 keys:") {
		t.Fatalf("the editor did not open: %q", got)
	}
	keys := func(k string) string {
		handle(tbl, jsonReq("2", `{"type":"keys","msg":"`+k+`","terminal":`+term+`}`))
		return strings.Join(rec.take(), "\n")
	}
	if got := keys(`\u0011`); strings.Contains(got, "cut short") {
		t.Fatalf("the quote was cut short: %q", got)
	}
	keys("my reply")
	if got := keys(`\u001a`); !strings.Contains(got, "Posted") {
		t.Fatalf("after Ctrl-Z: %q", got)
	}
	thread, err := db.Thread(context.Background(), 1)
	if err != nil || len(thread) != 2 {
		t.Fatalf("thread %+v, %v", thread, err)
	}
	post, err := db.ReadPost(context.Background(), thread[1].ID)
	if err != nil {
		t.Fatal(err)
	}
	reply := post.Lines
	if len(reply) != 991 || reply[len(reply)-1] != "my reply" || reply[0] != "> > > line " {
		t.Errorf("the reply: %d lines, first %q, last %q", len(reply), reply[0], reply[len(reply)-1])
	}
}

// TestTinyWindowGetsTheLineEditor: a keystroke-mode caller whose window
// is narrower than the editor's least (20x5) gets the line editor, not
// a 20-column screen their terminal would wrap.
func TestTinyWindowGetsTheLineEditor(t *testing.T) {
	b := newJournaledBoard(t)
	script := strings.Replace(lineEditScript, "OPTS", "{}", 1)
	tbl, rec := b.calling(t, script, "7", `{"ansi":true,"keys":true,"width":15,"height":24}`)
	handle(tbl, jsonReq("7", termLine("7", "one line", "")))
	handle(tbl, jsonReq("7", termLine("7", ".", "")))
	got := rec.take()
	if !slices.Contains(got, "7 prompt:got 1") || strings.Contains(strings.Join(got, "\n"), "7 keys:") {
		t.Errorf("a 15-column window: %q", got)
	}
}
