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

// TestWideLinesPageByRows: lines wider than the caller's 80-column window
// wrap, so a screenful of a 10-row window holds fewer of them: no page
// the reader is shown before "-- more --" takes more than 9 rows, and
// every line is shown once, in order.
func TestWideLinesPageByRows(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	var pchar string
	say := func(lines ...string) []string {
		for _, l := range lines {
			handle(tbl, jsonReq("5", tallLine("5", l)))
		}
		if n := len(rec.replies); n > 0 && rec.replies[n-1].msg != nil {
			pchar, _ = rec.replies[n-1].msg["pchar"].(string)
		}
		return rec.take()
	}
	say("connect", "ann", "pw", "pw", "y", "1")
	var body []string
	for i := 1; i <= 8; i++ {
		body = append(body, fmt.Sprintf("%d %s", i, strings.Repeat("w", 150))) // two rows each
	}
	say(append(body, ".")...)
	got := say("2")
	var shown []string
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("the reader never reached its own prompt")
		}
		page := strings.TrimPrefix(got[len(got)-1], "5 prompt:")
		rows := 0
		for _, line := range strings.Split(page, "\n") {
			rows += max(1, (len(line)+79)/80)
		}
		shown = append(shown, page)
		if !strings.HasPrefix(pchar, "-- more --") {
			break
		}
		if rows > 9 {
			t.Errorf("a screenful of %d rows in a 10-row window:\n%s", rows, page)
		}
		got = say("")
	}
	if want := "--- 1 of 1 ---\nFrom: ann\n" + strings.Join(body, "\n"); strings.Join(shown, "\n") != want {
		t.Errorf("the pages together:\n%s\nwant:\n%s", strings.Join(shown, "\n"), want)
	}
	if len(shown) < 2 {
		t.Errorf("16 rows of text in a 10-row window came in %d page(s)", len(shown))
	}
}
