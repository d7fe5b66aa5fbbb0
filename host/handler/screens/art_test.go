package screens

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// visible shows escape codes in test failures.
func visible(s string) string { return strings.ReplaceAll(s, "\x1b", "ESC") }

func TestParseArt(t *testing.T) {
	for _, tc := range []struct {
		name       string
		file       []byte
		ansi, text string
	}{
		{
			name: "CP437 decoded, CR LF rows, reset at the end",
			file: []byte("\x1b[1;36m\xc9\xcd\xbb\r\n\xb0\xb1\xb2\r\n"),
			ansi: "\x1b[1;36m╔═╗\n░▒▓\x1b[0m",
			text: "╔═╗\n░▒▓",
		},
		{
			name: "rows broken at the SAUCE width, not twice before a line break",
			file: append([]byte("abcdefghij\r\nklm"), sauceTrailer(testSauce{dataType: 1, fileType: 1, width: 5})...),
			ansi: "abcde\nfghij\nklm\x1b[0m",
			text: "abcde\nfghij\nklm",
		},
		{
			name: "cursor forward is spaces in the plain text, trailing blanks cut",
			file: []byte("a\x1b[3Cb\x1b[10C\r\n"),
			ansi: "a\x1b[3Cb\x1b[10C\x1b[0m",
			text: "a   b",
		},
		{
			name: "bars doubled, so they are not pipe codes",
			file: []byte("|07 |"),
			ansi: "||07 ||\x1b[0m",
			text: "||07 ||",
		},
		{
			name: "control bytes are CP437 glyphs",
			file: []byte("\x10\x11\x7f"),
			ansi: "►◄⌂\x1b[0m",
			text: "►◄⌂",
		},
		{
			name: "iCE colours: blink is a bright background",
			file: append([]byte("\x1b[0;5;44mA\x1b[41mB\x1b[25mC\x1b[0mD\x1b[48;5;44mE"), sauceTrailer(testSauce{dataType: 1, fileType: 1, flags: 1})...),
			ansi: "\x1b[0;100;104mA\x1b[101mB\x1b[41mC\x1b[0mD\x1b[48;5;44mE\x1b[0m",
			text: "ABCDE",
		},
		{
			name: "blink without iCE is left as it is",
			file: []byte("\x1b[5;44mA"),
			ansi: "\x1b[5;44mA\x1b[0m",
			text: "A",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			art, err := ParseArt(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if art.ANSI != tc.ansi {
				t.Errorf("ANSI = %q\nwant    %q", visible(art.ANSI), visible(tc.ansi))
			}
			if art.Plain != tc.text {
				t.Errorf("Plain = %q\nwant     %q", visible(art.Plain), visible(tc.text))
			}
		})
	}
}

func TestParseArtRefuses(t *testing.T) {
	bitmap := append([]byte("x"), sauceTrailer(testSauce{dataType: 2})...)
	if _, err := ParseArt(bitmap); err == nil {
		t.Error("a bitmap's SAUCE was accepted as a screen")
	}
	if _, err := ParseArt(make([]byte, MaxArtBytes+1)); err == nil {
		t.Error("art over MaxArtBytes was accepted")
	}
	// Box characters are 3 bytes of UTF-8: a file within MaxArtBytes can
	// still be too large for a caller's frame once decoded.
	blocks := bytes.Repeat([]byte{0xDB}, MaxArtBytes)
	if _, err := ParseArt(blocks); err == nil || !strings.Contains(err.Error(), "once decoded") {
		t.Errorf("%d bytes of blocks (3 bytes each in UTF-8): err = %v, want too large once decoded", len(blocks), err)
	}
	if _, err := ParseArt(blocks[:150<<10]); err != nil {
		t.Errorf("150 KiB of blocks: %v", err)
	}
}

func TestDirArt(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("both.txt", []byte("plain words\n"))
	write("both.ans", []byte("\x1b[31m\xdb art"))
	write("only.ans", append([]byte("\x1b[31m\xdb art"), sauceTrailer(testSauce{dataType: 1, fileType: 1, width: 80})...))
	write("broken.ans", sauceTrailer(testSauce{version: "77"}))

	d := NewDir(dir)
	if text, err := d.Screen("both"); err != nil || text != "plain words" {
		t.Errorf("Screen(both) = %q, %v; want the .txt", text, err)
	}
	if text, err := d.Screen("only"); err != nil || text != "█ art" {
		t.Errorf("Screen(only) = %q, %v; want the art stripped", text, err)
	}
	if _, err := d.Screen("broken"); err == nil {
		t.Error("Screen(broken) gave no error for a damaged SAUCE record")
	}
	if _, err := Load(dir); err == nil {
		t.Error("Load accepted a damaged SAUCE record")
	}
	if err := os.Remove(filepath.Join(dir, "broken.ans")); err != nil {
		t.Fatal(err)
	}
	snap, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"both": "\x1b[31m█ art\x1b[0m", "only": "\x1b[31m█ art\x1b[0m"} {
		if art, ok := snap.Art(name); !ok || art != want {
			t.Errorf("Snapshot.Art(%q) = %q, %v; want %q", name, visible(art), ok, visible(want))
		}
	}
	if text, err := snap.Screen("only"); err != nil || text != "█ art" {
		t.Errorf("Snapshot.Screen(only) = %q, %v; want the stripped art", text, err)
	}
	if _, ok := snap.Art("nothing"); ok {
		t.Error("Snapshot.Art of a screen without .ans said ok")
	}
}

// BenchmarkParseArt loads a 100 KB art file: SAUCE, CP437, layout of both
// texts. It runs once per .ans file at each (re)load, never per caller.
func BenchmarkParseArt(b *testing.B) {
	var art []byte
	for row := 0; len(art) < 100<<10; row++ {
		art = fmt.Appendf(art, "\x1b[%d;3%dm", row%2, row%8)
		art = append(art, bytes.Repeat([]byte{0xB0, 0xB1, 0xB2, 0xDB}, 20)...)
	}
	art = append(art, sauceTrailer(testSauce{dataType: 1, fileType: 1, width: 80, flags: 1})...)
	b.SetBytes(int64(len(art)))
	for b.Loop() {
		if _, err := ParseArt(art); err != nil {
			b.Fatal(err)
		}
	}
}
