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

// fullText is n lines of w-1 characters: a text filling a w-column
// window's lines.
func fullText(n, w int) []string {
	text := make([]string, n)
	for i := range text {
		text[i] = strings.Repeat("x", w-2)
	}
	return text
}

// BenchmarkFeedPasteFull: a 1 KiB keys request of typed characters
// into the shipped board's full text (24 lines of 248 characters in a
// 250-column window), every key refused: what a hostile caller pasting
// into a full message costs the worker per request.
func BenchmarkFeedPasteFull(b *testing.B) {
	e := New(Options{Width: 250, Height: 100, MaxLines: 24, Text: fullText(24, 250)})
	e.Redraw()
	e.Feed("\x1b[6~\x1b[F")
	paste := strings.Repeat("a", 1024)
	for b.Loop() {
		e.Feed(paste)
	}
}

// BenchmarkFeedPasteNearlyFull: the same into a text of about 64 KiB
// (the default MaxBytes), 1000 lines allowed.
func BenchmarkFeedPasteNearlyFull(b *testing.B) {
	var text []string
	for n := 0; n < DefaultMaxBytes-300; n += 249 {
		text = append(text, strings.Repeat("x", 248))
	}
	e := New(Options{Width: 250, Height: 100, MaxLines: MaxLines, Text: text})
	e.Redraw()
	paste := strings.Repeat("a", 1024)
	for b.Loop() {
		e.Feed(paste)
	}
}
