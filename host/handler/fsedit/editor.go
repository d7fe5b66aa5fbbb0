// Package fsedit is the full-screen message editor's state machine
// (ui.edit in Lua): keystrokes in, terminal output out, no I/O. The
// caller's coroutine feeds it each keystroke-mode request
// (message.TypeKeys) and sends back what Feed returns; the same keys
// give the same screens, so a journal replays an edit exactly.
//
// The screen is a title line, the text, and a status line naming the
// keys: Ctrl-Z saves, Ctrl-C (or Ctrl-X) aborts (twice, when there is
// text), Ctrl-Q quotes the message replied to, Ctrl-L redraws, Ctrl-Y
// deletes a line; arrows, Home/End, PgUp/PgDn move, Enter splits a line,
// Backspace and Delete join lines at their ends. Text wraps at a word
// before the last column (width - 1). Output is only what changed since
// the last screen, row by row.
//
// Bounded: at most Options.MaxLines lines (MaxLines in all) and
// Options.MaxBytes bytes (MaxBytes in all, newlines counted); a key past
// a limit is refused with a bell and a word on the status line. The
// screen is at most MaxWidth x MaxHeight; a larger window uses that much.
package fsedit

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/m2bbs/m2bbs/host/shared/termtext"
)

// Limits and defaults.
const (
	DefaultMaxLines = 100
	MaxLines        = 1000
	DefaultMaxBytes = 64 << 10
	MaxBytes        = 1 << 20
	MinWidth        = 20
	MinHeight       = 5
	MaxWidth        = 250
	MaxHeight       = 100
	DefaultWidth    = 80
	DefaultHeight   = 24
)

// Options set up an Editor.
type Options struct {
	// Width and Height are the caller's window in characters (0:
	// DefaultWidth, DefaultHeight).
	Width, Height int
	// Title is shown on the first line (a subject; "" for none).
	Title string
	// Quote is the message replied to: Ctrl-Q inserts it, each line
	// after "> ", wrapped. None: Ctrl-Q does nothing.
	Quote []string
	// Text is the text to start with.
	Text []string
	// MaxLines and MaxBytes bound the text (0: the defaults; at most
	// MaxLines and MaxBytes).
	MaxLines, MaxBytes int
}

// Result says whether the edit goes on.
type Result uint8

// Results of Feed.
const (
	Editing Result = iota
	Saved
	Aborted
)

// Editor is one edit. Make it with New.
type Editor struct {
	opt           Options
	width, height int
	lines         [][]rune
	row, col      int // the cursor, in the text
	top           int // the first text line on screen
	msg           string
	abortAsked    bool
	ps            parser
	shown         []string // the rows on the caller's screen; nil: unknown
	keyBuf        []key
}

// New returns an editor for opt, its text wrapped to the window.
func New(opt Options) *Editor {
	opt.MaxLines = clamp(opt.MaxLines, DefaultMaxLines, 1, MaxLines)
	opt.MaxBytes = clamp(opt.MaxBytes, DefaultMaxBytes, 1, MaxBytes)
	opt.Title = string(keptOnly([]rune(termtext.CleanLine(opt.Title))))
	e := &Editor{opt: opt}
	e.resize(opt.Width, opt.Height)
text:
	for _, l := range opt.Text {
		for _, part := range strings.Split(l, "\n") {
			for _, line := range wrapText(keptOnly([]rune(termtext.CleanLine(part))), "", e.wrapAt()) {
				if !e.fits(line) {
					break text
				}
				e.lines = append(e.lines, line)
			}
		}
	}
	if len(e.lines) == 0 {
		e.lines = [][]rune{{}}
	}
	return e
}

// clamp is n, or def when n is 0 or less, kept within lo..hi.
func clamp(n, def, lo, hi int) int {
	if n <= 0 {
		n = def
	}
	return min(max(n, lo), hi)
}

// resize sets the window's size (0: the default), within the limits;
// the next output redraws the whole screen.
func (e *Editor) resize(w, h int) {
	e.width = clamp(w, DefaultWidth, MinWidth, MaxWidth)
	e.height = clamp(h, DefaultHeight, MinHeight, MaxHeight)
	e.shown = nil
}

// Resize follows a new window size: the next Feed redraws the screen.
// Lines longer than the new width are shown cut, not wrapped again.
func (e *Editor) Resize(w, h int) {
	if clamp(w, DefaultWidth, MinWidth, MaxWidth) != e.width || clamp(h, DefaultHeight, MinHeight, MaxHeight) != e.height {
		e.resize(w, h)
	}
}

// wrapAt is the widest a line of text may be: the last column stays
// free, so no terminal wraps on its own.
func (e *Editor) wrapAt() int { return e.width - 1 }

// textRows is how many rows show text.
func (e *Editor) textRows() int { return e.height - 2 }

// Lines returns the text, without empty lines at the end.
func (e *Editor) Lines() []string {
	n := len(e.lines)
	for n > 0 && len(e.lines[n-1]) == 0 {
		n--
	}
	out := make([]string, n)
	for i := range n {
		out[i] = string(e.lines[i])
	}
	return out
}

// Invalidate forgets what the caller's screen shows (something else was
// written over it): the next Feed redraws it all.
func (e *Editor) Invalidate() { e.shown = nil }

// Redraw returns the whole screen.
func (e *Editor) Redraw() string {
	e.shown = nil
	return e.render()
}

// Feed edits with keys, as one keystroke-mode request brought them, and
// returns what the caller's terminal must show. Once it returns Saved or
// Aborted, the output clears the screen and the edit is over.
func (e *Editor) Feed(keys string) (string, Result) {
	e.keyBuf = e.ps.keys(e.keyBuf[:0], keys)
	bell := false
	for _, k := range e.keyBuf {
		res, ok := e.key(k)
		bell = bell || !ok
		if res != Editing {
			return "\x1b[0m\x1b[2J\x1b[H", res
		}
	}
	out := e.render()
	if bell {
		out += "\a"
	}
	return out, Editing
}

// key edits with one key; ok is false when the key was refused.
func (e *Editor) key(k key) (Result, bool) {
	if k.kind == kindCtrl && (k.r == 0x03 || k.r == 0x18) {
		if e.abortAsked || e.empty() {
			return Aborted, true
		}
		e.abortAsked = true
		e.msg = "Abort: press Ctrl-C again to throw this message away."
		return Editing, true
	}
	e.abortAsked = false
	e.msg = ""
	ok := true
	switch k.kind {
	case kindRune:
		ok = e.insert(k.r)
	case kindCtrl:
		switch k.r {
		case 0x1a: // Ctrl-Z
			return Saved, true
		case '\r', '\n':
			ok = e.enter()
		case 0x08, 0x7f:
			ok = e.backspace()
		case '\t':
			ok = e.insert(' ')
		case 0x11: // Ctrl-Q
			ok = e.quote()
		case 0x0c: // Ctrl-L
			e.shown = nil
		case 0x19: // Ctrl-Y
			e.deleteLine()
		}
	case kindUp:
		e.moveTo(e.row-1, e.col)
	case kindDown:
		e.moveTo(e.row+1, e.col)
	case kindPgUp:
		e.moveTo(e.row-e.textRows(), e.col)
	case kindPgDn:
		e.moveTo(e.row+e.textRows(), e.col)
	case kindLeft:
		if e.col > 0 {
			e.col--
		} else if e.row > 0 {
			e.row--
			e.col = len(e.lines[e.row])
		}
	case kindRight:
		if e.col < len(e.lines[e.row]) {
			e.col++
		} else if e.row+1 < len(e.lines) {
			e.row, e.col = e.row+1, 0
		}
	case kindHome:
		e.col = 0
	case kindEnd:
		e.col = len(e.lines[e.row])
	case kindDelete:
		ok = e.deleteForward()
	}
	return Editing, ok
}

// empty reports whether there is no text.
func (e *Editor) empty() bool { return len(e.lines) == 1 && len(e.lines[0]) == 0 }

// moveTo puts the cursor on row (kept within the text), at col or the
// line's end.
func (e *Editor) moveTo(row, col int) {
	e.row = min(max(row, 0), len(e.lines)-1)
	e.col = min(col, len(e.lines[e.row]))
}

// size is the text's length in bytes, a newline after each line but the
// last.
func (e *Editor) size() int {
	n := len(e.lines) - 1
	for _, l := range e.lines {
		for _, r := range l {
			n += utf8.RuneLen(r)
		}
	}
	return n
}

// refuse says why a key was refused.
func (e *Editor) refuse(why string) bool {
	e.msg = why
	return false
}

// insert types r at the cursor, wrapping the line if it grows too wide.
func (e *Editor) insert(r rune) bool {
	if !kept(r) {
		return true // takes no column: see width.go
	}
	line := e.lines[e.row]
	wraps := columns(line)+runeWidth(r) > e.wrapAt()
	newline := 0
	if wraps {
		newline = 1 // a wrap may add a line break
	}
	if e.size()+utf8.RuneLen(r)+newline > e.opt.MaxBytes {
		return e.refuse("The message is full.")
	}
	if wraps && len(e.lines) >= e.opt.MaxLines {
		return e.refuse("No more lines: at most " + strconv.Itoa(e.opt.MaxLines) + ".")
	}
	line = append(line[:e.col], append([]rune{r}, line[e.col:]...)...)
	e.lines[e.row] = line
	e.col++
	e.wrapFrom(e.row)
	return true
}

// wrapFrom breaks the line at row, if it is too wide, at its last space
// that fits (or at the width, if none), the rest going to a new line
// after it; the cursor follows its character.
func (e *Editor) wrapFrom(row int) {
	w := e.wrapAt()
	for ; row < len(e.lines) && columns(e.lines[row]) > w && len(e.lines) < e.opt.MaxLines; row++ {
		line := e.lines[row]
		cut, skip := breakAt(line, w)
		head := append([]rune(nil), line[:cut]...)
		tail := append([]rune(nil), line[cut+skip:]...)
		e.lines[row] = head
		e.insertLine(row+1, tail)
		if e.row == row && e.col > cut {
			e.row, e.col = row+1, max(e.col-cut-skip, 0)
		}
	}
}

// insertLine puts line before line i.
func (e *Editor) insertLine(i int, line []rune) {
	e.lines = append(e.lines, nil)
	copy(e.lines[i+1:], e.lines[i:])
	e.lines[i] = line
}

// enter splits the line at the cursor.
func (e *Editor) enter() bool {
	if len(e.lines) >= e.opt.MaxLines {
		return e.refuse("No more lines: at most " + strconv.Itoa(e.opt.MaxLines) + ".")
	}
	if e.size()+1 > e.opt.MaxBytes {
		return e.refuse("The message is full.")
	}
	line := e.lines[e.row]
	tail := append([]rune(nil), line[e.col:]...)
	e.lines[e.row] = line[:e.col]
	e.insertLine(e.row+1, tail)
	e.row, e.col = e.row+1, 0
	return true
}

// backspace rubs out the character before the cursor, or joins the line
// to the one above.
func (e *Editor) backspace() bool {
	if e.col > 0 {
		line := e.lines[e.row]
		e.lines[e.row] = append(line[:e.col-1], line[e.col:]...)
		e.col--
		return true
	}
	if e.row == 0 {
		return true
	}
	row, col := e.row, e.col
	e.row, e.col = e.row-1, len(e.lines[e.row-1])
	if !e.join(e.row) {
		e.row, e.col = row, col
		return false
	}
	return true
}

// deleteForward deletes the character at the cursor, or joins the next
// line to this one.
func (e *Editor) deleteForward() bool {
	line := e.lines[e.row]
	if e.col < len(line) {
		e.lines[e.row] = append(line[:e.col], line[e.col+1:]...)
		return true
	}
	if e.row+1 < len(e.lines) {
		return e.join(e.row)
	}
	return true
}

// join appends line i+1 to line i and wraps the result; it reports
// false, and joins nothing, when the wrapped result would pass MaxLines.
func (e *Editor) join(i int) bool {
	joined := append(append([]rune(nil), e.lines[i]...), e.lines[i+1]...)
	parts := len(wrapText(joined, "", e.wrapAt()))
	if len(e.lines)-2+parts > e.opt.MaxLines {
		return e.refuse("No more lines: at most " + strconv.Itoa(e.opt.MaxLines) + ".")
	}
	if e.size()-1+(parts-1) > e.opt.MaxBytes { // its breaks cost a byte each
		return e.refuse("The message is full.")
	}
	e.lines[i] = joined
	e.lines = append(e.lines[:i+1], e.lines[i+2:]...)
	e.wrapFrom(i)
	return true
}

// deleteLine removes the cursor's line.
func (e *Editor) deleteLine() {
	if len(e.lines) == 1 {
		e.lines[0] = e.lines[0][:0]
		e.col = 0
		return
	}
	e.lines = append(e.lines[:e.row], e.lines[e.row+1:]...)
	e.moveTo(e.row, 0)
}

// quote inserts the message replied to above the cursor's line, as much
// of it as the limits allow; the cursor stays on its line.
func (e *Editor) quote() bool {
	if len(e.opt.Quote) == 0 {
		return e.refuse("Nothing to quote.")
	}
	at := e.row
	for _, l := range e.opt.Quote {
		for _, line := range wrapText(keptOnly([]rune(termtext.CleanLine(l))), "> ", e.wrapAt()) {
			if !e.fits(line) {
				e.row = at
				return e.refuse("The quote was cut short: the message is full.")
			}
			e.insertLine(at, line)
			at++
		}
	}
	e.row, e.col = at, 0
	return true
}

// fits reports whether one more line, line, stays within the limits.
func (e *Editor) fits(line []rune) bool {
	return len(e.lines)+1 <= e.opt.MaxLines && e.size()+len(string(line))+1 <= e.opt.MaxBytes
}

// breakAt is where a line wider than w columns breaks: before its last
// space within the first w columns (skip 1: the space goes), or, with
// none, after the characters that fit (skip 0).
func breakAt(line []rune, w int) (cut, skip int) {
	fit := fitting(line, w) // < len(line): the line is wider
	for i := fit; i > 0; i-- {
		if line[i] == ' ' {
			return i, 1
		}
	}
	return max(fit, 1), 0
}

// wrapText cuts text into lines of at most w characters, each after
// prefix, at the last space that fits (or at w, if none).
func wrapText(text []rune, prefix string, w int) [][]rune {
	w -= columns([]rune(prefix))
	var out [][]rune
	for {
		part, next := text, []rune(nil)
		if columns(text) > w {
			cut, skip := breakAt(text, w)
			part, next = text[:cut], text[cut+skip:]
		}
		out = append(out, append([]rune(prefix), part...))
		if len(next) == 0 {
			return out
		}
		text = next
	}
}
