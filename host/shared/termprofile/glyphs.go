package termprofile

// ControlGlyphs are the pictures a CP437 screen shows for the control
// bytes 0x00-0x1F (DOS art uses them: ☺ ♥ ► ↑ and the like); charmap
// decodes those bytes as controls.
var ControlGlyphs = [32]rune{
	' ', '☺', '☻', '♥', '♦', '♣', '♠', '•', '◘', '○', '◙', '♂', '♀', '♪', '♫', '☼',
	'►', '◄', '↕', '‼', '¶', '§', '▬', '↨', '↑', '↓', '→', '←', '∟', '↔', '▲', '▼',
}

// DELGlyph is the picture a CP437 screen shows for 0x7F.
const DELGlyph = '⌂'

// shownControls are the control bytes a CP437 terminal (SyncTERM,
// NetRunner, an ANSI-BBS terminal) shows as their glyph and no terminal
// acts on: Encode sends a glyph as its byte only for these. The others
// (NUL, BEL, BS, TAB, LF, VT, FF, CR, SO, SI, CAN, SUB, ESC, DEL) move the
// cursor, switch character sets or end escape sequences, so their glyphs
// go out as stand-ins: a caller typing ← must not put an ESC on another
// caller's screen.
var shownControls = []byte{0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x19, 0x1C, 0x1D, 0x1E, 0x1F}

// glyphByte is the byte Encode sends a CP437 terminal for a control
// glyph, and whether there is one.
func glyphByte(r rune) (byte, bool) {
	for _, b := range shownControls {
		if ControlGlyphs[b] == r {
			return b, true
		}
	}
	return 0, false
}
