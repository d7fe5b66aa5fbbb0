package screens

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/message"
)

// testSauce describes a SAUCE trailer for sauceTrailer.
type testSauce struct {
	title, author, group, date, font string
	dataType, fileType               byte
	width, height                    uint16
	flags                            byte
	comments                         []string
	version                          string // "00" if empty
}

// sauceTrailer builds Ctrl-Z, the COMNT block and the SAUCE record, the
// way an art editor writes them (text fields space-padded CP437; ASCII
// here).
func sauceTrailer(s testSauce) []byte {
	pad := func(b []byte, text string, n int) []byte {
		field := make([]byte, n)
		for i := range field {
			field[i] = ' '
		}
		copy(field, text)
		return append(b, field...)
	}
	out := []byte{0x1A}
	if len(s.comments) > 0 {
		out = append(out, "COMNT"...)
		for _, c := range s.comments {
			out = pad(out, c, 64)
		}
	}
	version := s.version
	if version == "" {
		version = "00"
	}
	out = append(out, "SAUCE"...)
	out = append(out, version...)
	out = pad(out, s.title, 35)
	out = pad(out, s.author, 20)
	out = pad(out, s.group, 20)
	out = pad(out, s.date, 8)
	out = binary.LittleEndian.AppendUint32(out, 0)
	out = append(out, s.dataType, s.fileType)
	out = binary.LittleEndian.AppendUint16(out, s.width)
	out = binary.LittleEndian.AppendUint16(out, s.height)
	out = append(out, 0, 0, 0, 0, byte(len(s.comments)), s.flags)
	font := make([]byte, 22)
	copy(font, s.font)
	return append(out, font...)
}

func TestSplitSauce(t *testing.T) {
	art := []byte("\x1b[1;34m\xdb\xdb hello\r\n")
	full := testSauce{
		title: "Welcome", author: "sysop", group: "m2bbs", date: "20261203",
		dataType: SauceDataCharacter, fileType: SauceFileANSI, width: 80, height: 25,
		flags: 1 | 2<<1 | 2<<3, font: "IBM VGA",
	}
	withComments := full
	withComments.comments = []string{"first line", "second line"}

	t.Run("record", func(t *testing.T) {
		content, rec, err := SplitSauce(append(append([]byte(nil), art...), sauceTrailer(full)...))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(content, art) {
			t.Errorf("content = %q, want %q", content, art)
		}
		if rec.Title != "Welcome" || rec.Author != "sysop" || rec.Group != "m2bbs" || rec.Date != "20261203" {
			t.Errorf("text fields = %+v", rec)
		}
		if rec.Width() != 80 || rec.Height() != 25 || !rec.ICE() || rec.LetterSpacing() != 9 || rec.AspectRatio() != "square" || rec.Font != "IBM VGA" {
			t.Errorf("width %d height %d ice %v spacing %d aspect %q font %q", rec.Width(), rec.Height(), rec.ICE(), rec.LetterSpacing(), rec.AspectRatio(), rec.Font)
		}
		if len(rec.Comments) != 0 {
			t.Errorf("comments = %q", rec.Comments)
		}
	})
	t.Run("comments", func(t *testing.T) {
		content, rec, err := SplitSauce(append(append([]byte(nil), art...), sauceTrailer(withComments)...))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(content, art) {
			t.Errorf("content = %q, want %q", content, art)
		}
		if strings.Join(rec.Comments, "|") != "first line|second line" {
			t.Errorf("comments = %q", rec.Comments)
		}
	})
	t.Run("no record", func(t *testing.T) {
		content, rec, err := SplitSauce(art)
		if err != nil || rec != nil || !bytes.Equal(content, art) {
			t.Errorf("= %q, %v, %v; want the art, no record", content, rec, err)
		}
	})
	t.Run("EOF mark without record", func(t *testing.T) {
		content, rec, err := SplitSauce(append(append([]byte(nil), art...), 0x1A, 'x', 'y'))
		if err != nil || rec != nil || !bytes.Equal(content, art) {
			t.Errorf("= %q, %v, %v; want the art before Ctrl-Z", content, rec, err)
		}
	})
	t.Run("record alone", func(t *testing.T) {
		trailer := sauceTrailer(full)[1:] // no Ctrl-Z, no art
		content, rec, err := SplitSauce(trailer)
		if err != nil || rec == nil || len(content) != 0 {
			t.Errorf("= %q, %v, %v; want empty art and the record", content, rec, err)
		}
	})
	t.Run("not character art", func(t *testing.T) {
		bitmap := full
		bitmap.dataType = 2
		_, rec, err := SplitSauce(sauceTrailer(bitmap))
		if err != nil || rec.Width() != 0 || rec.ICE() {
			t.Errorf("bitmap: width %d ice %v err %v; want no character fields", rec.Width(), rec.ICE(), err)
		}
	})
}

func TestSplitSauceHostile(t *testing.T) {
	good := sauceTrailer(testSauce{comments: []string{"a"}})
	badVersion := sauceTrailer(testSauce{version: "99"})
	// A record that claims 255 comment lines in a short file.
	tooMany := sauceTrailer(testSauce{})
	tooMany[len(tooMany)-128+104] = 255
	// A comment count with the COMNT id damaged.
	damaged := append([]byte(nil), good...)
	damaged[1] = 'X'
	for name, data := range map[string][]byte{
		"bad version":         badVersion,
		"comments past start": tooMany,
		"damaged COMNT":       damaged,
	} {
		if _, _, err := SplitSauce(data); !errors.Is(err, ErrBadSauce) {
			t.Errorf("%s: err = %v, want ErrBadSauce", name, err)
		}
	}
	// Truncated records are not records: the file is art up to Ctrl-Z.
	for n := 1; n < 128; n += 9 {
		data := append([]byte("art"), good[len(good)-n:]...)
		content, rec, err := SplitSauce(data)
		if err != nil || rec != nil {
			t.Errorf("last %d bytes of a record: rec %v err %v; want no record", n, rec, err)
		}
		if !bytes.HasPrefix(content, []byte("art")) {
			t.Errorf("last %d bytes: content %q lost the art", n, content)
		}
	}
	// Control bytes in text fields never reach a caller as controls.
	esc := sauceTrailer(testSauce{title: "\x1b[2J\x07evil"})
	_, rec, err := SplitSauce(esc)
	if err != nil || strings.ContainsAny(rec.Title, "\x1b\x07") {
		t.Errorf("title = %q, %v; want no control bytes", rec.Title, err)
	}
}

// FuzzSplitSauce feeds SplitSauce and ParseArt arbitrary files: they must
// never panic, content must be a prefix of the input, and the art's
// texts must be valid UTF-8 free of control bytes other than ESC, CR, LF
// and TAB (the plain text has no ESC).
func FuzzSplitSauce(f *testing.F) {
	f.Add([]byte("plain"))
	f.Add(append([]byte("\x1b[1;44mart\x1b[5C|07"), sauceTrailer(testSauce{dataType: 1, fileType: 1, width: 10, flags: 1, comments: []string{"c"}})...))
	f.Add(sauceTrailer(testSauce{version: "01"}))
	f.Add([]byte("\x1b[\x1b[38;5;200m\xb0\xb1\xb2\x1b[3"))
	f.Fuzz(func(t *testing.T, data []byte) {
		content, _, err := SplitSauce(data)
		if err == nil && !bytes.HasPrefix(data, content) {
			t.Fatalf("content %q is not a prefix of the file", content)
		}
		art, err := ParseArt(data)
		if err != nil {
			return
		}
		for _, text := range []string{art.ANSI, art.Plain} {
			for _, r := range text {
				if r < 0x20 && r != 0x1b && r != '\r' && r != '\n' && r != '\t' || r == 0x7F || r == 0xFFFD {
					t.Fatalf("art holds %U: %q", r, text)
				}
			}
		}
		if strings.ContainsRune(art.Plain, 0x1b) {
			t.Fatalf("plain text holds ESC: %q", art.Plain)
		}
		m := message.Screen(art.ANSI)
		if n, want := len(m.AppendJSON(nil)), jsonLen(art.ANSI)+len(`{"type":"screen","msg":""}`); n != want {
			t.Fatalf("the art's message is %d bytes of JSON, jsonLen says %d", n, want)
		}
	})
}
