package luaapi

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/m2bbs/m2bbs/host/shared/termtext"
)

func TestRenderColour(t *testing.T) {
	tests := []struct{ in, colour, plain string }{
		{"no codes", "no codes", "no codes"},
		{"|12Red|07 text", "\x1b[1;31mRed\x1b[0;37m text", "Red text"},
		{"|01blue |17on blue", "\x1b[0;34mblue \x1b[44mon blue", "blue on blue"},
		{"a || b", "a | b", "a | b"},
		{"|24 not a code, |9 neither, |", "|24 not a code, |9 neither, |", "|24 not a code, |9 neither, |"},
		{"\x1b[1;32mgreen\x1b[0m", "\x1b[1;32mgreen\x1b[0m", "green"},
		{"cut \x1b[1;3", "cut \x1b[1;3", "cut "},
		{"\x1b\u0380", "\x1b\u0380", "\u0380"},
		{"a\x1b]0;title\x07b", "a\x1b]0;title\x07b", "ab"},
		{"a\x1b]52;c;ZXZpbA==\x1b\\b", "a\x1b]52;c;ZXZpbA==\x1b\\b", "ab"},
	}
	for _, tt := range tests {
		if got := RenderColour(tt.in, true); got != tt.colour {
			t.Errorf("RenderColour(%q, true) = %q, want %q", tt.in, got, tt.colour)
		}
		if got := RenderColour(tt.in, false); got != tt.plain {
			t.Errorf("RenderColour(%q, false) = %q, want %q", tt.in, got, tt.plain)
		}
	}
}

func TestCallerTextShowsAsTyped(t *testing.T) {
	for _, typed := range []string{"|12red", "a || b", "50|50", "ends with |", "|1", "|||12", "pipe|07|15"} {
		for _, colour := range []bool{true, false} {
			if got := RenderColour("|14"+CallerText(typed)+"07", colour); strings.TrimPrefix(got, "\x1b[1;33m") != typed+"07" {
				t.Errorf("caller text %q rendered (colour %v) as %q", typed, colour, got)
			}
		}
	}
	if got := CallerText("x\x1b]0;pwned\x07\x1b[2J|04y\nz"); got != "x||04y\nz" {
		t.Errorf("CallerText = %q", got)
	}
	if got := CallerLine("a\nb"); got != "a b" {
		t.Errorf("CallerLine = %q", got)
	}
}

func TestColourOffForCallersWhoSaySo(t *testing.T) {
	e := newTestEnv(t)
	e.conn.Colour = false
	e.run(t, `require 'ui' ui.display(conn, req, '|14Hello|07 \27[1mthere')`)
	if got := e.replier.messages(t)[0]["msg"]; got != "Hello there" {
		t.Errorf("plain caller got %q", got)
	}
	e.conn.Colour = true
	e.run(t, `ui.display(conn, req, '|14Hi')`)
	if got := e.replier.messages(t)[1]["msg"]; got != "\x1b[1;33mHi" {
		t.Errorf("colour caller got %q", got)
	}
}

// FuzzRenderColour checks that rendering never panics, keeps valid UTF-8
// valid, and that plain output holds no escape and no pipe code.
func FuzzRenderColour(f *testing.F) {
	for _, seed := range []string{"|12Red|07", "a || b", "\x1b[1;32mx\x1b[0m", "|2", "\x1b", "é|15é",
		"\x1b\u0380", "\x1b]0;pwned\x07", "\x1b]52;c;ZXZpbA==\x1b\\", "|1", "x|", "|||12"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		plain := RenderColour(s, false)
		coloured := RenderColour(s, true)
		if utf8.ValidString(s) && (!utf8.ValidString(plain) || !utf8.ValidString(coloured)) {
			t.Fatalf("broke UTF-8: %q -> %q / %q", s, plain, coloured)
		}
		if strings.Contains(plain, "\x1b[") || strings.Contains(plain, "\x1b]") {
			t.Fatalf("plain output of %q keeps an escape: %q", s, plain)
		}
		// Caller text is shown as typed, whatever pipe codes it holds.
		text := CallerText(s)
		for _, colour := range []bool{true, false} {
			if got, want := RenderColour(text, colour), termtext.Clean(s); got != want {
				t.Fatalf("caller text %q rendered as %q, want %q", s, got, want)
			}
		}
	})
}
