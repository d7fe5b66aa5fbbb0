package telnet

import "unicode/utf8"

// Event says what a key did to the line being edited.
type Event uint8

// Events Editor.Key returns.
const (
	// Editing: the line goes on.
	Editing Event = iota
	// Entered: Enter ended the line; Key returned it.
	Entered
	// HangUp: Ctrl-C or Ctrl-D on an empty line; the caller wants to go.
	HangUp
)

// Control keys the editor understands.
const (
	keyCtrlC     = 0x03
	keyCtrlD     = 0x04
	keyBell      = 0x07
	keyBackspace = 0x08
	keyTab       = 0x09
	keyCtrlU     = 0x15
	keyCtrlW     = 0x17
	keyEscape    = 0x1b
	keyDelete    = 0x7f
)

// erase is what the terminal is sent to rub out the character before the
// cursor.
const erase = "\b \b"

// escape sequence states: arrow and function keys are swallowed whole
const (
	escNone = iota
	escStart
	escCSI // ESC [ parameters... final byte
	escSS3 // ESC O and one byte
)

// Editor edits one line at a time from a caller's keystrokes, the way a
// terminal in cooked mode would, and says what to echo. Printable
// characters (UTF-8 included; an invalid sequence becomes U+FFFD) are
// added and echoed; Backspace or Delete rubs out one character, Ctrl-W a
// word, Ctrl-U the line; Tab is a space; a line is at most MaxLine bytes,
// and a key that would pass the limit rings the bell instead; arrow keys
// and other escape sequences and control characters are ignored. Enter as
// CR, CR LF, CR NUL or LF ends the line once. Ctrl-C or Ctrl-D on an empty
// line hangs up; Ctrl-C on a line rubs it out.
//
// The zero Editor is not usable; call NewEditor.
type Editor struct {
	// Echo says the terminal shows what is typed through the echo the
	// editor returns. Set it to false for a secret (nothing is echoed,
	// the bell excepted) and when the client echoes by itself.
	Echo bool

	max     int
	line    []byte
	partial []byte // an incomplete UTF-8 sequence
	afterCR bool   // the previous key was a CR: a LF or NUL now is part of it
	esc     int
}

// NewEditor returns an Editor for lines of at most maxLine bytes (UTF-8).
// It echoes.
func NewEditor(maxLine int) *Editor {
	return &Editor{Echo: true, max: max(maxLine, 1), partial: make([]byte, 0, utf8.UTFMax)}
}

// Discard throws away the line typed so far (the prompt it answered, a
// secret one, is gone).
func (e *Editor) Discard() {
	clear(e.line)
	e.line, e.partial = e.line[:0], e.partial[:0]
}

// Key edits the line with one byte of input. It appends what the terminal
// must show to echo and returns it with what the key did; when the line
// ended (Entered) it returns the line too, and the next key starts a new
// line. Enter itself is not echoed: the caller writes the newline.
func (e *Editor) Key(echo []byte, b byte) ([]byte, Event, string) {
	afterCR := e.afterCR
	e.afterCR = false
	if e.esc != escNone && e.escapeKey(b) {
		return echo, Editing, ""
	}
	if b >= utf8.RuneSelf {
		return e.utf8Key(echo, b), Editing, ""
	}
	if len(e.partial) > 0 { // an ASCII byte cuts a UTF-8 sequence short
		e.partial = e.partial[:0]
		echo = e.insert(echo, string(utf8.RuneError))
	}
	switch {
	case (b == '\n' || b == 0) && afterCR:
		return echo, Editing, ""
	case b == '\r' || b == '\n':
		e.afterCR = b == '\r'
		line := string(e.line)
		e.line = e.line[:0]
		return echo, Entered, line
	case b == keyCtrlC || b == keyCtrlD:
		if len(e.line) == 0 {
			return echo, HangUp, ""
		}
		if b == keyCtrlD {
			return append(echo, keyBell), Editing, ""
		}
		return e.rubOut(echo, 0), Editing, ""
	case b == keyBackspace || b == keyDelete:
		if len(e.line) == 0 {
			return echo, Editing, ""
		}
		_, size := utf8.DecodeLastRune(e.line)
		return e.rubOut(echo, len(e.line)-size), Editing, ""
	case b == keyCtrlU:
		return e.rubOut(echo, 0), Editing, ""
	case b == keyCtrlW:
		return e.rubOut(echo, wordStart(e.line)), Editing, ""
	case b == keyEscape:
		e.esc = escStart
		return echo, Editing, ""
	case b == keyTab:
		return e.insert(echo, " "), Editing, ""
	case b < 0x20:
		return echo, Editing, "" // other control keys do nothing
	}
	return e.insert(echo, string(rune(b))), Editing, ""
}

// utf8Key collects the bytes of a multi-byte character.
func (e *Editor) utf8Key(echo []byte, b byte) []byte {
	if len(e.partial) > 0 && utf8.RuneStart(b) { // a new sequence cuts the last short
		e.partial = e.partial[:0]
		echo = e.insert(echo, string(utf8.RuneError))
	}
	e.partial = append(e.partial, b)
	if !utf8.FullRune(e.partial) {
		return echo
	}
	r, size := utf8.DecodeRune(e.partial)
	e.partial = e.partial[:0]
	if r == utf8.RuneError && size <= 1 {
		return e.insert(echo, string(utf8.RuneError))
	}
	return e.insert(echo, string(r))
}

// escapeKey reads b inside an escape sequence and reports whether it
// was part of it; a byte that cannot be (a control key, say) ends the
// sequence and is read as a key of its own.
func (e *Editor) escapeKey(b byte) bool {
	state := e.esc
	e.esc = escNone
	switch state {
	case escStart:
		switch b {
		case '[':
			e.esc = escCSI
			return true
		case 'O':
			e.esc = escSS3
			return true
		}
		return false
	case escCSI:
		if b >= 0x20 && b <= 0x3f { // parameter or intermediate bytes
			e.esc = escCSI
			return true
		}
		return b >= 0x40 && b <= 0x7e // the final byte
	}
	return b >= 0x20 && b <= 0x7e // after ESC O
}

// insert adds the character s at the end of the line, or rings the bell
// if it does not fit.
func (e *Editor) insert(echo []byte, s string) []byte {
	if len(e.line)+len(s) > e.max {
		return append(echo, keyBell)
	}
	e.line = append(e.line, s...)
	if e.Echo {
		echo = append(echo, s...)
	}
	return echo
}

// rubOut cuts the line to its first n bytes, rubbing out on the terminal
// one column per character cut.
func (e *Editor) rubOut(echo []byte, n int) []byte {
	if e.Echo {
		for range utf8.RuneCount(e.line[n:]) {
			echo = append(echo, erase...)
		}
	}
	e.line = e.line[:n]
	return echo
}

// wordStart returns where the last word of line starts, trailing spaces
// counted as part of it.
func wordStart(line []byte) int {
	i := len(line)
	for i > 0 && line[i-1] == ' ' {
		i--
	}
	for i > 0 && line[i-1] != ' ' {
		i--
	}
	return i
}
