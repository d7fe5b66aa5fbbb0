package command

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// TestRun: the command named gets the rest of the arguments; help shows the
// usage; no command and an unknown one are errors with the usage.
func TestRun(t *testing.T) {
	var got []string
	cmds := []Command{
		{"greet", "say hello", func(_ context.Context, args []string, _ io.Writer) error { got = args; return nil }},
		{"x", "a short one", nil},
	}
	if err := Run(t.Context(), "prog", cmds, []string{"greet", "-loud", "you"}, io.Discard); err != nil || strings.Join(got, " ") != "-loud you" {
		t.Errorf("greet: args %q, err %v", got, err)
	}
	const usage = "usage: prog COMMAND [flags]\n\ncommands:\n  greet    say hello\n  x        a short one\n"
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}} {
		var out bytes.Buffer
		if err := Run(t.Context(), "prog", cmds, args, &out); err != nil || out.String() != usage {
			t.Errorf("%q: err %v, usage\n%s", args, err, &out)
		}
	}
	for args, want := range map[string]string{"": "no command given", "run": `unknown command "run"`} {
		var out bytes.Buffer
		err := Run(t.Context(), "prog", cmds, strings.Fields(args), &out)
		if err == nil || err.Error() != want || out.String() != usage {
			t.Errorf("%q: err %v, want %q; usage\n%s", args, err, want, &out)
		}
	}
}
