package pkt

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A header field is cut to its bytes a character at a time, in the
// packet's charset: never in the middle of a UTF-8 character.
func TestEncodeFieldCutsWholeCharacters(t *testing.T) {
	for _, c := range []struct {
		chrs, in string
		max      int
		want     string
	}{
		{"UTF-8 4", strings.Repeat("x", 70) + "é", 71, strings.Repeat("x", 70)},
		{"UTF-8 4", "ééé", 5, "éé"},
		{"UTF-8 4", "short", 71, "short"},
		{"CP437 2", strings.Repeat("x", 70) + "é", 71, strings.Repeat("x", 70) + "\x82"},
		{"CP437 2", strings.Repeat("é", 100), 35, strings.Repeat("\x82", 35)},
	} {
		got := EncodeField(c.chrs, c.in, c.max)
		if got != c.want || len(got) > c.max {
			t.Errorf("EncodeField(%q, %q, %d) = %q, want %q", c.chrs, c.in, c.max, got, c.want)
		}
		if strings.HasPrefix(c.chrs, "UTF-8") && !utf8.ValidString(got) {
			t.Errorf("EncodeField(%q, %q, %d) = %q: not UTF-8", c.chrs, c.in, c.max, got)
		}
	}
}
