package luasyntax

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/yuin/gopher-lua/parse"
)

// FuzzExplain feeds Explain whatever fails to parse: it must not panic,
// and must name a line of the script in "name:line: " form.
func FuzzExplain(f *testing.F) {
	for _, seed := range []string{
		"print('a',\n  1\nlocal x = 2\n", "function f()\n  if x then\n", "x = {\n a = 1\n b = 2\n}\n",
		"local s = \"abc\n", "--[[ open", "[[", "repeat until", "end end )", "while do end",
		"if x then elseif then else end end", "f(\n(\n{\n[\n", "\xff\x00(", "x = 0x", "a.b:c'd'\n(e)",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		_, err := parse.Parse(bytes.NewReader(src), "fuzz.lua")
		if err == nil {
			return
		}
		var e *Error
		if !errors.As(Explain(src, err), &e) {
			var pe *parse.Error
			if errors.As(err, &pe) {
				t.Fatalf("a parse error was not explained: %v", err)
			}
			return
		}
		if lines := countLines(src); e.Line < 1 || e.Line > lines {
			t.Fatalf("line %d of a %d-line script: %v", e.Line, lines, e)
		}
		if want := fmt.Sprintf("fuzz.lua:%d: ", e.Line); !strings.HasPrefix(e.Error(), want) {
			t.Fatalf("%q does not start with %q", e.Error(), want)
		}
	})
}
