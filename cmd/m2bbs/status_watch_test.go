package main

import (
	"strings"
	"testing"
)

// TestPrintWatch: the stream's events as the sysop reads them; a stream
// cut before its end is an error.
func TestPrintWatch(t *testing.T) {
	stream := `{"kind":"notice","msg":"watching conn 7 (ann)"}
{"kind":"sent","type":"prompt","msg":"What's your password?","pchar":"> ","secret":true}

{"kind":"typed","msg":"","secret":true}
{"kind":"sent","type":"screen","msg":"Hi \u001b]0;owned\u0007ann"}
{"kind":"end","msg":"the caller hung up"}
`
	var out strings.Builder
	if err := printWatch(strings.NewReader(stream), &out); err != nil {
		t.Fatal(err)
	}
	want := "[watching conn 7 (ann)]\nWhat's your password?\n> ********\nHi ann\n[the watch ended: the caller hung up]\n"
	if out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
	if err := printWatch(strings.NewReader(`{"kind":"notice","msg":"x"}`+"\n"), &out); err == nil {
		t.Error("a stream cut before its end is not an error")
	}
}

// FuzzPrintWatch: whatever the stream holds, printing it never panics
// and never hands the sysop's terminal a control string.
func FuzzPrintWatch(f *testing.F) {
	f.Add(`{"kind":"sent","type":"prompt","msg":"Menu","pchar":"> "}` + "\n" + `{"kind":"typed","msg":"1"}` + "\n")
	f.Add(`{"kind":"raw","msg":"\u001b]52;c;AAAA\u0007"}` + "\n" + `{"kind":"end","msg":"x"}`)
	f.Add("\n\n{\"kind\":")
	f.Fuzz(func(t *testing.T, stream string) {
		var out strings.Builder
		_ = printWatch(strings.NewReader(stream), &out)
		if strings.Contains(out.String(), "\x1b]") {
			t.Errorf("a control string reached the terminal: %q", out.String())
		}
	})
}
