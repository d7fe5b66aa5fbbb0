package telnet

import (
	"slices"
	"strings"
	"testing"
)

// typeKeys feeds keys to e and returns the echo, the lines entered and
// whether the caller hung up (keys after a hang-up are not fed).
func typeKeys(e *Editor, keys string) (echo string, lines []string, hungUp bool) {
	var out []byte
	for i := 0; i < len(keys); i++ {
		var ev Event
		var line string
		out, ev, line = e.Key(out, keys[i])
		switch ev {
		case Entered:
			lines = append(lines, line)
		case HangUp:
			return string(out), lines, true
		}
	}
	return string(out), lines, false
}

func TestEditor(t *testing.T) {
	for _, tc := range []struct {
		name   string
		max    int
		secret bool
		keys   string
		echo   string
		lines  []string
		hungUp bool
	}{
		{name: "typed and entered with CR LF", keys: "zed\r\n", echo: "zed", lines: []string{"zed"}},
		{name: "CR NUL ends one line", keys: "a\r\x00b\r\x00", echo: "ab", lines: []string{"a", "b"}},
		{name: "bare CR ends a line", keys: "a\rb\r", echo: "ab", lines: []string{"a", "b"}},
		{name: "bare LF ends a line", keys: "a\nb\n", echo: "ab", lines: []string{"a", "b"}},
		{name: "CR LF CR LF is two lines", keys: "\r\n\r\n", lines: []string{"", ""}},
		{name: "LF CR is two lines", keys: "\n\r", lines: []string{"", ""}},
		{name: "line still open", keys: "abc", echo: "abc"},
		{name: "backspace and delete", keys: "abx\bc\x7f\x7fd\r", echo: "abx\b \bc\b \b\b \bd", lines: []string{"ad"}},
		{name: "backspace on an empty line does nothing", keys: "\b\x7fa\r", echo: "a", lines: []string{"a"}},
		{name: "backspace erases a whole UTF-8 character", keys: "né\x7f\x7fo\r", echo: "né\b \b\b \bo", lines: []string{"o"}},
		{name: "Ctrl-U erases the line", keys: "héllo\x15hi\r", echo: "héllo" + strings.Repeat("\b \b", 5) + "hi", lines: []string{"hi"}},
		{name: "Ctrl-W erases a word", keys: "post to all \x17zed\r", echo: "post to all " + strings.Repeat("\b \b", 4) + "zed", lines: []string{"post to zed"}},
		{name: "Ctrl-C on an empty line hangs up", keys: "a\r\x03", echo: "a", lines: []string{"a"}, hungUp: true},
		{name: "Ctrl-D on an empty line hangs up", keys: "\x04", hungUp: true},
		{name: "Ctrl-C on a line erases it", keys: "ab\x03c\r", echo: "ab\b \b\b \bc", lines: []string{"c"}},
		{name: "Ctrl-D on a line rings", keys: "ab\x04\r", echo: "ab\a", lines: []string{"ab"}},
		{name: "tab is a space", keys: "a\tb\r", echo: "a b", lines: []string{"a b"}},
		{name: "other controls ignored", keys: "a\x01\x02\x00\x0cb\r", echo: "ab", lines: []string{"ab"}},
		{name: "arrow keys ignored", keys: "a\x1b[A\x1b[1;5Cb\x1bOPc\r", echo: "abc", lines: []string{"abc"}},
		{name: "escape then Enter keeps the Enter", keys: "a\x1b\r", echo: "a", lines: []string{"a"}},
		{name: "escape then a letter keeps the letter", keys: "\x1bx\r", echo: "x", lines: []string{"x"}},
		{name: "UTF-8 kept", keys: "✓ é\r", echo: "✓ é", lines: []string{"✓ é"}},
		{name: "invalid UTF-8 replaced", keys: "a\xffb\xc3(\r", echo: "a\ufffdb\ufffd(", lines: []string{"a\ufffdb\ufffd("}},
		{name: "truncated sequence before Enter replaced", keys: "a\xe2\x9c\r", echo: "a\ufffd", lines: []string{"a\ufffd"}},
		{name: "new sequence cuts an old one", keys: "\xe2\xc3\xa9\r", echo: "\ufffdé", lines: []string{"\ufffdé"}},
		{name: "long line refused with a bell", max: 3, keys: "abcd\x7fe\r", echo: "abc\a\b \be", lines: []string{"abe"}},
		{name: "a character that would pass the limit is refused whole", max: 3, keys: "ab✓\r", echo: "ab\a", lines: []string{"ab"}},
		{name: "secret echoes nothing", secret: true, keys: "s3cr\x7fet\r\n", lines: []string{"s3cet"}},
		{name: "secret still rings", secret: true, max: 2, keys: "abc\r", echo: "\a", lines: []string{"ab"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := NewEditor(cmpOr(tc.max, 80))
			e.Echo = !tc.secret
			echo, lines, hungUp := typeKeys(e, tc.keys)
			if echo != tc.echo || !slices.Equal(lines, tc.lines) || hungUp != tc.hungUp {
				t.Errorf("got echo %q lines %q hung up %v; want %q %q %v", echo, lines, hungUp, tc.echo, tc.lines, tc.hungUp)
			}
		})
	}
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

func TestEditorEnterSplitAcrossPrompts(t *testing.T) {
	// A CR ends the line at once; its LF, read later (the next prompt),
	// must not end another.
	e := NewEditor(80)
	if _, lines, _ := typeKeys(e, "yes\r"); !slices.Equal(lines, []string{"yes"}) {
		t.Fatalf("first line %q", lines)
	}
	if _, lines, _ := typeKeys(e, "\nno\r\n"); !slices.Equal(lines, []string{"no"}) {
		t.Errorf("second prompt got %q, want [no]", lines)
	}
}
