package screens

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// The shipped board's ANSI screens (screens/*.ans) are drawn here, in
// UTF-8 with escape codes, and stored as CP437 with a SAUCE record.
// TestShippedArt fails when a file differs from its drawing; UPDATE=1
// rewrites the files.

const (
	blue   = "\x1b[0;34m"
	cyan   = "\x1b[0;36m"
	hiBlue = "\x1b[1;34m"
	hiCyan = "\x1b[1;36m"
	white  = "\x1b[1;37m"
	grey   = "\x1b[0;37m"
	yellow = "\x1b[1;33m"
)

// banner is "M2BBS" in half-block letters, three rows.
var banner = [3]string{
	"█▄ ▄█ ▀▀▀█ █▀▀▄ █▀▀▄ █▀▀▀",
	"█ ▀ █ █▀▀▀ █▀▀▄ █▀▀▄ ▀▀▀█",
	"▀   ▀ ▀▀▀▀ ▀▀▀  ▀▀▀  ▀▀▀▀",
}

// boxRow is one row inside a double-line box of inner width w: text
// (which may hold escape codes) centred, the frame in frame's colour.
func boxRow(frame, text string, w int) string {
	visible := utf8.RuneCountInString(stripCodes(text))
	left := (w - visible) / 2
	return " " + frame + "║" + strings.Repeat(" ", left) + text + strings.Repeat(" ", w-visible-left) + frame + "║"
}

// stripCodes drops SGR codes from a drawing, to measure it.
func stripCodes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// shade is a gradient bar: ░▒▓ then ▓▒░, n cells of each.
func shade(n int) (in, out string) {
	return strings.Repeat("░", n) + strings.Repeat("▒", n) + strings.Repeat("▓", n),
		strings.Repeat("▓", n) + strings.Repeat("▒", n) + strings.Repeat("░", n)
}

func welcomeArt() string {
	const w = 76
	in, out := shade(2)
	rows := []string{
		" " + hiBlue + "╔" + strings.Repeat("═", w) + "╗",
		boxRow(hiBlue, "", w),
	}
	for _, line := range banner {
		rows = append(rows, boxRow(hiBlue, blue+in+"  "+hiCyan+line+"  "+blue+out, w))
	}
	rows = append(rows,
		boxRow(hiBlue, "", w),
		boxRow(hiBlue, grey+"a bulletin board that runs on "+white+"Lua coroutines", w),
		" "+hiBlue+"╚"+strings.Repeat("═", w)+"╝",
		"",
		grey+"Welcome to m2bbs, a bulletin board that runs on Lua coroutines.",
		yellow+"What's your name?",
	)
	return strings.Join(rows, "\r\n")
}

func mainHeaderArt() string {
	const w = 40
	in, out := shade(1)
	return strings.Join([]string{
		" " + cyan + "╒" + strings.Repeat("═", w) + "╕",
		strings.ReplaceAll(boxRow(cyan, blue+in+"  "+white+"M A I N   M E N U"+"  "+blue+out, w), "║", "│"),
		" " + cyan + "╘" + strings.Repeat("═", w) + "╛",
	}, "\r\n")
}

func goodbyeArt() string {
	const w = 50
	in, out := shade(3)
	return strings.Join([]string{
		" " + blue + in + hiBlue + strings.Repeat("█", w+2-18) + blue + out,
		boxRow(hiCyan, white+"Thanks for calling m2bbs.", w),
		boxRow(hiCyan, grey+"Alright, see ya later.", w),
		" " + blue + in + hiBlue + strings.Repeat("█", w+2-18) + blue + out,
	}, "\r\n")
}

// shippedArt is each shipped .ans file: its drawing and its SAUCE record.
func shippedArt() map[string][]byte {
	encode := func(drawing string, s testSauce) []byte {
		art, err := charmap.CodePage437.NewEncoder().String(drawing + "\r\n")
		if err != nil {
			panic(err)
		}
		s.author, s.group, s.date, s.font = "m2bbs", "m2bbs", "20261203", "IBM VGA"
		s.dataType, s.fileType, s.width = SauceDataCharacter, SauceFileANSI, 80
		s.flags = 2 << 1 // 9-pixel letter spacing, as VGA text mode
		return append([]byte(art), sauceTrailer(s)...)
	}
	return map[string][]byte{
		"welcome.ans":     encode(welcomeArt(), testSauce{title: "Welcome to m2bbs", height: 13, comments: []string{"Shown at the name prompt to callers whose terminal shows ANSI."}}),
		"main_header.ans": encode(mainHeaderArt(), testSauce{title: "Main menu header", height: 3}),
		"bye.ans":         encode(goodbyeArt(), testSauce{title: "Goodbye", height: 4}),
	}
}

func TestShippedArt(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "screens")
	for name, want := range shippedArt() {
		path := filepath.Join(dir, name)
		if os.Getenv("UPDATE") == "1" {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from its drawing in shipped_test.go (UPDATE=1 rewrites it)", path)
		}
		art, err := ParseArt(got)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if art.Sauce == nil || art.Sauce.Width() != 80 {
			t.Errorf("%s: SAUCE %+v, want a record of 80 columns", path, art.Sauce)
		}
		for i, row := range strings.Split(art.Plain, "\n") {
			if n := utf8.RuneCountInString(row); n >= 80 {
				t.Errorf("%s: row %d is %d columns, want fewer than 80", path, i+1, n)
			}
		}
	}
}
