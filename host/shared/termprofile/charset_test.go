package termprofile

import (
	"slices"
	"testing"
)

// TestArtGlyphsReachACP437Terminal: the glyphs DOS art draws with control
// bytes (☺ ♥ ► ▲) go to a CP437 terminal as those bytes, so art decoded
// from a .ans file shows as drawn; the glyphs of bytes a terminal acts on
// (← is ESC, ♪ is CR, ↑ is CAN) never go out as those bytes.
func TestArtGlyphsReachACP437Terminal(t *testing.T) {
	art := string([]rune{'☺', '♥', '♦', '♣', '♠', '►', '◄', '‼', '¶', '§', '↓', '▲', '▼', '░', '█'})
	want := []byte{0x01, 0x03, 0x04, 0x05, 0x06, 0x10, 0x11, 0x13, 0x14, 0x15, 0x19, 0x1E, 0x1F, 0xB0, 0xDB}
	if got := Encode(nil, art, CP437); string(got) != string(want) {
		t.Errorf("art glyphs in CP437: % x, want % x", got, want)
	}
	for _, r := range []rune{'←', '♪', '↑', '→', '•', '◘', '○', '◙', '♂', '♀', '♫', '☼', '⌂'} {
		for _, b := range Encode(nil, string(r), CP437) {
			if b < 0x20 && !slices.Contains(shownControls, b) || b == 0x7F {
				t.Errorf("%c went out as the control byte %#x", r, b)
			}
		}
	}
}
