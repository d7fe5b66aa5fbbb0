package termtext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	tests := []struct{ name, in, text, line string }{
		{"plain", "hello, world", "hello, world", "hello, world"},
		{"utf-8 kept", "héllo ✓ 日本", "héllo ✓ 日本", "héllo ✓ 日本"},
		{"tab kept", "a\tb", "a\tb", "a\tb"},
		{"newline", "one\ntwo", "one\ntwo", "one two"},
		{"carriage return", "real\rfake", "realfake", "real fake"},
		{"window title (OSC, BEL)", "a\x1b]0;pwned\x07b", "ab", "ab"},
		{"window title (OSC, ST)", "a\x1b]2;pwned\x1b\\b", "ab", "ab"},
		{"OSC ended by C1 ST", "a\x1b]0;x\u009cb", "ab", "ab"},
		{"clipboard write (OSC 52)", "x\x1b]52;c;ZXZpbA==\x07y", "xy", "xy"},
		{"OSC cut by the end", "x\x1b]52;c;ZXZp", "x", "x"},
		{"OSC ended by another ESC", "x\x1b]0;t\x1b[2Jy", "xy", "xy"},
		{"clear screen (CSI)", "\x1b[2J\x1b[HPassword:", "Password:", "Password:"},
		{"colour (CSI)", "\x1b[1;31mred\x1b[0m", "red", "red"},
		{"private CSI", "\x1b[?1049hx", "x", "x"},
		{"CSI cut by the end", "cut \x1b[1;3", "cut ", "cut "},
		{"CSI broken by a control", "a\x1b[1\x07b", "a[1b", "a[1b"},
		{"DCS", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab", "ab"},
		{"APC", "a\x1b_payload\x07b", "ab", "ab"},
		{"two-byte escape", "a\x1bcb", "ab", "ab"},
		{"charset escape", "a\x1b(0b", "ab", "ab"},
		{"ESC before UTF-8", "\x1b\u0380", "\u0380", "\u0380"},
		{"lone ESC", "a\x1b", "a", "a"},
		{"C0 controls", "a\x00b\x07c\x08d\x0ce\x1af", "abcdef", "abcdef"},
		{"DEL", "a\x7fb", "ab", "ab"},
		{"C1 CSI", "a\u009b2Jb", "a2Jb", "a2Jb"},
		{"C1 OSC", "a\u009d0;t\u009cb", "a0;tb", "a0;tb"},
		{"NEL", "a\u0085b", "ab", "ab"},
		{"U+00A0 is not C1", "a\u00a0b", "a\u00a0b", "a\u00a0b"},
		{"invalid UTF-8", "a\xffb\xc3", "a\ufffdb\ufffd", "a\ufffdb\ufffd"},
		{"raw C1 byte", "a\x9bb", "a\ufffdb", "a\ufffdb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Clean(tt.in); got != tt.text {
				t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.text)
			}
			if got := CleanLine(tt.in); got != tt.line {
				t.Errorf("CleanLine(%q) = %q, want %q", tt.in, got, tt.line)
			}
			if IsClean(tt.in) != (tt.in == tt.line) {
				t.Errorf("IsClean(%q) = %v", tt.in, IsClean(tt.in))
			}
		})
	}
}

func TestStripStrings(t *testing.T) {
	tests := []struct{ in, want string }{
		{"no escapes", "no escapes"},
		{"\x1b[1;31mred\x1b[0m \x1b[2J\x1b[H", "\x1b[1;31mred\x1b[0m \x1b[2J\x1b[H"},
		{"a\x1b]0;pwned\x07b", "ab"},
		{"a\x1b]52;c;ZXZpbA==\x1b\\b", "ab"},
		{"a\x1bPdcs\x1b\\b\x1b_apc\x07c\x1b^pm\x07d\x1bXsos\x07e", "abcde"},
		{"a\x1b]0;cut", "a"},
		{"a\u009b2J\u009d0;t\u009cb", "a2J0;tb"},
		{"é\u00a0ü", "é\u00a0ü"},
		{"\x1b\x1bX\x1b\\P", "P"},  // removing a string must not make ESC P
		{"\x1b\u009bP", "P"},       // nor removing a C1
		{"a\x1b", "a"},             // nor an ESC at the end meet the next message
		{"\x1b\x1b[1m", "\x1b[1m"}, // a doubled ESC before colour
	}
	for _, tt := range tests {
		if got := StripStrings(tt.in); got != tt.want {
			t.Errorf("StripStrings(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEscapeLen(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"\x1b", 1},
		{"\x1b[31mx", 5},
		{"\x1b[31", 4},
		{"\x1b[3\x001m", 1},
		{"\x1b]0;t\x07x", 6},
		{"\x1b]0;t\x1b\\x", 7},
		{"\x1b]0;t\x1b[m", 5},
		{"\x1bcx", 2},
		{"\x1b(Bx", 3},
		{"\x1b\u0380", 1},
		{"\x1b\x1b[m", 1},
	}
	for _, tt := range tests {
		if got := EscapeLen(tt.in, 0); got != tt.want {
			t.Errorf("EscapeLen(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

// TestCleanLargeInputs: a megabyte of sequence openers, each of which
// could make a careless scanner look ahead to the end, is cleaned in one
// pass (a quadratic scan would not finish within the test's timeout).
func TestCleanLargeInputs(t *testing.T) {
	for _, unit := range []string{"\x1b[", "\x1b]", "\x1b", "\x1b[1;", "\x1b(", "\u009b", "\xff"} {
		s := strings.Repeat(unit, 1<<20/len(unit)) + "\x00"
		checkSafe(t, unit, Clean(s), true)
		checkSafe(t, unit, CleanLine(s), false)
	}
}

// checkSafe fails if out holds anything a terminal would act on.
func checkSafe(t *testing.T, in, out string, newlines bool) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("clean(%q) = %q: not UTF-8", in, out)
	}
	for _, r := range out {
		switch {
		case r == '\t', r == '\n' && newlines:
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
			t.Fatalf("clean(%q) = %q keeps control %U", in, out, r)
		}
	}
}

// FuzzClean: whatever a caller sends, the cleaned text holds no control
// character a terminal obeys, is valid UTF-8, is unchanged by a second
// cleaning, and keeps clean text as it was.
func FuzzClean(f *testing.F) {
	for _, seed := range []string{
		"hello", "a\x1b]0;pwned\x07b", "\x1b[2J\x1b[HPassword: ", "\x1b]52;c;ZXZpbA==\x07",
		"\x1bPq\x1b\\", "\u009b2J", "\u009d0;x\u009c", "\xff\xfe", "\x1b\u0380", "line\r\nline",
		"\x1b[1;3", "\x1b]0;t\x1b[m", "\xc2", "é\x1b",
		"A\x1b\r]0;t\x07", "\x1b\x7fP+q\x1b\\", "\u202epoSys", "a\u2066b\u2069",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		text, line := Clean(s), CleanLine(s)
		checkSafe(t, s, text, true)
		checkSafe(t, s, line, false)
		if Clean(text) != text || CleanLine(line) != line {
			t.Fatalf("cleaning %q twice changes it: %q / %q", s, text, line)
		}
		if IsClean(s) && line != s {
			t.Fatalf("clean line %q changed to %q", s, line)
		}
		if strings.IndexFunc(text, isBidiControl) >= 0 || strings.IndexFunc(line, isBidiControl) >= 0 {
			t.Fatalf("cleaning %q keeps a bidirectional override: %q / %q", s, text, line)
		}
		stripped := StripStrings(s)
		if at := opensControlString(stripped); at >= 0 {
			t.Fatalf("StripStrings(%q) = %q: a terminal enters a control string at byte %d", s, stripped, at)
		}
		for _, opener := range []string{"\x1b]", "\x1bP", "\x1bX", "\x1b^", "\x1b_"} {
			if strings.Contains(stripped, opener) {
				t.Fatalf("StripStrings(%q) = %q keeps a control string", s, stripped)
			}
		}
		for i := range len(stripped) {
			if isC1At(stripped, i) {
				t.Fatalf("StripStrings(%q) = %q keeps a C1 control", s, stripped)
			}
		}
		if StripStrings(stripped) != stripped {
			t.Fatalf("StripStrings(%q) = %q changes again", s, stripped)
		}
		if utf8.ValidString(s) && !utf8.ValidString(stripped) {
			t.Fatalf("StripStrings(%q) = %q broke UTF-8", s, stripped)
		}
	})
}

// opensControlString runs s through the state machine of a VT500-family
// terminal (Paul Williams' DEC parser, which xterm, xterm.js, VTE and
// SyncTERM follow): in the ESCAPE and CSI states a C0 control other than
// CAN, SUB and ESC is executed without leaving the state, and DEL is
// ignored. It reports the offset where the terminal enters a control
// string (OSC, DCS, SOS, PM, APC), or -1.
func opensControlString(s string) int {
	const (
		ground = iota
		escape
		escInt
		csi
		str
	)
	st := ground
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0x18 || c == 0x1a:
			st = ground
			continue
		case c == 0x1b:
			st = escape
			continue
		}
		switch st {
		case escape:
			switch {
			case c < 0x20 || c == 0x7f: // executed / ignored: still ESCAPE
			case c <= 0x2f:
				st = escInt
			case c == '[':
				st = csi
			case isControlString(c):
				return i
			case c <= 0x7e:
				st = ground
			default:
				st = ground
			}
		case escInt:
			if c >= 0x30 && c <= 0x7e || c >= 0x80 {
				st = ground
			}
		case csi:
			if c >= 0x40 && c <= 0x7e || c >= 0x80 {
				st = ground
			}
		case str:
		}
	}
	return -1
}

// TestStripStringsDropsAnEscapeBeforeAControl: a terminal executes a C0
// control after an ESC (and ignores DEL) without leaving its ESCAPE state,
// so ESC, CR, then ']' would open an OSC (a window title, an OSC 52
// clipboard write) as ESC ']' does: StripStrings drops such an ESC.
func TestStripStringsDropsAnEscapeBeforeAControl(t *testing.T) {
	for _, in := range []string{
		"A\x1b\r]0;pwned\x07B",
		"A\x1b\x00]52;c;ZXZpbA==\x07B",
		"A\x1b\x7fP+q544e\x1b\\B",
		"A\x1b\b_apc\x07B",
	} {
		out := StripStrings(in)
		if at := opensControlString(out); at >= 0 {
			t.Errorf("StripStrings(%q) = %q: a terminal enters a control string at byte %d", in, out, at)
		}
	}
	// Across two messages, each stripped on its own: the first ends in
	// ESC CR, the second starts with ']'.
	if out := StripStrings("A\x1b\r") + StripStrings("]0;pwned\x07"); opensControlString(out) >= 0 {
		t.Errorf("two messages stripped one by one give %q: a control string", out)
	}
}

// A caller's text loses Unicode's bidirectional overrides and isolates,
// with which "\u202epoSys" is drawn as "sySop"; other text, right-to-left
// letters included, is kept.
func TestCleanDropsBidirectionalOverrides(t *testing.T) {
	for in, want := range map[string]string{
		"\u202epoSys":                  "poSys",
		"a\u202ab\u202cc\u2066d\u2069": "abcd",
		"\u2067x\u2068y":               "xy",
		"שלום and سلام":                "שלום and سلام",
		"\u200fmark stays":             "\u200fmark stays",
	} {
		if got := CleanLine(in); got != want {
			t.Errorf("CleanLine(%q) = %q, want %q", in, got, want)
		}
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
		if IsClean(in) != (in == want) {
			t.Errorf("IsClean(%q) = %v", in, IsClean(in))
		}
	}
}
