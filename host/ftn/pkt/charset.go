package pkt

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
)

// charsets maps the first word of a CHRS kludge (FTS-5003) to its
// encoding; nil means UTF-8 or ASCII, taken as they are.
var charsets = map[string]encoding.Encoding{
	"CP437":      charmap.CodePage437,
	"IBMPC":      charmap.CodePage437,
	"CP850":      charmap.CodePage850,
	"CP852":      charmap.CodePage852,
	"CP866":      charmap.CodePage866,
	"CP1250":     charmap.Windows1250,
	"CP1251":     charmap.Windows1251,
	"CP1252":     charmap.Windows1252,
	"LATIN-1":    charmap.ISO8859_1,
	"ISO-8859-1": charmap.ISO8859_1,
	"LATIN-2":    charmap.ISO8859_2,
	"KOI8-R":     charmap.KOI8R,
	"KOI8-U":     charmap.KOI8U,
	"UTF-8":      nil,
	"ASCII":      nil,
}

// DefaultCharset is assumed for a message without a CHRS kludge: CP437,
// what most FTN software writes.
const DefaultCharset = "CP437 2"

// KnownCharset reports whether Decode knows the charset a CHRS value
// names.
func KnownCharset(chrs string) bool {
	_, ok := charsets[charsetName(chrs)]
	return ok
}

// charsetName is the upper-cased first word of a CHRS value.
func charsetName(chrs string) string {
	f, _, _ := strings.Cut(strings.TrimSpace(chrs), " ")
	return strings.ToUpper(f)
}

// Decode turns text in the charset a CHRS value names ("CP437 2",
// "UTF-8 4", ...) into UTF-8. An unknown charset is read as CP437;
// UTF-8 that is not valid has its bad bytes replaced.
func Decode(chrs, s string) string {
	if chrs == "" {
		chrs = DefaultCharset
	}
	enc, ok := charsets[charsetName(chrs)]
	if !ok {
		enc = charmap.CodePage437
	}
	if enc == nil {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	out, err := enc.NewDecoder().String(s)
	if err != nil {
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	return out
}

// EncodeField is Encode for a header field of at most max bytes (a name,
// a subject): s loses characters from its end until its encoding fits,
// so that a field is never cut in the middle of a character (a UTF-8
// packet would carry a broken one).
func EncodeField(chrs, s string, max int) string {
	if n := utf8.RuneCountInString(s); n > max { // every character is a byte at least
		i := 0
		for range max {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
		s = s[:i]
	}
	e := Encode(chrs, s)
	for len(e) > max {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
		e = Encode(chrs, s)
	}
	return e
}

// Encode turns UTF-8 text into the charset a CHRS value names; runes
// the charset lacks become '?'. With a nil-mapped charset (UTF-8) s is
// returned as it is.
func Encode(chrs, s string) string {
	enc, ok := charsets[charsetName(chrs)]
	if !ok {
		enc = charmap.CodePage437
	}
	if enc == nil {
		return s
	}
	e := encoding.ReplaceUnsupported(enc.NewEncoder())
	var b strings.Builder
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		out, err := e.String(s[:n])
		if err != nil || (out == "\x1a" && r != 0x1a) {
			out = "?"
		}
		b.WriteString(out)
		s = s[n:]
	}
	return b.String()
}
