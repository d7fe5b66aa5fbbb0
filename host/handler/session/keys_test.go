package session

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/screens"
	"github.com/m2bbs/m2bbs/host/shared/keystroke"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// keysLoop, the end of a script's entry function, collects keys in
// keystroke mode until Enter, echoing what it has so far, then asks a
// line.
const keysLoop = `
    local got = ''
    req = ui.keys(conn, req, 'start')
    while true do
        if req.data.type == 'keys' then
            if req.data.msg == '\r' then break end
            got = got .. req.data.msg
        end
        req = ui.keys(conn, req, '[' .. got .. ']')
    end
    req = ui.ask(conn, req, 'got ' .. got)
end
`

// keysScript says whether the caller can do keystroke mode, then runs
// keysLoop.
const keysScript = `require 'ui'
function m2bbs(conn, req)
    req = ui.ask(conn, req, 'keys=' .. tostring(conn:terminal().keys))` + keysLoop

func keysReq(connID, keys string) string {
	return `{"type":"keys","msg":"` + keys + `","terminal":{"ansi":true,"keys":true}}`
}

// TestKeystrokeMode: keys requests resume the coroutine only while the
// script has the caller in keystroke mode (keys for no session are
// answered with a prompt, which ends the mode at the gateway); a restart
// mid-way replays the keys from the journal and goes on where the caller
// was.
func TestKeystrokeMode(t *testing.T) {
	b := newJournaledBoard(t)
	if err := os.WriteFile(filepath.Join(b.scripts, "bbs.lua"), []byte(keysScript), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl, rec := b.table(t)
	handle(tbl, jsonReq("7", keysReq("7", "x"))) // no session: a stray, told to press Enter
	expect(t, rec.take(), "7 prompt:"+strayText)
	handle(tbl, jsonReq("7", termLine("7", "connect", `{"ansi":true,"keys":true}`)))
	expect(t, rec.take(), "7 prompt:keys=true")
	handle(tbl, jsonReq("7", keysReq("7", "x"))) // at a prompt: dropped
	expect(t, rec.take())
	handle(tbl, jsonReq("7", termLine("7", "go", `{"ansi":true,"keys":true}`)))
	expect(t, rec.take(), "7 keys:start")
	handle(tbl, jsonReq("7", keysReq("7", "a")))
	expect(t, rec.take(), "7 keys:[a]")
	handle(tbl, jsonReq("7", keysReq("7", "b")))
	expect(t, rec.take(), "7 keys:[ab]")
	crash(tbl)

	tbl2, rec2 := b.table(t)
	handle(tbl2, jsonReq("7", keysReq("7", "c")))
	expect(t, rec2.take(), "7 keys:[abc]")
	handle(tbl2, jsonReq("7", keysReq("7", `\r`)))
	expect(t, rec2.take(), "7 prompt:got abc")
	if st := tbl2.JournalStats(); st.Replayed != 1 || st.Diverged != 0 {
		t.Errorf("journal stats %+v: want the call replayed, not diverged", st)
	}
	if st := tbl.Stats().Add(tbl2.Stats()); st.KeysDropped != 2 {
		t.Errorf("keys dropped %d, want 2", st.KeysDropped)
	}
}

// TestKeystrokeLimits: a keys request over MaxRequestBytes, and keys past
// the host's rate, are dropped and counted, never resumed; the line rate
// is not spent by keys.
func TestKeystrokeLimits(t *testing.T) {
	b := newJournaledBoard(t)
	if err := os.WriteFile(filepath.Join(b.scripts, "bbs.lua"), []byte(keysScript), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl, rec := b.table(t)
	handle(tbl, jsonReq("7", termLine("7", "connect", `{"ansi":true,"keys":true}`)))
	handle(tbl, jsonReq("7", termLine("7", "go", `{"ansi":true,"keys":true}`)))
	rec.take()
	handle(tbl, jsonReq("7", keysReq("7", strings.Repeat("k", keystroke.MaxRequestBytes+1))))
	expect(t, rec.take())
	resumed := 0
	began := time.Now()
	const sent = keystroke.HostKeysBurst + 100
	for range sent {
		handle(tbl, jsonReq("7", keysReq("7", "k")))
		resumed += len(rec.take())
	}
	// The bucket refills while the loop runs.
	most := keystroke.HostKeysBurst + int(time.Since(began).Seconds()*keystroke.HostKeysPerSecond) + 1
	if resumed < keystroke.HostKeysBurst || resumed > most {
		t.Errorf("%d keys requests resumed the script, want the burst %d (at most %d)", resumed, keystroke.HostKeysBurst, most)
	}
	if st := tbl.Stats(); st.KeysDropped != int64(sent-resumed+1) || st.Throttled != 0 {
		t.Errorf("stats %+v: want %d keys dropped, no line throttled", st, sent-resumed+1)
	}
}

// fullEditScript edits a message with ui.edit and shows what came back.
const fullEditScript = `require 'ui'
function m2bbs(conn, req)
    req = ui.ask(conn, req, 'ready')
    local lines
    req, lines = ui.edit(conn, req, {title = 'Re: hello', quote = {'the original'}, max_lines = 10})
    if lines == nil then
        req = ui.ask(conn, req, 'aborted')
    else
        req = ui.ask(conn, req, 'saved ' .. table.concat(lines, '|'))
    end
end
`

// TestEditSurvivesARestart: ui.edit in keystroke mode takes keys, a
// restart mid-edit replays them (the caller's text is back, the screen
// goes on from it), and Ctrl-Z returns the lines, the quote included.
// Without keystroke mode the line editor reads the message.
func TestEditSurvivesARestart(t *testing.T) {
	b := newJournaledBoard(t)
	if err := os.WriteFile(filepath.Join(b.scripts, "bbs.lua"), []byte(fullEditScript), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl, rec := b.table(t)
	term := `{"ansi":true,"keys":true,"width":40,"height":10}`
	handle(tbl, jsonReq("7", termLine("7", "connect", term)))
	handle(tbl, jsonReq("7", termLine("7", "go", term)))
	got := rec.take()
	if len(got) != 2 || !strings.HasPrefix(got[1], "7 keys:") || !strings.Contains(got[1], "Re: hello") {
		t.Fatalf("the editor's first screen: %q", got)
	}
	handle(tbl, jsonReq("7", `{"type":"keys","msg":"Hi there","terminal":`+term+`}`))
	handle(tbl, jsonReq("7", `{"type":"keys","msg":"\r\u0011","terminal":`+term+`}`))
	rec.take()
	crash(tbl)

	tbl2, rec2 := b.table(t)
	handle(tbl2, jsonReq("7", `{"type":"keys","msg":"!","terminal":`+term+`}`))
	if got := rec2.take(); len(got) != 1 || !strings.HasPrefix(got[0], "7 keys:") || !strings.Contains(got[0], "!") {
		t.Fatalf("after the restart, a key shows %q", got)
	}
	handle(tbl2, jsonReq("7", `{"type":"keys","msg":"\u001a","terminal":`+term+`}`))
	got = rec2.take()
	if len(got) != 2 || got[1] != "7 prompt:saved Hi there|> the original|!" {
		t.Fatalf("after Ctrl-Z: %q", got)
	}
	if st := tbl2.JournalStats(); st.Replayed != 1 || st.Diverged != 0 {
		t.Errorf("journal stats %+v: want the call replayed, not diverged", st)
	}

	// The classic client: the quote shown, then the line editor.
	handle(tbl2, jsonReq("8", termLine("8", "connect", "")))
	handle(tbl2, jsonReq("8", termLine("8", "go", "")))
	handle(tbl2, jsonReq("8", termLine("8", "one line", "")))
	handle(tbl2, jsonReq("8", termLine("8", ".", "")))
	got = rec2.take()
	if want := []string{"8 prompt:ready", "8 screen:> the original", "8 prompt:", "8 prompt:", "8 prompt:saved one line"}; !slices.Equal(got, want) {
		t.Errorf("classic caller: %q, want %q", got, want)
	}
}

// BenchmarkEditorKeystroke: one keys request to a caller in the shipped
// board's full-screen editor, journaled: decode, the keys rate, the
// journal entry, the Lua resume, the editor, the reply, the commit.
func BenchmarkEditorKeystroke(b *testing.B) {
	board := newJournaledBoardTB(b)
	if err := os.WriteFile(filepath.Join(board.scripts, "bbs.lua"), []byte(fullEditScript), 0o644); err != nil {
		b.Fatal(err)
	}
	tbl, rec := board.tableTB(b, true)
	term := `{"ansi":true,"keys":true,"width":80,"height":24}`
	handle(tbl, jsonReq("7", termLine("7", "connect", term)))
	handle(tbl, jsonReq("7", termLine("7", "go", term)))
	keys := []*m2proto.Request{
		jsonReq("7", `{"type":"keys","msg":"x","terminal":`+term+`}`),
		jsonReq("7", `{"type":"keys","msg":"\u007f","terminal":`+term+`}`),
	}
	rec.take()
	s := tbl.sessions["7"]
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.keyRate.tokens = keystroke.HostKeysBurst // the bench types faster than a person
		handle(tbl, keys[i%2])
		if len(rec.replies) != 1 {
			b.Fatalf("replies %v", rec.take())
		}
		rec.replies = rec.replies[:0]
	}
}

// TestScreenKeepsKeystrokeMode: a screen shown to a caller in keystroke
// mode (a time warning, say) leaves them in it: their next keys are
// taken; a prompt ends it.
func TestScreenKeepsKeystrokeMode(t *testing.T) {
	b := newJournaledBoard(t)
	script := `require 'ui'
function m2bbs(conn, req)
    req = ui.keys(conn, req, 'in')
    ui.display(conn, req, 'a warning')
    req = ui.keys(conn, req)
    req = ui.ask(conn, req, 'got ' .. req.data.msg)
    req = ui.ask(conn, req, 'and ' .. req.data.type)
end
`
	if err := os.WriteFile(filepath.Join(b.scripts, "bbs.lua"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl, rec := b.table(t)
	handle(tbl, jsonReq("7", termLine("7", "connect", `{"ansi":true,"keys":true}`)))
	expect(t, rec.take(), "7 keys:in")
	handle(tbl, jsonReq("7", keysReq("7", "a")))
	expect(t, rec.take(), "7 screen:a warning")
	handle(tbl, jsonReq("7", keysReq("7", "b"))) // after the screen: taken
	expect(t, rec.take(), "7 prompt:got b")
	handle(tbl, jsonReq("7", keysReq("7", "c"))) // at a prompt: dropped
	expect(t, rec.take())
	handle(tbl, jsonReq("7", termLine("7", "line", `{"ansi":true,"keys":true}`)))
	expect(t, rec.take(), "7 prompt:and msg")
}

// TestStrayKeysAreHungUpOn: a conn id that keeps sending keys with no
// session gets one prompt, then nothing, then is hung up on; a line from
// it starts a call as usual.
func TestStrayKeysAreHungUpOn(t *testing.T) {
	b := newJournaledBoard(t)
	if err := os.WriteFile(filepath.Join(b.scripts, "bbs.lua"), []byte(keysScript), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl, rec := b.table(t)
	for range strayCutOff + 10 {
		handle(tbl, jsonReq("9", keysReq("9", "k")))
	}
	expect(t, rec.take(), "9 prompt:"+strayText, "9 hangup")
	handle(tbl, jsonReq("8", keysReq("8", "k")))
	handle(tbl, jsonReq("8", termLine("8", "", `{"ansi":true,"keys":true}`)))
	expect(t, rec.take(), "8 prompt:"+strayText, "8 prompt:keys=true")
}

// TestJournaledKeysAreBounded: past Config.MaxJournaledKeys keys requests
// the session's journal is given up (and dropped): the caller types on
// in this host, and a restart no longer brings them back.
func TestJournaledKeysAreBounded(t *testing.T) {
	b := newJournaledBoard(t)
	if err := os.WriteFile(filepath.Join(b.scripts, "bbs.lua"), []byte(keysScript), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	tbl, err := New(Config{
		ScriptsDir: b.scripts, MainScript: filepath.Join(b.scripts, "bbs.lua"), Journal: true, MaxJournaledKeys: 5,
	}, Deps{Replier: rec, Screens: screens.NewDir("../../../screens"), Store: b.db, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Close)
	handle(tbl, jsonReq("7", termLine("7", "connect", `{"ansi":true,"keys":true}`)))
	handle(tbl, jsonReq("7", termLine("7", "go", `{"ansi":true,"keys":true}`)))
	for range 6 {
		handle(tbl, jsonReq("7", keysReq("7", "k")))
	}
	if got := rec.take(); got[len(got)-1] != "7 keys:[kkkkkk]" {
		t.Fatalf("the caller typing on sees %q", got[len(got)-1])
	}
	entries, _, err := b.db.LoadJournal(context.Background(), "7")
	if err != nil || len(entries) != 0 {
		t.Errorf("the journal holds %d entries (%v), want none: given up", len(entries), err)
	}
}
