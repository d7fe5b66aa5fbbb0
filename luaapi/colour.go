package luaapi

import (
	"strings"

	"github.com/m2bbs/m2bbs/host/shared/termtext"
)

// Colour codes in screens and prompts.
//
// Pipe codes, as on Renegade- and Mystic-style boards: |00 to |15 set the
// foreground (DOS order: 0 black, 1 blue, 2 green, 3 cyan, 4 red,
// 5 magenta, 6 brown, 7 grey, and 8–15 their bright forms), |16 to |23 the
// background, || is a literal bar. They become ANSI escapes for callers
// who show colour and disappear for callers who don't, together with any
// ANSI escapes the text already holds.

// dosToANSI maps DOS colour order to ANSI's.
var dosToANSI = [8]byte{'0', '4', '2', '6', '1', '5', '3', '7'}

// pipeCode reads a pipe code's number at s[i:] (after the bar), or -1.
func pipeCode(s string, i int) int {
	if i+1 >= len(s) || s[i] < '0' || s[i] > '9' || s[i+1] < '0' || s[i+1] > '9' {
		return -1
	}
	n := int(s[i]-'0')*10 + int(s[i+1]-'0')
	if n > 23 {
		return -1
	}
	return n
}

// RenderColour turns pipe codes into ANSI escapes when colour is true,
// and removes them and every ANSI escape sequence when it is false.
func RenderColour(s string, colour bool) string {
	if !strings.ContainsAny(s, "|\x1b") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '|' && i+1 < len(s) && s[i+1] == '|':
			b.WriteByte('|')
			i++
		case c == '|' && pipeCode(s, i+1) >= 0:
			n := pipeCode(s, i+1)
			i += 2
			if !colour {
				continue
			}
			switch {
			case n < 8:
				b.WriteString("\x1b[0;3")
				b.WriteByte(dosToANSI[n])
			case n < 16:
				b.WriteString("\x1b[1;3")
				b.WriteByte(dosToANSI[n-8])
			default:
				b.WriteString("\x1b[4")
				b.WriteByte(dosToANSI[n-16])
			}
			b.WriteByte('m')
		case c == 0x1b && !colour:
			i = skipEscape(s, i) - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// skipEscape returns the index just past the escape sequence starting at
// s[i] (ESC): CSI, a control string such as OSC (ESC ] ... BEL), or a
// two-byte escape; a malformed one is the ESC alone, so that a UTF-8
// character after it is never cut (see termtext.EscapeLen).
func skipEscape(s string, i int) int { return i + termtext.EscapeLen(s, i) }

// EscapePipes returns s with every bar that would start a pipe code (or
// be read as "||") doubled, so that RenderColour shows s as it was typed:
// text from callers goes through it before a script sees it, and only the
// board's own screens and strings carry colour. A bar at the end is
// doubled too, since the board's text may go on with digits.
func EscapePipes(s string) string {
	if !strings.Contains(s, "|") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		b.WriteByte(c)
		if c == '|' && (i+1 == len(s) || s[i+1] == '|' || pipeCode(s, i+1) >= 0 || isDigitAt(s, i+1)) {
			b.WriteByte('|')
		}
	}
	return b.String()
}

// isDigitAt reports whether s[i] is a decimal digit: a bar before a lone
// digit at a string's end could become a code once the board appends to it.
func isDigitAt(s string, i int) bool {
	return i < len(s) && s[i] >= '0' && s[i] <= '9' && i+1 == len(s)
}

// CallerText is text that came from a caller (a post, a subject, a mail, a
// one-liner, a name), as the luaapi modules hand it to scripts: cleaned of
// control characters and escape sequences (keeping newlines), with its
// pipe codes escaped so that it is shown as typed.
func CallerText(s string) string { return EscapePipes(termtext.Clean(s)) }

// CallerLine is CallerText for a one-line field: a newline becomes a space.
func CallerLine(s string) string { return EscapePipes(termtext.CleanLine(s)) }
