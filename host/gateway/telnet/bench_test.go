package telnet

import (
	"strings"
	"testing"
)

// BenchmarkDecoder decodes a typical burst from a client: negotiation,
// then a typed line.
func BenchmarkDecoder(b *testing.B) {
	input := []byte(inetutilsReply + strings.Repeat("typing a line of text\r\x00", 20))
	var d Decoder
	var tokens []Token
	b.SetBytes(int64(len(input)))
	for b.Loop() {
		tokens = d.Decode(tokens[:0], input)
	}
}

// BenchmarkAppendNVT renders a screen of 24 coloured lines.
func BenchmarkAppendNVT(b *testing.B) {
	screen := strings.Repeat("\x1b[1;33m 1 \x1b[0m General discussion ......... 42 messages\n", 24)
	var out []byte
	b.SetBytes(int64(len(screen)))
	for b.Loop() {
		out = AppendNVT(out[:0], screen)
	}
}
