package luaapi

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestFlatText(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "",
		"  hi  ":                  "hi",
		"ok\t\t\t* kim hangs up.": "ok * kim hangs up.",
		"a\r\nb":                  "a b",
		"\u202eyrros\u200b\u2066": "yrros",
		"wide\u3000\u00a0space":   "wide space",
		"\x1b[2Jclear |04red":     "clear |04red",
		"\u200b \u200b":           "",
		"漢字 stay":                 "漢字 stay",
	} {
		if got := FlatText(in); got != want {
			t.Errorf("FlatText(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzFlatText: whatever a caller types, ui.flat gives one line of valid
// UTF-8 without control or format characters, runs of white space, or
// white space at either end.
func FuzzFlatText(f *testing.F) {
	for _, seed := range []string{"ok\t\t* kim hangs up.", "\u202eyrros\u200b", "\x1b]0;t\x07x", "a\u3000\u3000b", "\xff\xfe"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := FlatText(in)
		if !utf8.ValidString(out) || strings.Contains(out, "  ") || strings.TrimSpace(out) != out {
			t.Fatalf("FlatText(%q) = %q", in, out)
		}
		for _, r := range out {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.IsSpace(r) && r != ' ' {
				t.Fatalf("FlatText(%q) = %q keeps %U", in, out, r)
			}
		}
	})
}
