package screens

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/charmap"

	"github.com/m2bbs/m2bbs/host/shared/termprofile"
)

// ANSI art screens: NAME.ans, CP437 bytes with ANSI escape codes and
// optionally a SAUCE trailer (sauce.go).
//
// Loading turns the file into two UTF-8 texts (Art): the art for callers
// whose terminal shows ANSI, and a plain text for the others. Both are
// laid out at the art's width (SAUCE TInfo1, else DefaultArtWidth): ANSI
// art often fills a row to the last column and goes on without a line
// break, relying on an 80-column terminal's wrap; the loader breaks such
// rows itself, so the art keeps its shape on a wider terminal and in the
// browser. Cursor positioning by absolute row and column (CSI H) is passed
// to ANSI callers as it is but cannot be reproduced in the plain text.

// Limits on art files.
const (
	// MaxArtBytes bounds one .ans file, SAUCE included. Decoded to UTF-8
	// the art may grow up to threefold (box characters are 3 bytes).
	MaxArtBytes = 256 << 10
	// MaxArtJSONBytes bounds the art once decoded, as the JSON string a
	// message carries it in (an ESC is 6 bytes there): with its message
	// around it and in base64, it stays under the 1 MiB frame the telnet
	// gateway, the browser page's bridge and the classic client read
	// (classic.MaxFrameBytes). About 200 KiB of CP437 box characters.
	MaxArtJSONBytes = 640 << 10
	// DefaultArtWidth is the width of art without a SAUCE width.
	DefaultArtWidth = 80
	// MaxArtWidth bounds the SAUCE width honoured; wider art is laid out
	// at DefaultArtWidth.
	MaxArtWidth = 512
)

// Art is one ANSI art screen, decoded and laid out.
type Art struct {
	// ANSI is the art for ANSI callers: UTF-8 with its escape codes, rows
	// ended with "\n" and a final SGR reset.
	ANSI string
	// Plain is the same art with every escape code removed: cursor moves
	// to the right become spaces, trailing spaces are cut. In both texts
	// every '|' is doubled, so that colour rendering (luaapi.RenderColour)
	// shows it as a bar, not as a pipe code.
	Plain string
	// Sauce is the file's SAUCE record, or nil.
	Sauce *Sauce
}

// ParseArt decodes the bytes of a .ans file: SAUCE split off and checked
// (only character art is a screen), CP437 decoded to UTF-8, rows broken at
// the art's width, iCE colours rewritten (see iceSGR).
func ParseArt(data []byte) (Art, error) {
	if len(data) > MaxArtBytes {
		return Art{}, fmt.Errorf("art of %d bytes is larger than %d", len(data), MaxArtBytes)
	}
	content, rec, err := SplitSauce(data)
	if err != nil {
		return Art{}, err
	}
	width := DefaultArtWidth
	ice := false
	if rec != nil {
		if rec.DataType != SauceDataNone && rec.DataType != SauceDataCharacter ||
			rec.DataType == SauceDataCharacter && rec.FileType > SauceFileANSIMation {
			return Art{}, fmt.Errorf("%w: data type %d, file type %d is not ANSI or ASCII art", ErrBadSauce, rec.DataType, rec.FileType)
		}
		if w := rec.Width(); w > 0 && w <= MaxArtWidth {
			width = w
		}
		ice = rec.ICE()
	}
	text := decodeCP437Art(content)
	ansi := layout(text, width, ice, false)
	if n := jsonLen(ansi); n > MaxArtJSONBytes {
		return Art{}, fmt.Errorf("art is %d bytes once decoded (as JSON), larger than %d", n, MaxArtJSONBytes)
	}
	return Art{
		ANSI:  ansi,
		Plain: layout(text, width, false, true),
		Sauce: rec,
	}, nil
}

// jsonLen is the length of s written as a JSON string's contents by
// message.Message.AppendJSON.
func jsonLen(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
			n += 2
		case c < 0x20 || c == 0x7F:
			n += 6
		default:
			n++
		}
	}
	return n
}

// decodeCP437Art decodes art bytes to UTF-8. ESC, CR, LF and TAB keep
// their meaning; every other control byte is the glyph CP437 shows for it
// (a DOS screen had no other controls), and DEL is ⌂.
func decodeCP437Art(b []byte) string {
	var out strings.Builder
	out.Grow(len(b) + len(b)/2)
	dec := charmap.CodePage437
	for _, c := range b {
		switch {
		case c == 0x1B || c == '\r' || c == '\n' || c == '\t':
			out.WriteByte(c)
		case c < 0x20:
			out.WriteRune(termprofile.ControlGlyphs[c])
		case c == 0x7F:
			out.WriteRune(termprofile.DELGlyph)
		default:
			out.WriteRune(dec.DecodeByte(c))
		}
	}
	return out.String()
}

// layout writes art text at width columns: a row that reaches the width
// and goes on is broken with "\n"; CR LF and lone LF end a row ("\n").
// With plain, escape codes are dropped (a cursor move right becomes
// spaces) and trailing spaces of a row are cut; without it they are kept,
// iCE-rewritten when ice is set, and a reset ends the art.
func layout(s string, width int, ice, plain bool) string {
	w := &artWriter{width: width, ice: ice, plain: plain}
	w.out.Grow(len(s) + len(s)/8)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == 0x1B:
			i += w.escape(s, i)
			continue
		case c == '\r' && i+1 < len(s) && s[i+1] == '\n':
			w.newline()
			i += 2
			continue
		case c == '\n':
			w.newline()
		case c == '\r':
			w.col, w.spaces = 0, 0
			w.out.WriteByte('\r')
		case c == '|':
			w.put("||")
		default:
			n := runeLen(s, i)
			w.put(s[i : i+n])
			i += n
			continue
		}
		i++
	}
	out := w.finish()
	return out
}

// runeLen is the length of the UTF-8 sequence at s[i] (s is valid UTF-8).
func runeLen(s string, i int) int {
	for n := 1; n < 4 && i+n < len(s); n++ {
		if s[i+n]&0xC0 != 0x80 {
			return n
		}
	}
	return min(4, len(s)-i)
}

// artWriter lays out one art text.
type artWriter struct {
	out   strings.Builder
	width int
	col   int
	ice   bool
	plain bool
	// spaces are pending blanks of the plain text, written only if
	// something follows them on the row.
	spaces int
	// iCE state: the background colour (0-7) and the blink attribute.
	bg    int
	blink bool
}

// put writes one character cell, breaking the row first if it is full.
func (w *artWriter) put(cell string) {
	if w.col >= w.width {
		w.newline()
	}
	if w.plain && cell == " " {
		w.spaces++
		w.col++
		return
	}
	w.flushSpaces()
	w.out.WriteString(cell)
	w.col++
}

func (w *artWriter) flushSpaces() {
	for ; w.spaces > 0; w.spaces-- {
		w.out.WriteByte(' ')
	}
}

func (w *artWriter) newline() {
	w.spaces = 0
	w.out.WriteByte('\n')
	w.col = 0
}

// finish ends the text: no trailing blank rows; a reset for ANSI art.
func (w *artWriter) finish() string {
	out := strings.TrimRight(w.out.String(), "\n")
	if !w.plain && out != "" {
		out += "\x1b[0m"
	}
	return out
}

// escape handles the escape sequence at s[i] and returns its length.
func (w *artWriter) escape(s string, i int) int {
	n := escapeLen(s, i)
	seq := s[i : i+n]
	if n < 3 || seq[1] != '[' {
		if !w.plain {
			w.out.WriteString(seq)
		}
		return n
	}
	params, final := seq[2:n-1], seq[n-1]
	switch final {
	case 'C': // cursor forward
		k := min(csiCount(params), max(w.width-w.col, 0))
		if w.plain {
			w.spaces += k
		}
		w.col += k
	case 'D': // cursor back
		w.col = max(w.col-csiCount(params), 0)
		if w.plain {
			w.spaces = min(w.spaces, w.col)
		}
	case 'H', 'f': // cursor position: the column is all the layout keeps
		_, col, _ := strings.Cut(params, ";")
		w.col = max(csiCountOr(col, 1)-1, 0)
	case 'm':
		if w.ice && !w.plain {
			seq = "\x1b[" + w.iceSGR(params) + "m"
		}
	}
	if !w.plain {
		w.out.WriteString(seq)
	}
	return n
}

// escapeLen is the length of the escape sequence at s[i] (ESC): a CSI
// (ESC [ parameters final byte 0x40-0x7E), else ESC and one byte.
func escapeLen(s string, i int) int {
	if i+1 >= len(s) {
		return 1
	}
	if s[i+1] != '[' {
		if s[i+1] < 0x20 || s[i+1] >= 0x7F {
			return 1
		}
		return 2
	}
	for j := i + 2; j < len(s); j++ {
		c := s[j]
		if c >= 0x40 && c <= 0x7E {
			return j - i + 1
		}
		if c < 0x20 || c > 0x3F {
			return j - i // malformed: drop what was read
		}
	}
	return len(s) - i
}

// csiCount is a cursor move's count: empty or 0 means 1.
func csiCount(p string) int { return csiCountOr(p, 1) }

func csiCountOr(p string, def int) int {
	n, err := strconv.Atoi(p)
	if err != nil || n < 1 {
		return def
	}
	return min(n, MaxArtWidth)
}

// iceSGR rewrites SGR parameters of iCE-colour art for terminals that
// blink: the blink attribute (5) means a bright background, so it becomes
// the bright background colour (100-107) of the current background, and a
// background set while blink is on is sent bright. Turning blink off (25,
// or a reset) brings back the normal background. Terminals without the
// 100-107 colours (rare today) show the normal background instead.
func (w *artWriter) iceSGR(params string) string {
	if params == "" {
		params = "0"
	}
	var out []string
	ps := strings.Split(params, ";")
	for i := 0; i < len(ps); i++ {
		p := ps[i]
		n, err := strconv.Atoi(p)
		if err != nil {
			out = append(out, p)
			continue
		}
		switch {
		case n == 38 || n == 48: // extended colour: its arguments pass as they are
			k := i + 2 // 38;5;N
			if i+1 < len(ps) && ps[i+1] == "2" {
				k = i + 4 // 38;2;R;G;B
			}
			k = min(k, len(ps)-1)
			out = append(out, ps[i:k+1]...)
			i = k
		case n == 0:
			w.bg, w.blink = 0, false
			out = append(out, "0")
		case n == 5 || n == 6:
			w.blink = true
			out = append(out, strconv.Itoa(100+w.bg))
		case n == 25:
			w.blink = false
			out = append(out, strconv.Itoa(40+w.bg))
		case n >= 40 && n <= 47:
			w.bg = n - 40
			if w.blink {
				n += 60
			}
			out = append(out, strconv.Itoa(n))
		case n == 49:
			w.bg = 0
			if w.blink {
				out = append(out, "100")
			} else {
				out = append(out, "49")
			}
		default:
			out = append(out, p)
		}
	}
	return strings.Join(out, ";")
}
