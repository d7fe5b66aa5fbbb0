package termprofile

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name string
		enc  Encoding
		ansi bool
		ok   bool
	}{
		{"ANSI", CP437, true, true},
		{"ansi-bbs", CP437, true, true},
		{"PCANSI", CP437, true, true},
		{"syncterm", CP437, true, true},
		{"NetRunner", CP437, true, true},
		{"xterm", UTF8, true, true},
		{"xterm-256color", UTF8, true, true},
		{"XTERM-256COLOR", UTF8, true, true},
		{"screen.xterm-256color", UTF8, true, true},
		{"tmux-256color", UTF8, true, true},
		{"linux", UTF8, true, true},
		{"dumb", ASCII, false, true},
		{"VT100", "", true, false},
		{"vt220", "", true, false},
		{"", "", true, false},
		{"starship", "", true, false},
	} {
		enc, ansi, ok := Detect(tc.name)
		if enc != tc.enc || ansi != tc.ansi || ok != tc.ok {
			t.Errorf("Detect(%q) = %q, %v, %v; want %q, %v, %v", tc.name, enc, ansi, ok, tc.enc, tc.ansi, tc.ok)
		}
	}
}

// TestCP437RoundTrip: every character of the code page past ASCII, box
// drawing among them, is sent as its byte and typed back as itself.
func TestCP437RoundTrip(t *testing.T) {
	for b := 0x80; b <= 0xff; b++ {
		r := charmap.CodePage437.DecodeByte(byte(b))
		got := Encode(nil, string(r), CP437)
		if !bytes.Equal(got, []byte{byte(b)}) {
			t.Errorf("Encode(%q) = % x, want %02x", r, got, b)
		}
		if back := Decode(nil, []byte{byte(b)}, CP437); string(back) != string(r) {
			t.Errorf("Decode(%02x) = %q, want %q", b, back, r)
		}
	}
}

func TestEncodeBoxScreen(t *testing.T) {
	box := "\x1b[1;36m┌──┐\x1b[0m\n│hi│\n└──┘ ╔═╗ ║ ╚═╝ ░▒▓█ “ok” … é"
	for _, tc := range []struct {
		enc  Encoding
		want string
	}{
		{UTF8, box},
		{"", box},
		{CP437, "\x1b[1;36m\xda\xc4\xc4\xbf\x1b[0m\n\xb3hi\xb3\n\xc0\xc4\xc4\xd9 \xc9\xcd\xbb \xba \xc8\xcd\xbc \xb0\xb1\xb2\xdb \"ok\" ... \x82"},
		{ASCII, "\x1b[1;36m+--+\x1b[0m\n|hi|\n+--+ +=+ | +=+ .:## \"ok\" ... ?"},
	} {
		if got := string(Encode(nil, box, tc.enc)); got != tc.want {
			t.Errorf("Encode(box, %q) = %q, want %q", tc.enc, got, tc.want)
		}
	}
}

// TestASCIIFallbackOfCP437: every box drawing, block and shade character
// of CP437 has an ASCII stand-in, so a dumb terminal sees a box.
func TestASCIIFallbackOfCP437(t *testing.T) {
	want := map[rune]string{
		'─': "-", '│': "|", '┌': "+", '┐': "+", '└': "+", '┘': "+", '├': "+", '┤': "+", '┬': "+", '┴': "+", '┼': "+",
		'═': "=", '║': "|", '╔': "+", '╗': "+", '╚': "+", '╝': "+", '╠': "+", '╣': "+", '╦': "+", '╩': "+", '╬': "+",
		'╒': "+", '╓': "+", '╕': "+", '╖': "+", '╘': "+", '╙': "+", '╛': "+", '╜': "+", '╞': "+", '╟': "+",
		'╡': "+", '╢': "+", '╤': "+", '╥': "+", '╧': "+", '╨': "+", '╪': "+", '╫': "+",
		'░': ".", '▒': ":", '▓': "#", '█': "#", '▄': "#", '▌': "#", '▐': "#", '▀': "#",
	}
	for b := 0xb0; b <= 0xdf; b++ {
		r := charmap.CodePage437.DecodeByte(byte(b))
		w, listed := want[r]
		if !listed {
			t.Errorf("CP437 %02x (%q) is missing from this test's table", b, r)
			continue
		}
		if got := string(Encode(nil, string(r), ASCII)); got != w {
			t.Errorf("Encode(%q, ascii) = %q, want %q", r, got, w)
		}
	}
}

func TestEncodeInvalidUTF8(t *testing.T) {
	if got := string(Encode(nil, "a\xffb", CP437)); got != "a?b" {
		t.Errorf("Encode of invalid UTF-8 in CP437 = %q, want %q", got, "a?b")
	}
}

func TestClean(t *testing.T) {
	got := Profile{Type: "x\x1b]0;", Width: 5000, Height: -1, Encoding: "ebcdic"}.Clean()
	if got != (Profile{}) {
		t.Errorf("Clean kept %+v", got)
	}
	got = Profile{Type: "ANSI", Width: 80, Height: 25, Encoding: "CP437"}.Clean()
	if want := (Profile{Type: "ANSI", Width: 80, Height: 25, Encoding: CP437}); got != want {
		t.Errorf("Clean = %+v, want %+v", got, want)
	}
}

func TestAppendJSON(t *testing.T) {
	for _, tc := range []struct {
		p    Profile
		want string
	}{
		{Profile{}, `{"ansi":true}`},
		{Profile{}.WithType("ANSI"), `{"type":"ANSI","encoding":"cp437","ansi":true}`},
		{Profile{Width: 132, Height: 50}.WithType("dumb"), `{"type":"dumb","width":132,"height":50,"encoding":"ascii","ansi":false}`},
		{Profile{Type: `a"b\c`}, `{"type":"a\"b\\c","ansi":true}`},
		{Profile{Width: 80, Keys: true}, `{"width":80,"ansi":true,"keys":true}`},
	} {
		if got := string(tc.p.AppendJSON(nil)); got != tc.want {
			t.Errorf("AppendJSON(%+v) = %s, want %s", tc.p, got, tc.want)
		}
	}
}

// FuzzDecode: whatever a CP437 caller types, the host gets valid UTF-8,
// and sending it back gives the caller the bytes they typed.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("hello \xda\xc4\xbf \xff\x00\x1b[A"))
	f.Add([]byte{0x80, 0xfe, 0x7f})
	f.Fuzz(func(t *testing.T, p []byte) {
		got := Decode(nil, p, CP437)
		if !utf8.Valid(got) {
			t.Fatalf("Decode(% x) = % x: not UTF-8", p, got)
		}
		if back := Encode(nil, string(got), CP437); !bytes.Equal(back, p) {
			t.Fatalf("Encode(Decode(% x)) = % x", p, back)
		}
	})
}
