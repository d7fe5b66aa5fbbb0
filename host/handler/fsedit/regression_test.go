package fsedit

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/shared/termprofile"
)

// Regression tests for the defects a review of the editor found.

// textSize is the size of lines as Editor.size keeps it, counted afresh.
func textSize(lines [][]rune) int {
	n := len(lines) - 1
	for _, l := range lines {
		n += lineBytes(l)
	}
	return n
}

// TestPasteIntoAFullTextCostsOnlyItsLine: a caller pasting 1 KiB of
// characters into a text at its byte limit (1 MiB) has every key
// refused, each in time of its own line, not of the whole text (it took
// 317-440 ms a request when each key measured the text).
func TestPasteIntoAFullTextCostsOnlyItsLine(t *testing.T) {
	var text []string
	for n := 0; n < MaxBytes-300; n += 249 {
		text = append(text, strings.Repeat("x", 248))
	}
	e := New(Options{Width: 250, Height: 100, MaxLines: MaxLines, MaxBytes: MaxBytes, Text: text})
	e.Redraw()
	e.Feed("\x1b[6~\x1b[F")
	paste := strings.Repeat("a", 1024)
	var took []time.Duration
	for range 5 {
		began := time.Now()
		out, _ := e.Feed(paste)
		took = append(took, time.Since(began))
		if !strings.HasSuffix(out, "\a") || e.msg == "" {
			t.Fatalf("the paste into a full text was not refused: status %q", e.msg)
		}
	}
	slices.Sort(took)
	if took[2] > 20*time.Millisecond {
		t.Errorf("a 1 KiB keys request into a full 1 MiB text took %v (median of 5)", took[2])
	}
	if got := textSize(e.lines); got != e.size() || got > MaxBytes {
		t.Errorf("size kept %d, counted %d, limit %d", e.size(), got, MaxBytes)
	}
}

// TestTabInAQuoteBecomesSpaces: a tab in the message replied to (the
// line editor lets callers type one) reaches neither the replier's
// terminal nor the saved text: it becomes spaces to the next tab stop.
func TestTabInAQuoteBecomesSpaces(t *testing.T) {
	e := New(Options{Quote: []string{"a\tb", strings.Repeat("\t", 20) + "x"}})
	e.Redraw()
	out, _ := e.Feed("\x11")
	if strings.Contains(out, "\t") {
		t.Errorf("a raw tab reaches the terminal: %q", out)
	}
	got := e.Lines()
	if got[0] != "> a       b" {
		t.Errorf("quoted %q, want the tab as spaces to column 8", got[0])
	}
	for _, l := range got {
		if strings.Contains(l, "\t") || columns([]rune(l)) > e.wrapAt() {
			t.Errorf("saved line %q: a tab, or wider than the window", l)
		}
	}
}

// TestTabInTheTextBecomesSpaces: opts.text likewise.
func TestTabInTheTextBecomesSpaces(t *testing.T) {
	e := New(Options{Text: []string{"a\tb"}})
	if out := e.Redraw(); strings.Contains(out, "\t") {
		t.Errorf("a raw tab reaches the terminal: %q", out)
	}
	if got := e.Lines(); !slices.Equal(got, []string{"a       b"}) {
		t.Errorf("text %q", got)
	}
}

// TestNarrowedWindowKeepsMaxBytes: after the window narrows, a key in a
// long line without spaces would wrap it into many lines, a byte for
// each break: the key is refused rather than pass MaxBytes (the store
// would refuse the post and the text be lost).
func TestNarrowedWindowKeepsMaxBytes(t *testing.T) {
	const limit = 260
	s := start(t, Options{Width: 250, Height: 24, MaxBytes: limit})
	s.feed(strings.Repeat("a", 249)) // wraps once: 248 + break + 1
	s.feed("\x1b[A\x1b[H")           // up, Home
	s.e.Resize(20, 24)
	s.sc = newScreen(20, 24)
	s.feed("b")
	if s.e.size() > limit || textSize(s.e.lines) != s.e.size() {
		t.Fatalf("size %d (counted %d) over MaxBytes %d", s.e.size(), textSize(s.e.lines), limit)
	}
	if s.sc.bells == 0 || !strings.Contains(s.e.msg, "full") {
		t.Errorf("the key was not refused: status %q", s.e.msg)
	}
}

// TestNarrowedWindowKeepsMaxLines: likewise a key whose wrap would pass
// MaxLines is refused, not left as a line wider than the window.
func TestNarrowedWindowKeepsMaxLines(t *testing.T) {
	s := start(t, Options{Width: 250, Height: 24, MaxLines: 3})
	s.feed(strings.Repeat("a", 240) + "\x1b[H")
	s.e.Resize(40, 24)
	s.feed("b")
	if len(s.e.lines) > 3 {
		t.Fatalf("%d lines over MaxLines 3", len(s.e.lines))
	}
	if got := s.e.Lines()[0]; strings.HasPrefix(got, "b") {
		t.Errorf("the key was taken: %q", got)
	}
}

// TestQuoteHasItsOwnLineBudget: the board allows 24 lines of a reply's
// own; quoting a 24-line post typed at 80 columns (each line 79
// columns, two lines once quoted after "> ") takes all of it, and the
// replier can still type their 24 lines.
func TestQuoteHasItsOwnLineBudget(t *testing.T) {
	var post []string
	for range 24 {
		post = append(post, strings.Repeat("word ", 15)+"abcd") // 79 columns
	}
	s := start(t, Options{Width: 80, Height: 24, MaxLines: 24, Quote: post})
	s.feed("\x11")
	if s.e.msg != "" || len(s.e.lines) != 49 {
		t.Fatalf("after Ctrl-Q: %d lines, status %q", len(s.e.lines), s.e.msg)
	}
	s.feed("\x1b[6~\x1b[6~\x1b[6~\x1b[F")
	for i := range 23 {
		s.feed("my line " + strings.Repeat("x", i) + "\r")
	}
	s.feed("last line")
	if s.e.msg != "" || !strings.Contains(strings.Join(s.e.Lines(), "\n"), "last line") {
		t.Fatalf("the replier could not type 24 lines: status %q", s.e.msg)
	}
	s.feed("\r")
	if !strings.Contains(s.sc.line(23), "No more lines") {
		t.Errorf("a 25th own line: status %q", s.sc.line(23))
	}
}

// TestQuoteBudgetIsBounded: Ctrl-Q again and again raises the line limit
// by what it inserts, never past MaxLines.
func TestQuoteBudgetIsBounded(t *testing.T) {
	e := New(Options{MaxLines: 5, Quote: []string{"one", "two", "three"}})
	e.Redraw()
	e.Feed(strings.Repeat("\x11", 400))
	if len(e.lines) > MaxLines || e.lineLimit() > MaxLines {
		t.Fatalf("%d lines, limit %d", len(e.lines), e.lineLimit())
	}
	if !strings.Contains(e.msg, "cut short") {
		t.Errorf("status %q", e.msg)
	}
}

// TestCP437QuoteFitsTheWindow: on a CP437 terminal the edge writes "…"
// as "..." and 漢 as "?": the editor keeps what the caller sees, so a
// quoted row stays within the 80-column window and each line takes the
// columns the editor counts.
func TestCP437QuoteFitsTheWindow(t *testing.T) {
	for _, enc := range []termprofile.Encoding{termprofile.CP437, termprofile.ASCII} {
		e := New(Options{Width: 80, Height: 24, Encoding: enc, Title: "Re: ™ caf\u00e9",
			Quote: []string{strings.Repeat("…", 70), strings.Repeat("漢", 30) + "x", "caf\u00e9 ░▒ ☺"}})
		wire := string(termprofile.Encode(nil, e.Redraw(), enc))
		out, _ := e.Feed("\x11")
		wire += string(termprofile.Encode(nil, out, enc))
		row := regexp.MustCompile(`\x1b\[\d+;1H(?:\x1b\[7m)?([^\x1b]*)`)
		for _, m := range row.FindAllStringSubmatch(wire, -1) {
			if len(m[1]) > 79 {
				t.Errorf("%s: a row of %d columns on an 80-column terminal: %.40q…", enc, len(m[1]), m[1])
			}
		}
		for i, l := range e.lines {
			if shows := len(termprofile.Encode(nil, string(l), enc)); shows != columns(l) {
				t.Errorf("%s: line %d %q: the editor counts %d columns, the terminal shows %d", enc, i, string(l), columns(l), shows)
			}
		}
	}
	e := New(Options{Encoding: termprofile.CP437, Text: []string{"café ░ ☺ …"}})
	if got := e.Lines()[0]; got != "café ░ ☺ ..." {
		t.Errorf("CP437 text kept as %q", got)
	}
}

// FuzzResize: keys, a new window size, more keys: the limits hold, the
// size kept is the text's, the cursor stays within the text.
func FuzzResize(f *testing.F) {
	f.Add("hello world 漢字漢字\r\x1b[A\x11\x11", 30, 6, "\x7f\x1b[3~abc", 5)
	f.Add(strings.Repeat("x", 60)+"\x1b[H", 20, 5, "y", 3)
	f.Fuzz(func(t *testing.T, a string, w, h int, b string, maxLines int) {
		maxLines = (maxLines%50+50)%50 + 1
		e := New(Options{Width: 40, Height: 8, MaxLines: maxLines, MaxBytes: 400, Quote: []string{"a long line of quoted text with 漢字 and more words", "x\ty"}})
		e.Redraw()
		e.Feed(a)
		e.Resize(w%300, h%120)
		e.Feed(b)
		e.Redraw()
		if len(e.lines) > e.lineLimit() || e.lineLimit() > MaxLines {
			t.Fatalf("%d lines over %d", len(e.lines), e.lineLimit())
		}
		if e.size() > 400 || e.size() != textSize(e.lines) {
			t.Fatalf("size kept %d, counted %d, limit 400", e.size(), textSize(e.lines))
		}
		for i, l := range e.lines {
			if e.cols[i] != columns(l) {
				t.Fatalf("line %d %q: columns kept %d, counted %d", i, string(l), e.cols[i], columns(l))
			}
		}
		if e.row < 0 || e.row >= len(e.lines) || e.col < 0 || e.col > len(e.lines[e.row]) {
			t.Fatalf("cursor %d,%d", e.row, e.col)
		}
	})
}

// TestSS3PrefixDoesNotEatTheNextKey: ESC O followed by a byte that ends
// no SS3 sequence (Alt-O, then Ctrl-Z) drops the ESC O only: the Ctrl-Z
// still saves.
func TestSS3PrefixDoesNotEatTheNextKey(t *testing.T) {
	s := start(t, Options{Text: []string{"kept"}})
	if res := s.feed("\x1bO\x1a"); res != Saved {
		t.Fatalf("ESC O Ctrl-Z: %v, want Saved", res)
	}
	s = start(t, Options{})
	s.feed("\x1bOA\x1bOx")
	if got := s.e.Lines(); len(got) != 0 {
		t.Errorf("text %q after an SS3 Up and ESC O x", got)
	}
}

// TestLongSequenceSplitAcrossRequestsIsDropped: a control sequence
// longer than the parser holds, split across keys requests, is dropped
// whole: none of its bytes is typed into the text.
func TestLongSequenceSplitAcrossRequestsIsDropped(t *testing.T) {
	s := start(t, Options{})
	s.feed("ab\x1b[1;2;3;4;5;6;7;8;9")
	s.feed(";10;11;12")
	s.feed(";13mcd")
	if got := s.e.Lines(); !slices.Equal(got, []string{"abcd"}) {
		t.Errorf("text %q, want the sequence dropped", got)
	}
}
