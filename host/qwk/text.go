package qwk

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// lineEnd ends a line of a message's text in MESSAGES.DAT and BBSID.MSG.
const lineEnd = 0xE3

// toCP437 turns UTF-8 text into code page 437: a rune it lacks, a
// control character and 'π' (the line end's code) become '?'.
func toCP437(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		b, ok := charmap.CodePage437.EncodeRune(r)
		if !ok || b == lineEnd || b < ' ' || b == 0x7f {
			b = '?'
		}
		out = append(out, b)
	}
	return out
}

// fromCP437 turns code page 437 bytes into UTF-8; control characters
// other than tab become spaces.
func fromCP437(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for _, c := range b {
		switch {
		case c == '\t':
			sb.WriteByte(c)
		case c < ' ' || c == 0x7f:
			sb.WriteByte(' ')
		case c < utf8.RuneSelf:
			sb.WriteByte(c)
		default:
			sb.WriteRune(charmap.CodePage437.DecodeByte(c))
		}
	}
	return sb.String()
}

// field returns a fixed-width header field's bytes as text: trailing
// spaces and NULs dropped.
func field(b []byte) string {
	return fromCP437([]byte(strings.TrimRight(string(b), " \x00")))
}

// putField writes s into dst left-justified and padded with spaces,
// clipped to len(dst).
func putField(dst, s []byte) {
	n := copy(dst, s)
	for i := n; i < len(dst); i++ {
		dst[i] = ' '
	}
}

// encodeText is a message's lines as they follow its header: each line
// in CP437 and ended by 0xE3.
func encodeText(lines []string) []byte {
	var out []byte
	for _, l := range lines {
		out = append(out, toCP437(l)...)
		out = append(out, lineEnd)
	}
	return out
}

// decodeText splits a message's text blocks into lines: at 0xE3 (a CR LF
// or LF, which some readers write, also ends a line), padding and
// trailing empty lines dropped, each line's trailing spaces too.
func decodeText(b []byte) []string {
	b = []byte(strings.TrimRight(string(b), " \x00"))
	var lines []string
	start := 0
	for i := 0; i <= len(b); i++ {
		if i < len(b) && b[i] != lineEnd && b[i] != '\n' {
			continue
		}
		line := b[start:i]
		if len(line) > 0 && line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
		lines = append(lines, strings.TrimRight(fromCP437(line), " "))
		start = i + 1
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if lines == nil {
		lines = []string{}
	}
	return lines
}
