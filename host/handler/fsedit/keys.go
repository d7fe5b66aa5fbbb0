package fsedit

import "unicode/utf8"

// key is one key the editor reads from the caller's keystrokes.
type key struct {
	kind keyKind
	r    rune // kindRune: the character typed; kindCtrl: the control character
}

type keyKind uint8

const (
	kindNone keyKind = iota // an escape sequence the editor does not know
	kindRune
	kindCtrl
	kindUp
	kindDown
	kindLeft
	kindRight
	kindHome
	kindEnd
	kindPgUp
	kindPgDn
	kindDelete
)

// maxSequence bounds an escape sequence the parser holds across calls:
// a longer one is dropped, up to its end, however many calls it spans.
const maxSequence = 16

// parser splits keystrokes into keys. An escape sequence may arrive in
// pieces: the start is held until it ends (at most maxSequence bytes).
type parser struct {
	held []byte
	// skipping: a control sequence too long to hold is being dropped;
	// its parameter bytes go until its final byte.
	skipping bool
}

// keys appends to dst the keys in p, after any held bytes, and holds an
// incomplete escape sequence or UTF-8 character at the end.
func (ps *parser) keys(dst []key, p string) []key {
	buf := append(ps.held, p...)
	ps.held = ps.held[:0]
	i := 0
	if ps.skipping {
		i, ps.skipping = skipSequence(buf)
	}
	for i < len(buf) {
		c := buf[i]
		switch {
		case c == 0x1b:
			n, k := escape(buf[i:])
			if n < 0 { // incomplete
				if len(buf)-i <= maxSequence {
					ps.held = append(ps.held[:0], buf[i:]...)
				} else {
					ps.skipping = true // the rest, in later calls, is dropped too
				}
				return dst
			}
			if k.kind != kindNone {
				dst = append(dst, k)
			}
			i += n
		case c < 0x20 || c == 0x7f:
			dst = append(dst, key{kind: kindCtrl, r: rune(c)})
			i++
		case c < utf8.RuneSelf:
			dst = append(dst, key{kind: kindRune, r: rune(c)})
			i++
		default:
			if !utf8.FullRune(buf[i:]) {
				ps.held = append(ps.held[:0], buf[i:]...)
				return dst
			}
			r, size := utf8.DecodeRune(buf[i:])
			if r != utf8.RuneError && r >= 0xa0 { // C1 controls are no characters
				dst = append(dst, key{kind: kindRune, r: r})
			}
			i += size
		}
	}
	return dst
}

// skipSequence reads the rest of a control sequence being dropped at
// the start of p: how many bytes it takes, and whether p ends inside it.
// A byte that cannot be in one ends it without being taken.
func skipSequence(p []byte) (int, bool) {
	for i, c := range p {
		switch {
		case c >= 0x40 && c <= 0x7e: // its final byte
			return i + 1, false
		case c < 0x20 || c > 0x3f:
			return i, false
		}
	}
	return len(p), true
}

// escape reads the escape sequence p starts with (p[0] is ESC): its
// length and key, or -1 if p ends inside it. ESC followed by a byte that
// starts no sequence is a lone ESC (ignored: kindNone), one byte long;
// ESC O followed by a byte that ends no SS3 sequence is dropped, the byte
// read on its own.
func escape(p []byte) (int, key) {
	if len(p) < 2 {
		return -1, key{}
	}
	switch p[1] {
	case 'O': // SS3: ESC O A
		if len(p) < 3 {
			return -1, key{}
		}
		if p[2] < 0x40 || p[2] > 0x7e {
			return 2, key{}
		}
		return 3, finalKey(p[2], nil)
	case '[':
		for i := 2; i < len(p); i++ {
			c := p[i]
			if c >= 0x40 && c <= 0x7e {
				return i + 1, finalKey(c, p[2:i])
			}
			if c < 0x20 || c > 0x3f {
				return i, key{} // broken: dropped up to c
			}
		}
		return -1, key{}
	}
	return 1, key{}
}

// finalKeys names the keys of CSI and SS3 sequences by their final
// byte; tildeKeys those of CSI sequences ending in ~ by their parameter.
var (
	finalKeys = map[byte]keyKind{'A': kindUp, 'B': kindDown, 'C': kindRight, 'D': kindLeft, 'H': kindHome, 'F': kindEnd}
	tildeKeys = map[string]keyKind{"1": kindHome, "7": kindHome, "4": kindEnd, "8": kindEnd, "3": kindDelete, "5": kindPgUp, "6": kindPgDn}
)

// finalKey names the key of a CSI or SS3 sequence with final byte f and
// parameters params (kindNone for one the editor does not know).
func finalKey(f byte, params []byte) key {
	if f == '~' {
		return key{kind: tildeKeys[string(params)]}
	}
	return key{kind: finalKeys[f]}
}
