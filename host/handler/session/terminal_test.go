package session

import (
	"os"
	"path/filepath"
	"testing"
)

// terminalScript shows the caller's terminal at every prompt.
const terminalScript = `require 'ui'
function m2bbs(conn, req)
    while true do
        local t = conn:terminal()
        req = ui.ask(conn, req, string.format('%dx%d %s %s %s %s %s', t.width, t.height, t.encoding,
            tostring(t.ansi), t.type, tostring(t.size_known), tostring(t.encoding_known)))
        if req.data.msg == 'Q' then return end
    end
end
`

// termLine is line as a gateway sends it, with the terminal js.
func termLine(connID, line, js string) string {
	if js == "" {
		return `{"type":"msg","msg":"` + line + `"}`
	}
	return `{"type":"msg","msg":"` + line + `","terminal":` + js + `}`
}

// TestConnTerminal: conn:terminal() reports what the gateway says with
// each line (defaults before it says anything, garbage dropped), and a
// journal replays it: the prompts the replay asks match the journal's.
func TestConnTerminal(t *testing.T) {
	b := newJournaledBoard(t)
	if err := os.WriteFile(filepath.Join(b.scripts, "bbs.lua"), []byte(terminalScript), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl, rec := b.table(t)
	handle(tbl, jsonReq("7", termLine("7", "connect", "")))
	expect(t, rec.take(), "7 prompt:80x24 utf-8 true  false false")
	handle(tbl, jsonReq("7", termLine("7", "a", `{"type":"ANSI","width":80,"height":25,"encoding":"cp437","ansi":true}`)))
	expect(t, rec.take(), "7 prompt:80x25 cp437 true ANSI true true")
	handle(tbl, jsonReq("7", termLine("7", "b", `{"type":"ANSI","width":132,"height":50,"encoding":"cp437","ansi":true}`)))
	expect(t, rec.take(), "7 prompt:132x50 cp437 true ANSI true true")
	handle(tbl, jsonReq("7", termLine("7", "c", "")))
	expect(t, rec.take(), "7 prompt:132x50 cp437 true ANSI true true")
	crash(tbl)

	tbl2, rec2 := b.table(t)
	handle(tbl2, jsonReq("7", termLine("7", "d", `{"type":"dumb","width":99999,"height":10,"encoding":"ebcdic","ansi":false}`)))
	expect(t, rec2.take(), "7 prompt:80x10 utf-8 false dumb false false")
	if st := tbl2.JournalStats(); st.Replayed != 1 || st.Diverged != 0 {
		t.Errorf("journal stats %+v: want the call replayed, not diverged", st)
	}
}
