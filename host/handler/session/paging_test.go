package session

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// tallLine is line from a caller whose window is 80x10.
func tallLine(connID, line string) string {
	body, _ := json.Marshal(map[string]any{"type": "msg", "msg": line,
		"terminal": map[string]any{"type": "ANSI", "width": 80, "height": 10, "encoding": "cp437", "ansi": true}})
	return string(body)
}

// TestShippedBoardPagesAtTheCallersHeight: in a window 10 lines high, the
// reader shows a 20-line message 9 lines at a time, each followed by the
// "-- more --" prompt, and Q there stops; a caller whose client says no
// size gets it in one screen (24 lines).
func TestShippedBoardPagesAtTheCallersHeight(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	var pchar string // of the last prompt
	say := func(lines ...string) []string {
		for _, l := range lines {
			handle(tbl, jsonReq("3", tallLine("3", l)))
		}
		if n := len(rec.replies); n > 0 && rec.replies[n-1].msg != nil {
			pchar, _ = rec.replies[n-1].msg["pchar"].(string)
		}
		return rec.take()
	}
	say("connect", "ann", "pw", "pw", "y", "1")
	var body []string
	for i := 1; i <= 20; i++ {
		body = append(body, fmt.Sprintf("line %d", i))
	}
	say(append(body, ".")...)

	lines := func(from, to int) string {
		var out []string
		for i := from; i <= to; i++ {
			out = append(out, fmt.Sprintf("line %d", i))
		}
		return strings.Join(out, "\n")
	}
	// 22 lines (the header, the author, 20 lines): 9 and 9 with "-- more --"
	// (9 lines of text and the prompt's own line fill the window), then 4
	// with the reader's own prompt.
	expect(t, say("2"),
		"3 screen:Messages, newest first. Enter shows the next one, Q goes back to the menu.",
		"3 prompt:--- 1 of 1 ---\nFrom: ann\n"+lines(1, 7))
	expect(t, say(""), "3 prompt:"+lines(8, 16))
	expect(t, say(""), "3 prompt:"+lines(17, 20))
	if pchar != "[Enter/Q] " {
		t.Errorf("the last screenful's prompt is %q, want the reader's", pchar)
	}
	// Q at a "-- more --" goes back to the menu.
	say("", "2")
	if !strings.HasPrefix(pchar, "-- more --") {
		t.Errorf("the first screenful's prompt is %q, want -- more --", pchar)
	}
	if got := say("Q"); len(got) == 0 || !strings.Contains(got[len(got)-1], "Quit the BBS.") {
		t.Errorf("after Q at -- more --: %q, want the menu", got)
	}

	// A caller whose client said no size: 24 lines, one screen.
	tbl2, rec2 := b.table(t)
	for _, l := range []string{"connect", "ann", "pw", "y", "2"} {
		handle(tbl2, msg("4", l))
	}
	got := rec2.take()
	if want := "4 prompt:--- 1 of 1 ---\nFrom: ann\n" + lines(1, 20); got[len(got)-1] != want {
		t.Errorf("without a size: %q, want %q", got, want)
	}
}
