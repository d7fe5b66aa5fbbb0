package telnet

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// cutAt cuts p into chunks whose lengths come from cuts (each byte a
// length from 1 to 16, used in turn); the rest is one chunk.
func cutAt(p, cuts []byte) [][]byte {
	var chunks [][]byte
	for i := 0; len(p) > 0; i++ {
		n := len(p)
		if i < len(cuts) {
			n = min(int(cuts[i]%16)+1, len(p))
		}
		chunks = append(chunks, p[:n])
		p = p[n:]
	}
	return chunks
}

// FuzzDecoder checks that the Decoder reads a stream the same however it
// is cut, and keeps its promises on every token.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte(inetutilsReply), []byte{3})
	f.Add([]byte(inetutilsReply), []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	f.Add([]byte(gatewayOpening+"\xff\xfa\x18\x01\xff\xf0"), []byte{1})
	f.Add([]byte("zed\r\x00s3cret\r\nQ\n\xff\xff\xff\xf4"), []byte{2, 7})
	f.Add([]byte("\xff\xfa\x1f\x00\xff\xff\xff\xff\x00\x18\xff\xf0"), []byte{5})
	f.Add([]byte("\xff\xfa\x18\x00xt\xff\xfb\x01z"), []byte{0})
	f.Fuzz(func(t *testing.T, input, cuts []byte) {
		whole := decodeChunks([][]byte{input})
		if cut := decodeChunks(cutAt(input, cuts)); !tokensEqual(whole, cut) {
			t.Fatalf("cut %v:\n got %q\nwant %q", cuts, cut, whole)
		}
		for _, tok := range whole {
			switch tok.Kind {
			case KindData:
			case KindSubnegotiation:
				if len(tok.Data) > MaxSubnegotiation {
					t.Fatalf("subnegotiation of %d bytes", len(tok.Data))
				}
			case KindCommand:
				switch tok.Command {
				case IAC, SB, WILL, WONT, DO, DONT:
					t.Fatalf("command token for %d", tok.Command)
				}
			case KindNegotiation:
			default:
				t.Fatalf("token of kind %d", tok.Kind)
			}
		}
		// Data escaped for the wire comes back as it was, CR NUL aside.
		var d Decoder
		var back []byte
		for _, tok := range d.Decode(nil, AppendEscaped(nil, input)) {
			if tok.Kind != KindData {
				t.Fatalf("escaped data decoded to %+v", tok)
			}
			back = append(back, tok.Data...)
		}
		if want := bytes.ReplaceAll(input, []byte("\r\x00"), []byte("\r")); !bytes.Equal(back, want) {
			t.Fatalf("escaped %q came back %q", input, back)
		}
	})
}

// FuzzEditor checks that no keys make the Editor pass its limit, put
// control characters or invalid UTF-8 in a line, or erase more than it
// showed.
// FuzzBinaryRoundTrip: bytes written as telnet data by AppendBinary, in
// NVT or BINARY, come back whole from a Decoder in the same mode, however
// the stream is cut.
func FuzzBinaryRoundTrip(f *testing.F) {
	f.Add([]byte("\xff\r\x00A\r\n\xff\xff\r"), []byte{1, 3}, false)
	f.Add([]byte("\r\x00\r\r\n\x00"), []byte{2}, true)
	f.Fuzz(func(t *testing.T, p, cuts []byte, binary bool) {
		wire := AppendBinary(nil, p, binary)
		d := Decoder{Binary: binary}
		var got []byte
		for _, chunk := range cutAt(wire, cuts) {
			for _, tok := range d.Decode(nil, chunk) {
				if tok.Kind != KindData {
					t.Fatalf("token %v from data", tok.Kind)
				}
				got = append(got, tok.Data...)
			}
		}
		if !bytes.Equal(got, p) {
			t.Fatalf("wrote %q, read back %q", p, got)
		}
	})
}

func FuzzEditor(f *testing.F) {
	f.Add([]byte("ab\r\x00\x7f\x15"), false)
	f.Add([]byte("né\x7f✓\x17\x1b[A\xff\xc3(\r\n"), false)
	f.Add([]byte("s3cret\r\n"), true)
	f.Add([]byte("abcdefghijklmnop\x03\x04"), false)
	f.Fuzz(func(t *testing.T, keys []byte, secret bool) {
		const maxLine = 8
		e := NewEditor(maxLine)
		e.Echo = !secret
		shown := 0 // characters on the terminal's line
		var echo []byte
		for _, b := range keys {
			var ev Event
			var line string
			echo, ev, line = e.Key(echo[:0], b)
			if secret && len(bytes.Trim(echo, "\a")) > 0 {
				t.Fatalf("secret input echoed %q", echo)
			}
			for _, r := range string(bytes.ReplaceAll(echo, []byte(erase), []byte{'\b'})) {
				switch r {
				case '\b':
					shown--
				case '\a':
				default:
					shown++
				}
			}
			if shown < 0 {
				t.Fatalf("erased more than was shown")
			}
			switch ev {
			case Entered:
				if len(line) > maxLine || !utf8.ValidString(line) {
					t.Fatalf("line %q", line)
				}
				for _, r := range line {
					if r < 0x20 || r == 0x7f {
						t.Fatalf("control character in line %q", line)
					}
				}
				if !secret && utf8.RuneCountInString(line) != shown {
					t.Fatalf("line %q but %d characters shown", line, shown)
				}
				shown = 0
			case HangUp:
				return
			}
		}
	})
}
