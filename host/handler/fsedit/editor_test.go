package fsedit

import (
	"slices"
	"strings"
	"testing"
)

// session drives an editor and a screen together.
type session struct {
	t  *testing.T
	e  *Editor
	sc *screen
}

func start(t *testing.T, opt Options) *session {
	t.Helper()
	e := New(opt)
	sc := newScreen(e.width, e.height)
	sc.write(t, e.Redraw())
	return &session{t: t, e: e, sc: sc}
}

func (s *session) feed(keys string) Result {
	s.t.Helper()
	out, res := s.e.Feed(keys)
	s.sc.write(s.t, out)
	return res
}

func TestTypingAndWrapping(t *testing.T) {
	s := start(t, Options{Width: 20, Height: 6, Title: "Hello"})
	if got := s.sc.line(0); !strings.HasPrefix(got, " Hello") {
		t.Fatalf("title row %q", got)
	}
	if got := s.sc.line(5); !strings.Contains(got, "^Z Save") {
		t.Fatalf("status row %q", got)
	}
	s.feed("the quick brown fox jumps")
	if got := []string{s.sc.line(1), s.sc.line(2)}; !slices.Equal(got, []string{"the quick brown fox", "jumps"}) {
		t.Fatalf("wrapped rows %q", got)
	}
	if s.sc.row != 2 || s.sc.col != 5 {
		t.Errorf("cursor at %d,%d, want 2,5", s.sc.row, s.sc.col)
	}
	s.feed("\r\rover")
	if res := s.feed("\x1a"); res != Saved {
		t.Fatalf("Ctrl-Z: %v", res)
	}
	if got, want := s.e.Lines(), []string{"the quick brown fox", "jumps", "", "over"}; !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
}

func TestCursorKeysAndEditing(t *testing.T) {
	s := start(t, Options{Text: []string{"abc", "def"}})
	s.feed("\x1b[B\x1b[F") // down, End
	s.feed("!")
	s.feed("\x1b[A\x1b[H") // up, Home
	s.feed("X")
	s.feed("\x1b[C\x1b[3~") // right, Delete: "Xac"
	s.feed("\x1bOF\x1b[3~") // End, Delete joins "def!"
	s.feed("\x7f")          // Backspace: "Xadef!"
	if got, want := s.e.Lines(), []string{"Xadef!"}; !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
	if got := s.sc.line(1); got != s.e.Lines()[0] {
		t.Errorf("screen row %q, lines %q", got, s.e.Lines())
	}
	s.feed("\x1b[H\r") // Home, Enter: a blank line above
	if got := s.e.Lines(); len(got) != 2 || got[0] != "" {
		t.Errorf("after Enter at the start: %q", got)
	}
	s.feed("\x7f\x7f") // Backspace joins back, then nothing (top left)
	if got := s.e.Lines(); len(got) != 1 {
		t.Errorf("after Backspace: %q", got)
	}
}

func TestEscapeSequenceSplitAcrossFeeds(t *testing.T) {
	s := start(t, Options{Text: []string{"ab"}})
	s.feed("\x1b")
	s.feed("[")
	s.feed("C") // right
	s.feed("é")
	s.feed("\xe2\x98") // half a ☎
	s.feed("\x8e")
	if got := s.e.Lines(); len(got) != 1 || got[0] != "aéb☎"[:0]+"a"+"é☎"+"b" {
		t.Errorf("lines %q", got)
	}
}

func TestQuoteAndAbort(t *testing.T) {
	s := start(t, Options{Width: 30, Height: 10, Quote: []string{"first line", "a second line that is long enough to wrap", "\x1b[31mred\x1b[0m"}})
	s.feed("Hi\r")
	s.feed("\x11") // Ctrl-Q
	want := []string{"Hi", "> first line", "> a second line that is long", "> enough to wrap", "> red", ""}
	if got := s.e.Lines(); !slices.Equal(got, want[:5]) {
		t.Fatalf("after the quote %q, want %q", got, want[:5])
	}
	for i, w := range want[:5] {
		if got := s.sc.line(i + 1); got != w {
			t.Errorf("screen row %d %q, want %q", i+1, got, w)
		}
	}
	if res := s.feed("\x03"); res != Editing || !strings.Contains(s.sc.line(9), "Ctrl-C again") {
		t.Fatalf("first Ctrl-C: %v, status %q", res, s.sc.line(9))
	}
	s.feed("x")
	if res := s.feed("\x03"); res != Editing {
		t.Fatal("Ctrl-C after a key aborted at once")
	}
	if res := s.feed("\x03"); res != Aborted {
		t.Fatal("second Ctrl-C did not abort")
	}
}

func TestLimits(t *testing.T) {
	s := start(t, Options{MaxLines: 3, MaxBytes: 10})
	s.feed("\r\r\r\r")
	if got := len(s.e.lines); got != 3 || s.sc.bells == 0 {
		t.Fatalf("%d lines, %d bells; want 3 lines and a bell", got, s.sc.bells)
	}
	s.feed("abcdefghijkl")
	if got := s.e.size(); got > 10 {
		t.Fatalf("size %d over 10", got)
	}
	if !strings.Contains(s.sc.text(), "full") {
		t.Errorf("no word of the limit on screen:\n%s", s.sc.text())
	}
}

func TestScrollAndPaging(t *testing.T) {
	var text []string
	for i := range 50 {
		text = append(text, "line "+string(rune('A'+i%26)))
	}
	s := start(t, Options{Height: 10, Text: text})
	s.feed("\x1b[6~\x1b[6~") // PgDn twice: row 16
	if s.e.row != 16 || s.sc.line(s.sc.row) != text[16] {
		t.Errorf("after PgDn row %d, screen row shows %q", s.e.row, s.sc.line(s.sc.row))
	}
	s.feed("\x1b[5~")
	if s.e.row != 8 {
		t.Errorf("after PgUp row %d", s.e.row)
	}
}

// TestResizeRedraws: a new size redraws the whole screen at that size.
func TestResizeRedraws(t *testing.T) {
	s := start(t, Options{Text: []string{"hello"}})
	s.e.Resize(40, 12)
	s.sc = newScreen(40, 12)
	s.feed("\x1b[F!")
	if s.sc.line(1) != "hello!" || !strings.Contains(s.sc.line(11), "Save") {
		t.Errorf("after a resize:\n%s", s.sc.text())
	}
}

// FuzzEditor: whatever keys come, in whatever pieces, the screen drawn
// change by change is the screen a full redraw draws, the text stays
// within its limits, and no line is wider than the window.
func FuzzEditor(f *testing.F) {
	f.Add("hello world\r\x1b[A\x1b[C\x7f\x11\x1b[6~typing on", 5)
	f.Add("\x1b[3~\x1b[5~\x19\x19\r\r\r\x1bOH", 3)
	f.Fuzz(func(t *testing.T, keys string, split int) {
		opt := Options{Width: 24, Height: 7, MaxLines: 20, MaxBytes: 300, Quote: []string{"quoted text here to wrap", "two"}}
		s := start(t, opt)
		if split < 0 || split > len(keys) {
			split = len(keys) / 2
		}
		for _, part := range []string{keys[:split], keys[split:]} {
			if s.feed(part) != Editing {
				return
			}
		}
		full := newScreen(s.e.width, s.e.height)
		full.write(t, s.e.Redraw())
		if got, want := s.sc.text(), full.text(); got != want {
			t.Fatalf("screen drawn by changes:\n%s\nredrawn:\n%s", got, want)
		}
		if len(s.e.lines) > s.e.lineLimit() || s.e.size() > opt.MaxBytes || s.e.size() != textSize(s.e.lines) {
			t.Fatalf("%d lines (limit %d), %d bytes (counted %d)", len(s.e.lines), s.e.lineLimit(), s.e.size(), textSize(s.e.lines))
		}
		for i, l := range s.e.lines {
			if s.e.cols[i] != columns(l) {
				t.Fatalf("line %d %q: columns kept %d, counted %d", i, string(l), s.e.cols[i], columns(l))
			}
			if columns(l) > s.e.wrapAt() {
				t.Fatalf("line %q wider than %d", string(l), s.e.wrapAt())
			}
		}
		if s.e.row < 0 || s.e.row >= len(s.e.lines) || s.e.col < 0 || s.e.col > len(s.e.lines[s.e.row]) {
			t.Fatalf("cursor %d,%d outside the text", s.e.row, s.e.col)
		}
	})
}

// TestJoinWrapsAndKeepsTheCursor: Backspace at a line's start joins it
// to the line above; a joined line too wide wraps, and the cursor stays
// between the same two characters.
func TestJoinWrapsAndKeepsTheCursor(t *testing.T) {
	s := start(t, Options{Width: 20, Height: 6, Text: []string{"aaaa bbbb cccc", "dddd eeee"}})
	s.feed("\x1b[B\x7f") // down, Backspace: "aaaa bbbb ccccdddd eeee" wraps
	if got, want := s.e.Lines(), []string{"aaaa bbbb ccccdddd", "eeee"}; !slices.Equal(got, want) {
		t.Fatalf("lines %q, want %q", got, want)
	}
	s.feed("|")
	if got := s.e.Lines()[0]; got != "aaaa bbbb cccc|dddd" {
		t.Errorf("typed at %q", got)
	}
}

// TestInvalidateRedraws: after something else was written over the
// editor, the next key draws the whole screen again.
func TestInvalidateRedraws(t *testing.T) {
	s := start(t, Options{Text: []string{"kept"}})
	s.sc.write(t, "\x1b[5;1Hsomeone paged you")
	s.e.Invalidate()
	s.feed("\x1b[F")
	if strings.Contains(s.sc.text(), "paged") || s.sc.line(1) != "kept" {
		t.Errorf("after Invalidate and a key:\n%s", s.sc.text())
	}
}

// TestWideCharacters: East Asian wide characters take two columns: they
// wrap by columns, the cursor lands after them, and combining marks are
// not kept.
func TestWideCharacters(t *testing.T) {
	s := start(t, Options{Width: 20, Height: 6})
	s.feed("漢字漢字漢字漢字 漢字") // 8 wide + space + 2 wide: 21 columns
	if got := []string{s.sc.line(1), s.sc.line(2)}; !slices.Equal(got, []string{"漢字漢字漢字漢字", "漢字"}) {
		t.Fatalf("rows %q", got)
	}
	if s.sc.row != 2 || s.sc.col != 4 {
		t.Errorf("cursor at %d,%d, want 2,4", s.sc.row, s.sc.col)
	}
	s.feed("e\u0301")
	if got := s.e.Lines()[1]; got != "漢字e" {
		t.Errorf("line %q: the combining mark was kept", got)
	}
}
