package fsedit

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"

	"github.com/m2bbs/m2bbs/host/shared/termprofile"
)

// Columns: a character takes one column on the caller's terminal, or two
// for an East Asian wide or fullwidth one (漢, ｗ). Characters that take
// none (combining marks, format characters) are not kept: a terminal
// would draw them onto the character before, which the editor's cursor
// cannot follow.

// firstWide is the first East Asian wide character (Hangul Jamo).
const firstWide = 0x1100

// runeWidth is the columns r takes.
func runeWidth(r rune) int {
	if r < firstWide { // the common case, without the table's lookup
		return 1
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// kept reports whether r may stand in the text: it takes a column (no
// control character does: a tab typed is a space, see Editor.key).
func kept(r rune) bool { return !unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Cc) }

// tabStop is the columns between tab stops: a tab in a line the editor
// is given becomes spaces up to the next.
const tabStop = 8

// keptOnly returns line with its tabs expanded to spaces and without the
// other characters kept refuses.
func keptOnly(line []rune) []rune {
	out := line[:0:0]
	col := 0
	for _, r := range line {
		switch {
		case r == '\t':
			for n := tabStop - col%tabStop; n > 0; n-- {
				out = append(out, ' ')
			}
			col += tabStop - col%tabStop
		case kept(r):
			out = append(out, r)
			col += runeWidth(r)
		}
	}
	return out
}

// shown returns line as a terminal in enc shows it. In CP437 or ASCII
// the edge (termprofile.Encode) writes a character the code page lacks
// as a stand-in ("..." for …, "(TM)", "?" for 漢): the editor keeps the
// stand-in, so that it counts the columns the caller sees.
func shown(line []rune, enc termprofile.Encoding) []rune {
	if enc != termprofile.CP437 && enc != termprofile.ASCII {
		return line
	}
	var out []rune
	for i, r := range line {
		if r < utf8.RuneSelf {
			if out != nil {
				out = append(out, r)
			}
			continue
		}
		b := termprofile.Encode(nil, string(r), enc)
		if len(b) == 1 && (b[0] >= utf8.RuneSelf || b[0] < ' ') { // one glyph
			if out != nil {
				out = append(out, r)
			}
			continue
		}
		if out == nil {
			out = append(make([]rune, 0, len(line)+8), line[:i]...)
		}
		out = append(out, []rune(string(b))...)
	}
	if out == nil {
		return line
	}
	return out
}

// columns is the columns line takes.
func columns(line []rune) int {
	n := 0
	for _, r := range line {
		n += runeWidth(r)
	}
	return n
}

// fitting is how many characters of line fit in w columns.
func fitting(line []rune, w int) int {
	n := 0
	for i, r := range line {
		n += runeWidth(r)
		if n > w {
			return i
		}
	}
	return len(line)
}
