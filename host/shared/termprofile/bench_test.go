package termprofile

import (
	"strings"
	"testing"
)

// benchScreen is a 2 KB screen: a box, colour, text.
var benchScreen = strings.Repeat("\x1b[1;36m┌────────────────┐\x1b[0m\n│ Message boards │ café\n", 30)

func BenchmarkEncodeCP437(b *testing.B) {
	b.SetBytes(int64(len(benchScreen)))
	var dst []byte
	for b.Loop() {
		dst = Encode(dst[:0], benchScreen, CP437)
	}
}

func BenchmarkEncodeASCII(b *testing.B) {
	b.SetBytes(int64(len(benchScreen)))
	var dst []byte
	for b.Loop() {
		dst = Encode(dst[:0], benchScreen, ASCII)
	}
}

func BenchmarkDecodeCP437(b *testing.B) {
	typed := []byte("Ren\x82e \xda\xc4\xbf typed a line")
	b.SetBytes(int64(len(typed)))
	var dst []byte
	for b.Loop() {
		dst = Decode(dst[:0], typed, CP437)
	}
}
