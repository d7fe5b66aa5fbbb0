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
// Bounded: at most Options.MaxLines lines of the caller's own (each
// Ctrl-Q raises the limit by the lines it quotes; MaxLines in all) and
// Options.MaxBytes bytes (MaxBytes in all, newlines counted); a key past
// a limit is refused with a bell and a word on the status line. The
// screen is at most MaxWidth x MaxHeight; a larger window uses that much.
// A key costs time in proportion to its line, not to the whole text: the
// text's size is kept as it changes.
package fsedit

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/m2bbs/m2bbs/host/shared/termprofile"
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
	// MaxLines and MaxBytes). MaxLines counts the caller's own lines:
	// each Ctrl-Q raises it by the lines it inserts, up to MaxLines.
	MaxLines, MaxBytes int
	// Encoding is the caller's character set: on a CP437 or ASCII
	// terminal a character of Title, Quote or Text it cannot show in one
	// column becomes the stand-in its edge writes ("...", "(TM)", "?"),
	// so the editor counts the columns the caller sees.
	Encoding termprofile.Encoding
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
	bytes         int   // the text's size: see size
	cols          []int // the columns each line takes: see size
	quoted        int   // lines Ctrl-Q added to the line limit
	row, col      int   // the cursor, in the text
	top           int   // the first text line on screen
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
	e := &Editor{opt: opt, bytes: -1} // no lines yet: see size
	e.opt.Title = string(e.clean(opt.Title))
	e.resize(opt.Width, opt.Height)
text:
	for _, l := range opt.Text {
		for _, part := range strings.Split(l, "\n") {
			for _, line := range wrapText(e.clean(part), "", e.wrapAt()) {
				if !e.fits(line, e.opt.MaxLines) {
					break text
				}
				e.lines = append(e.lines, line)
				e.cols = append(e.cols, columns(line))
				e.bytes += lineBytes(line) + 1
			}
		}
	}
	if len(e.lines) == 0 {
		e.lines, e.cols, e.bytes = [][]rune{{}}, []int{0}, 0
	}
	return e
}

// clean is s as the editor keeps a line it is given: without control
// sequences, tabs expanded, only characters that take a column, each as
// the caller's terminal shows it.
func (e *Editor) clean(s string) []rune {
	return shown(keptOnly([]rune(termtext.CleanLine(s))), e.opt.Encoding)
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
// last (-1 for no lines). It is kept as the text changes, and so are
// the columns of each line (e.cols): every change of e.lines goes through
// setLine, insertLine or removeLine, or adjusts both itself.
func (e *Editor) size() int { return e.bytes }

// lineLimit is how many lines the text may have: Options.MaxLines and
// the quotes' lines, at most MaxLines.
func (e *Editor) lineLimit() int { return min(e.opt.MaxLines+e.quoted, MaxLines) }

// noMoreLines refuses a key that would pass the line limit.
func (e *Editor) noMoreLines() bool {
	return e.refuse("No more lines: at most " + strconv.Itoa(e.lineLimit()) + ".")
}

// lineBytes is line's length in UTF-8.
func lineBytes(line []rune) int {
	n := 0
	for _, r := range line {
		n += utf8.RuneLen(r)
	}
	return n
}

// setLine replaces line i.
func (e *Editor) setLine(i int, line []rune) {
	e.bytes += lineBytes(line) - lineBytes(e.lines[i])
	e.lines[i], e.cols[i] = line, columns(line)
}

// removeLine removes line i (there is another).
func (e *Editor) removeLine(i int) {
	e.bytes -= lineBytes(e.lines[i]) + 1
	e.lines = slices.Delete(e.lines, i, i+1)
	e.cols = slices.Delete(e.cols, i, i+1)
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
	if e.bytes+utf8.RuneLen(r) > e.opt.MaxBytes {
		return e.refuse("The message is full.")
	}
	if e.cols[e.row]+runeWidth(r) <= e.wrapAt() {
		e.lines[e.row] = slices.Insert(line, e.col, r)
		e.bytes += utf8.RuneLen(r)
		e.cols[e.row] += runeWidth(r)
		e.col++
		return true
	}
	// It wraps, into as many lines as wrapFrom will make of it (a line
	// wider than the window, after it narrowed, into several): at least
	// one more.
	if len(e.lines) >= e.lineLimit() {
		return e.noMoreLines()
	}
	grown := slices.Insert(slices.Clone(line), e.col, r)
	n, bytes := wrapped(grown, e.wrapAt())
	if e.bytes-lineBytes(line)+bytes > e.opt.MaxBytes {
		return e.refuse("The message is full.")
	}
	if len(e.lines)+n-1 > e.lineLimit() {
		return e.noMoreLines()
	}
	e.setLine(e.row, grown)
	e.col++
	e.wrapFrom(e.row)
	return true
}

// wrapped is what wrapFrom makes of line: how many lines, and their
// bytes with the breaks between them.
func wrapped(line []rune, w int) (n, bytes int) {
	n, bytes = 1, lineBytes(line)
	for columns(line) > w {
		cut, skip := breakAt(line, w)
		bytes += 1 - skip // a break is added, or takes a space's place
		line = line[cut+skip:]
		n++
	}
	return n, bytes
}

// wrapFrom breaks the line at row, if it is too wide, at its last space
// that fits (or at the width, if none), the rest going to a new line
// after it; the cursor follows its character.
func (e *Editor) wrapFrom(row int) {
	w := e.wrapAt()
	for ; row < len(e.lines) && e.cols[row] > w && len(e.lines) < e.lineLimit(); row++ {
		line := e.lines[row]
		cut, skip := breakAt(line, w)
		head := append([]rune(nil), line[:cut]...)
		tail := append([]rune(nil), line[cut+skip:]...)
		e.setLine(row, head)
		e.insertLine(row+1, tail)
		if e.row == row && e.col > cut {
			e.row, e.col = row+1, max(e.col-cut-skip, 0)
		}
	}
}

// insertLine puts line before line i.
func (e *Editor) insertLine(i int, line []rune) {
	e.lines = slices.Insert(e.lines, i, line)
	e.cols = slices.Insert(e.cols, i, columns(line))
	e.bytes += lineBytes(line) + 1
}

// enter splits the line at the cursor.
func (e *Editor) enter() bool {
	if len(e.lines) >= e.lineLimit() {
		return e.noMoreLines()
	}
	if e.bytes+1 > e.opt.MaxBytes {
		return e.refuse("The message is full.")
	}
	line := e.lines[e.row]
	tail := append([]rune(nil), line[e.col:]...)
	e.setLine(e.row, line[:e.col])
	e.insertLine(e.row+1, tail)
	e.row, e.col = e.row+1, 0
	return true
}

// backspace rubs out the character before the cursor, or joins the line
// to the one above.
func (e *Editor) backspace() bool {
	if e.col > 0 {
		line := e.lines[e.row]
		e.bytes -= utf8.RuneLen(line[e.col-1])
		e.cols[e.row] -= runeWidth(line[e.col-1])
		e.lines[e.row] = slices.Delete(line, e.col-1, e.col)
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
		e.bytes -= utf8.RuneLen(line[e.col])
		e.cols[e.row] -= runeWidth(line[e.col])
		e.lines[e.row] = slices.Delete(line, e.col, e.col+1)
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
	parts, bytes := wrapped(joined, e.wrapAt())
	if len(e.lines)-2+parts > e.lineLimit() {
		return e.noMoreLines()
	}
	if e.bytes-lineBytes(e.lines[i])-lineBytes(e.lines[i+1])-1+bytes > e.opt.MaxBytes {
		return e.refuse("The message is full.")
	}
	e.setLine(i, joined)
	e.removeLine(i + 1)
	e.wrapFrom(i)
	return true
}

// deleteLine removes the cursor's line.
func (e *Editor) deleteLine() {
	if len(e.lines) == 1 {
		e.setLine(0, e.lines[0][:0])
		e.col = 0
		return
	}
	e.removeLine(e.row)
	e.moveTo(e.row, 0)
}

// quote inserts the message replied to above the cursor's line, as much
// of it as MaxLines and MaxBytes allow, and raises the line limit by the
// lines it inserted; the cursor stays on its line.
func (e *Editor) quote() bool {
	if len(e.opt.Quote) == 0 {
		return e.refuse("Nothing to quote.")
	}
	at := e.row
	defer func() { e.quoted += at - e.row; e.row, e.col = at, 0 }()
	for _, l := range e.opt.Quote {
		for _, line := range wrapText(e.clean(l), "> ", e.wrapAt()) {
			if !e.fits(line, MaxLines) {
				return e.refuse("The quote was cut short: the message is full.")
			}
			e.insertLine(at, line)
			at++
		}
	}
	return true
}

// fits reports whether one more line, line, keeps the text within
// limit lines and MaxBytes.
func (e *Editor) fits(line []rune, limit int) bool {
	return len(e.lines)+1 <= limit && e.bytes+lineBytes(line)+1 <= e.opt.MaxBytes
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
