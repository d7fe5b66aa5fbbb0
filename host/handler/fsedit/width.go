package fsedit

import (
	"unicode"

	"golang.org/x/text/width"
)

// Columns: a character takes one column on the caller's terminal, or two
// for an East Asian wide or fullwidth one (漢, ｗ). Characters that take
// none (combining marks, format characters) are not kept: a terminal
// would draw them onto the character before, which the editor's cursor
// cannot follow.

// runeWidth is the columns r takes.
func runeWidth(r rune) int {
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// kept reports whether r may stand in the text: it takes a column.
func kept(r rune) bool { return !unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) }

// keptOnly returns line without the characters kept refuses.
func keptOnly(line []rune) []rune {
	out := line[:0:0]
	for _, r := range line {
		if kept(r) {
			out = append(out, r)
		}
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
