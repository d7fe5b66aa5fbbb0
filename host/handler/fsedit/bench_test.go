package fsedit

import (
	"strings"
	"testing"
)

// BenchmarkFeedKey: one typed key in an 80x24 editor holding 20 lines,
// as one keystroke-mode request brings it: the edit and the screen's
// changes.
func BenchmarkFeedKey(b *testing.B) {
	e := New(Options{Text: strings.Split(strings.Repeat("a line of text to edit, long enough to matter\n", 20), "\n")})
	e.Redraw()
	keys := []string{"x", "\x7f"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e.Feed(keys[i%2])
	}
}
