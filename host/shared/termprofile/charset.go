package termprofile

import (
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// Encode appends text, UTF-8 as the host writes it, to dst in enc. UTF-8
// (and the unknown encoding) pass as they are. In CP437 a character the
// code page has becomes its byte, box drawing included, and so does the
// glyph of a control byte a CP437 terminal shows and does not act on
// (shownControls: ☺ ♥ ►, not ←, which is ESC); another becomes
// its ASCII stand-in (Fallback) or '?'. In ASCII every character past
// 0x7f becomes its stand-in or '?': box drawing becomes + - | and = .
// Escape sequences are ASCII and pass unchanged; invalid UTF-8 becomes
// '?'.
func Encode(dst []byte, text string, enc Encoding) []byte {
	if enc != CP437 && enc != ASCII {
		return append(dst, text...)
	}
	for i := 0; i < len(text); {
		c := text[i]
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		if enc == CP437 && !(r == utf8.RuneError && size == 1) {
			if b, ok := charmap.CodePage437.EncodeRune(r); ok {
				dst = append(dst, b)
				continue
			}
			if b, ok := glyphByte(r); ok { // art's ☺ ♥ ►: see shownControls
				dst = append(dst, b)
				continue
			}
		}
		if s, ok := Fallback(r); ok {
			dst = append(dst, s...)
			continue
		}
		dst = append(dst, '?')
	}
	return dst
}

// Decode appends p, bytes a caller typed in enc, to dst as UTF-8. CP437
// bytes past 0x7f become their characters (every byte has one, so the
// result is always valid UTF-8); the other encodings pass unchanged (the
// line editor turns invalid UTF-8 into U+FFFD).
func Decode(dst, p []byte, enc Encoding) []byte {
	if enc != CP437 {
		return append(dst, p...)
	}
	for _, b := range p {
		if b < utf8.RuneSelf {
			dst = append(dst, b)
			continue
		}
		dst = utf8.AppendRune(dst, charmap.CodePage437.DecodeByte(b))
	}
	return dst
}

// Fallback returns the ASCII stand-in for r, a character an ASCII or
// CP437 terminal cannot show: box drawing as + - | =, blocks and shades
// as # : ., typographic quotes, dashes and arrows as their plain forms.
// ok is false when there is none.
func Fallback(r rune) (s string, ok bool) {
	if s, ok := fallbacks[r]; ok {
		return s, true
	}
	switch {
	case r >= 0x2500 && r <= 0x257f: // box drawing: corners, tees, crosses
		return "+", true
	case r >= 0x2580 && r <= 0x259f: // block elements
		return "#", true
	}
	return "", false
}

// fallbacks are the stand-ins that are not "+" for box drawing or "#"
// for blocks.
var fallbacks = map[rune]string{
	// Lines that only run across, or only up and down.
	'─': "-", '━': "-", '┄': "-", '┅': "-", '┈': "-", '┉': "-", '╌': "-", '╍': "-",
	'╴': "-", '╶': "-", '╸': "-", '╺': "-", '╼': "-", '╾': "-", '═': "=",
	'│': "|", '┃': "|", '┆': "|", '┇': "|", '┊': "|", '┋': "|", '╎': "|", '╏': "|",
	'╵': "|", '╷': "|", '╹': "|", '╻': "|", '╽': "|", '╿': "|", '║': "|",
	'╱': "/", '╲': `\`, '╳': "X",
	// Shades.
	'░': ".", '▒': ":", '▓': "#",
	// Shapes, arrows, typography.
	'■': "#", '□': "#", '▪': "#", '▲': "^", '▼': "v", '►': ">", '◄': "<", '▶': ">", '◀': "<",
	'←': "<-", '→': "->", '↑': "^", '↓': "v", '•': "*", '·': ".", '…': "...",
	'‘': "'", '’': "'", '‚': ",", '“': `"`, '”': `"`, '„': `"`, '–': "-", '—': "--",
	'\u00a0': " ", '©': "(c)", '®': "(R)", '™': "(TM)", '°': "o", '±': "+/-", '×': "x", '÷': "/",
	'«': "<<", '»': ">>", '€': "EUR", '£': "GBP", '¥': "Y", '¢': "c",
}
