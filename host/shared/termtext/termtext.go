// Package termtext makes text safe to show on a caller's terminal.
//
// Text a caller typed reaches other callers' telnet terminals and browser
// terminals (xterm.js). A terminal obeys control characters and escape
// sequences wherever they appear, so a post holding ESC ] 0 ; title BEL
// renames a reader's window, ESC [ 2 J clears their screen (the start of
// a fake password prompt) and OSC 52 writes their clipboard. This package
// knows nothing of Lua or sockets; it works on strings:
//
//   - [Clean] and [CleanLine] turn caller text into plain text: every
//     escape sequence (CSI, OSC, DCS, SOS, PM, APC and two-byte escapes)
//     is removed whole, every other C0 control but tab (and, for Clean,
//     newline), DEL and every C1 control (U+0080–U+009F) is removed, and
//     bytes that are not UTF-8 become U+FFFD.
//   - [EscapeLen] measures one escape sequence, for renderers that skip
//     them.
//   - [StripStrings] removes only the control strings (OSC, DCS, SOS, PM,
//     APC) and C1 controls, keeping colour (CSI) sequences: for the output
//     edges, where the board's own colour must pass.
//
// Every function runs in time linear in its input.
package termtext

import (
	"strings"
	"unicode/utf8"
)

const (
	esc = 0x1b
	bel = 0x07
	del = 0x7f
)

// isControlString reports whether ESC c opens a control string that runs
// until a string terminator: OSC (]), DCS (P), SOS (X), PM (^), APC (_).
func isControlString(c byte) bool {
	return c == ']' || c == 'P' || c == 'X' || c == '^' || c == '_'
}

// EscapeLen returns the length in bytes of the escape sequence that starts
// with the ESC at s[i]:
//
//   - CSI: ESC [, parameter bytes 0x30–0x3F, intermediate bytes 0x20–0x2F,
//     a final byte 0x40–0x7E;
//   - a control string (OSC, DCS, SOS, PM, APC): ESC and its letter, then
//     anything up to and including BEL or ST (ESC \ or U+009C); another
//     ESC ends it without being part of it;
//   - otherwise: ESC, intermediate bytes 0x20–0x2F, a final byte
//     0x30–0x7E.
//
// A sequence cut by the end of s runs to the end of s, as a terminal would
// swallow it. A malformed sequence (a byte that cannot belong to it, such
// as a control character or a non-ASCII byte) has length 1: the ESC alone,
// so that no multi-byte UTF-8 character is ever split.
func EscapeLen(s string, i int) int {
	j := i + 1
	if j >= len(s) {
		return 1
	}
	switch c := s[j]; {
	case c == '[':
		return csiLen(s, i)
	case isControlString(c):
		return controlStringLen(s, i)
	}
	return sequenceLen(s, i, j, 0x30)
}

// csiLen is EscapeLen for ESC [.
func csiLen(s string, i int) int { return sequenceLen(s, i, i+2, 0x40) }

// sequenceLen is EscapeLen for a sequence whose bytes from s[start] on are
// intermediates (0x20 up to final-1) ended by one final byte (final up to
// 0x7e); anything else makes the ESC stand alone (length 1).
func sequenceLen(s string, i, start int, final byte) int {
	for j := start; j < len(s); j++ {
		c := s[j]
		switch {
		case c >= 0x20 && c < final:
			continue
		case c >= final && c <= 0x7e:
			return j + 1 - i
		default:
			return 1
		}
	}
	return len(s) - i
}

// controlStringLen is EscapeLen for a control string (ESC ] and friends).
func controlStringLen(s string, i int) int {
	for j := i + 2; j < len(s); j++ {
		switch s[j] {
		case bel:
			return j + 1 - i
		case esc:
			if j+1 < len(s) && s[j+1] == '\\' {
				return j + 2 - i
			}
			return j - i
		case 0xc2:
			if j+1 < len(s) && s[j+1] == 0x9c { // U+009C, ST
				return j + 2 - i
			}
		}
	}
	return len(s) - i
}

// isC1 reports whether r is a C1 control character.
func isC1(r rune) bool { return r >= 0x80 && r <= 0x9f }

// isBidiControl reports whether r is one of Unicode's explicit
// bidirectional embeddings, overrides or isolates (U+202A–U+202E,
// U+2066–U+2069): with them a caller's text can be drawn reversed, a
// name "poSys" shown as "sySop".
func isBidiControl(r rune) bool { return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 }

// isBidiControlAt reports whether s[i:] starts with one in UTF-8.
func isBidiControlAt(s string, i int) bool {
	if s[i] != 0xe2 || i+2 >= len(s) {
		return false
	}
	b1, b2 := s[i+1], s[i+2]
	return b1 == 0x80 && b2 >= 0xaa && b2 <= 0xae || b1 == 0x81 && b2 >= 0xa6 && b2 <= 0xa9
}

// needsCleaning reports whether s holds anything Clean (keepNewline) would
// change, so that clean text costs no allocation.
func needsCleaning(s string, keepNewline bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\t', c == '\n' && keepNewline:
		case c < 0x20, c == del:
			return true
		case c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f:
			return true
		case isBidiControlAt(s, i):
			return true
		}
	}
	return !utf8.ValidString(s)
}

// Clean returns s as plain text that may hold newlines: escape sequences
// removed whole (see [EscapeLen]), C0 controls other than tab and newline
// removed (a carriage return too, so that a line cannot be overwritten),
// DEL, C1 controls and bidirectional overrides (isBidiControl) removed,
// invalid UTF-8 replaced by U+FFFD.
func Clean(s string) string { return clean(s, true) }

// CleanLine is [Clean] for one line: a newline or carriage return becomes
// a space, so that the text cannot start a line of its own.
func CleanLine(s string) string { return clean(s, false) }

func clean(s string, keepNewline bool) string {
	if !needsCleaning(s, keepNewline) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == esc:
			i += EscapeLen(s, i)
			continue
		case c == '\t', c == '\n' && keepNewline:
			b.WriteByte(c)
		case (c == '\n' || c == '\r') && !keepNewline:
			b.WriteByte(' ')
		case c < 0x20, c == del:
		case c < utf8.RuneSelf:
			b.WriteByte(c)
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				b.WriteRune(utf8.RuneError)
			case !isC1(r) && !isBidiControl(r):
				b.WriteString(s[i : i+size])
			}
			i += size
			continue
		}
		i++
	}
	return b.String()
}

// IsClean reports whether s is already what [CleanLine] would make of it:
// no control character but tab, no escape, valid UTF-8.
func IsClean(s string) bool { return !needsCleaning(s, false) }

// StripStrings removes the control strings (OSC, DCS, SOS, PM, APC, each
// up to its terminator, or to the end of s if it has none), the C1
// controls, and an ESC not followed by a printable ASCII byte (an ESC
// that ends s, or comes before another ESC, a C1, a C0 control or DEL: a
// terminal runs a C0 control without leaving its escape state, so ESC CR
// ']' opens an OSC as ESC ']' does), and leaves everything else, colour
// and cursor (CSI) sequences included. It is for text the board itself sends, where colour
// must pass but nothing may set a window title, write the clipboard or
// talk to the terminal behind the caller's back. Invalid UTF-8 becomes
// U+FFFD.
func StripStrings(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD") // removals then cannot join bytes into a C1
	} else if !hasStrings(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == esc && i+1 < len(s) && isControlString(s[i+1]):
			i += controlStringLen(s, i)
			continue
		case c == esc && !keptEscape(s, i):
			i++
			continue
		case isC1At(s, i):
			i += 2
			continue
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

// keptEscape reports whether StripStrings keeps the ESC at s[i] (one that
// does not open a control string): only if the byte after it is an
// intermediate or final byte (printable ASCII), which the terminal takes
// as the sequence's next byte and StripStrings keeps as it is, so that
// neither the terminal nor a removal can make it open one. An ESC at the
// end, or before another ESC, a C1, a C0 control or DEL, goes.
func keptEscape(s string, i int) bool {
	return i+1 < len(s) && s[i+1] >= 0x20 && s[i+1] <= 0x7e
}

// isC1At reports whether s[i:] starts with a C1 control in UTF-8.
func isC1At(s string, i int) bool {
	return s[i] == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f
}

// hasStrings reports whether StripStrings would change s.
func hasStrings(s string) bool {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == esc && (i+1 < len(s) && isControlString(s[i+1]) || !keptEscape(s, i)):
			return true
		case isC1At(s, i):
			return true
		}
	}
	return false
}
