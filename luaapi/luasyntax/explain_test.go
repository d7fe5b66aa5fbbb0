package luasyntax

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/yuin/gopher-lua/parse"
)

// explain parses src as main.lua and returns Explain's message.
func explain(t *testing.T, src string) string {
	t.Helper()
	_, err := parse.Parse(bytes.NewReader([]byte(src)), "main.lua")
	if err == nil {
		t.Fatalf("%q parsed", src)
	}
	got := Explain([]byte(src), err)
	var e *Error
	if !errors.As(got, &e) {
		t.Fatalf("Explain returned %T %v", got, got)
	}
	return got.Error()
}

func TestSyntaxErrorsAtTheLineOfTheMistake(t *testing.T) {
	for _, tt := range []struct{ name, src, want string }{
		{"unclosed ( then a statement", "local a = 1\nprint('a',\n  1\nlocal x = 2\n",
			"main.lua:2: unclosed '(' (noticed at 'local' on line 4)"},
		{"unclosed ( at the end of the file", "print('a')\nfoo(\n",
			"main.lua:2: unclosed '('"},
		{"unclosed ( inside a function", "function f()\n  g(1,\n    2\n  return 3\nend\nfunction h()\n  return (1)\nend\n",
			"main.lua:2: unclosed '(' (noticed at 'return' on line 4)"},
		{"unclosed {", "local t = {\n  1,\n  2\nlocal x = 2\n",
			"main.lua:1: unclosed '{' (noticed at 'local' on line 4)"},
		{"unclosed [", "local t = x[\n 1\nlocal y = 2\n",
			"main.lua:1: unclosed '[' (noticed at 'local' on line 3)"},
		{"function without end", "function f()\n  if x then\n    y()\n  end\n\nlocal z = 1\n",
			"main.lua:1: 'function' has no 'end' (noticed at the end of the file, line 6)"},
		{"if without end", "local a = 1\nif x then\n  y()\n",
			"main.lua:2: 'if' has no 'end' (noticed at the end of the file, line 3)"},
		{"do without end", "do\n  y()\n", "main.lua:1: 'do' has no 'end' (noticed at the end of the file, line 2)"},
		{"while without end", "while x do\n  y()\n", "main.lua:1: 'while' has no 'end' (noticed at the end of the file, line 2)"},
		{"for without end", "for i = 1, 2 do\n  y()\n", "main.lua:1: 'for' has no 'end' (noticed at the end of the file, line 2)"},
		{"repeat without until", "repeat\n  y()\n", "main.lua:1: 'repeat' has no 'until' (noticed at the end of the file, line 2)"},
		{"an if's end missing inside a function", "function a()\n  if x then\n    foo()\nend\nfunction b()\nend\n",
			"main.lua:2: 'if' has no 'end' (the 'end' on line 4 is indented less than it; noticed at the end of the file, line 6)"},
		{"unfinished string", "local a = 1\nlocal s = \"abc\nlocal y = 1\n", "main.lua:2: unfinished string"},
		{"unfinished string at the end of the file", "local s = 'abc", "main.lua:1: unfinished string"},
		{"unfinished long string", "local s = [[abc\nlocal y = 1\n", "main.lua:1: unfinished long string (noticed at the end of the file, line 2)"},
		{"unfinished long comment", "--[[ comment\nlocal y = 1\n", "main.lua:1: unfinished long comment (noticed at the end of the file, line 2)"},
		{"missing separator in a table", "x = {\n a = 1\n b = 2\n}\n", "main.lua:2: syntax error after '1' (noticed at 'b' on line 3)"},
		{"missing then", "if x\n  y()\nend\n", "main.lua:1: syntax error after 'x' (noticed at 'y' on line 2)"},
		{"unfinished expression", "local x = 1 +\nlocal y = 2\n", "main.lua:1: syntax error after '+' (noticed at 'local' on line 2)"},
		{"a mistake on one line", "f(a b)\n", "main.lua:1: syntax error near 'b'"},
		{"a doubled =", "local x = 1\nlocal x = = 2\n", "main.lua:2: syntax error near '='"},
		{"a stray end", "x = 1\nend\n", "main.lua:2: syntax error near 'end'"},
		{"a stray )", "x = 1\n)\n", "main.lua:2: syntax error near ')'"},
		{"CRLF line endings", "function f()\r\n  g(1,\r\n    2\r\n  return 3\r\nend\r\n", "main.lua:2: unclosed '(' (noticed at 'return' on line 4)"},
		{"CR line endings", "function f()\r  g(1,\r    2\r  return 3\rend\r", "main.lua:2: unclosed '(' (noticed at 'return' on line 4)"},
		{"CRLF and indentation", "function a()\r\n  if x then\r\n    foo()\r\nend\r\n",
			"main.lua:2: 'if' has no 'end' (the 'end' on line 4 is indented less than it; noticed at the end of the file, line 4)"},
		{"a mistake of its own inside an unclosed function", "function m2bbs(conn, req)\n  if then\nend\n", "main.lua:2: syntax error near 'then'"},
		{"a mistake of its own inside an unclosed (", "x = (1 2\n", "main.lua:1: syntax error near '2'"},
		{"a mistake of its own on an unclosed function's line", "function f()\n  local t = {1, 2 3}\n", "main.lua:2: syntax error near '3'"},
		{"an end too many", "function f()\n  if x then\n    y()\n    end\n  end\nend\n",
			"main.lua:4: an 'end' too many (it closes the 'if' of line 2, which is indented less; noticed at 'end' on line 6)"},
		{"an end too many before else", "if x then\n  y()\nend\nelse\n  z()\nend\n",
			"main.lua:3: an 'end' too many (it closes the 'if' of line 1 before its 'else'; noticed at 'else' on line 4)"},
		{"a lone ~", "x = 1\nx = 1 ~ 2\n", "main.lua:2: invalid character '~'"},
		{"an invalid character", "x = 1\ny = @\n", "main.lua:2: invalid character '@'"},
		{"a malformed number", "x = 0x\n", "main.lua:1: malformed number near '0x'"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := explain(t, tt.src); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestMistakesInRealScripts takes real scripts (the shipped board and,
// when installed, the 2010 original), removes one ')' or one 'end' at a
// time, and checks that the error names the line of the block that lost
// its 'end', or of the '(' that lost its ')' or of a '(' around it (with
// nested brackets, which one lacks its ')' is a guess); then it adds one
// 'end' too many at a time (extraEnds).
func TestMistakesInRealScripts(t *testing.T) {
	files := map[string]func() ([]byte, error){
		"scripts/bbs.lua":         func() ([]byte, error) { return os.ReadFile("../../scripts/bbs.lua") },
		"scripts/doors/guess.lua": func() ([]byte, error) { return os.ReadFile("../../scripts/doors/guess.lua") },
		"2010 bbs.lua":            func() ([]byte, error) { return gunzip("/usr/share/doc/mongrel2-core/examples/bbs/bbs.lua.gz") },
	}
	for name, read := range files {
		t.Run(name, func(t *testing.T) {
			src, err := read()
			if err != nil {
				t.Skipf("%s: %v", name, err)
			}
			toks, lexErr := scan(src, name)
			if lexErr != nil {
				t.Fatal(lexErr.err)
			}
			tried := 0
			var open []*opener // o and what is around it
			for _, o := range match(toks, -1).openers {
				for len(open) > 0 && open[len(open)-1].closedBy < o.index {
					open = open[:len(open)-1]
				}
				open = append(open, o)
				if o.closedBy < 0 {
					t.Fatalf("%s:%d: %s is not closed in the original", name, o.tok.Pos.Line, o.tok.Str)
				}
				closer := toks[o.closedBy]
				if closer.Type != ')' && closer.Type != parse.TEnd {
					continue
				}
				broken := removeToken(src, closer)
				_, perr := parse.Parse(bytes.NewReader(broken), name)
				if perr == nil {
					continue // still valid Lua without it: f(a)(b) -> f(a(b)
				}
				tried++
				want := map[int]bool{o.tok.Pos.Line: true}
				for k := len(open) - 1; closer.Type == ')' && k >= 0 && !isBlock(open[k].tok.Type); k-- {
					want[open[k].tok.Pos.Line] = true
				}
				var e *Error
				if !errors.As(Explain(broken, perr), &e) || !want[e.Line] {
					t.Errorf("without the %q of line %d: %v, want line %d", closer.Str, closer.Pos.Line, e, o.tok.Pos.Line)
				}
			}
			tried += extraEnds(t, name, src)
			t.Logf("%d mistakes tried", tried)
			if tried < 50 {
				t.Errorf("only %d mistakes tried", tried)
			}
		})
	}
}

// extraEnds puts an 'end' too many after each line of src, indented as
// the next line, and checks that the error names it (or an 'end' next to
// it: of two 'end' lines in a row, which one is too many is a guess) in
// 95% of the cases at least: an 'end' too many that closes a block where
// it could ("if x then end") and makes the parser stop at something else
// than an 'end' is not found. A next line that is blank or an 'end' gives
// no indentation to go by and is passed over. It returns how many it
// tried.
func extraEnds(t *testing.T, name string, src []byte) int {
	lines := strings.Split(string(src), "\n")
	tried, missed := 0, 0
	for i := 0; i+1 < len(lines); i++ {
		next := lines[i+1]
		if strings.TrimSpace(next) == "" || strings.TrimSpace(next) == "end" {
			continue
		}
		indent := next[:len(next)-len(strings.TrimLeft(next, " \t"))]
		broken := append(append(append([]string{}, lines[:i+1]...), indent+"end"), lines[i+1:]...)
		text := []byte(strings.Join(broken, "\n"))
		_, perr := parse.Parse(bytes.NewReader(text), name)
		if perr == nil {
			continue
		}
		tried++
		var e *Error
		if !errors.As(Explain(text, perr), &e) {
			t.Fatalf("not explained: %v", perr)
		}
		if e.Line != i+2 && !(e.Line >= 1 && e.Line <= len(broken) && strings.HasPrefix(strings.TrimSpace(broken[e.Line-1]), "end") && (e.Line == i+1 || e.Line == i+3)) {
			missed++
			t.Logf("with an 'end' too many on line %d: %v", i+2, e)
		}
	}
	if missed*20 > tried {
		t.Errorf("%d of %d 'end's too many not found", missed, tried)
	}
	return tried
}

// removeToken returns src without the token t (a ')' or an 'end' on one
// line).
func removeToken(src []byte, t token) []byte {
	lines := bytes.SplitAfter(src, []byte("\n"))
	line := lines[t.Pos.Line-1]
	start := t.Pos.Column - 1
	out := append([]byte(nil), bytes.Join(lines[:t.Pos.Line-1], nil)...)
	out = append(out, line[:start]...)
	out = append(out, line[start+len(t.Str):]...)
	return append(out, bytes.Join(lines[t.Pos.Line:], nil)...)
}

// gunzip reads a gzipped file.
func gunzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// TestExplainOnHostileInput: closers that close nothing, or close
// through many unclosed openers, must not make the explanation quadratic
// (this test would run for minutes). Past MaxExplained, the parser's line
// is given as it is.
func TestExplainOnHostileInput(t *testing.T) {
	if testing.Short() {
		t.Skip("parses large chunks")
	}
	const n = MaxExplained / 16 // "function f() " is 13 bytes
	for name, src := range map[string]string{
		"stray ends":                strings.Repeat("(", n) + strings.Repeat(" end", n),
		"one end under many (":      "function f() " + strings.Repeat("(", n) + " end",
		"many functions, no end":    strings.Repeat("function f() ", n),
		"deep tables, stray untils": "x = " + strings.Repeat("{", n) + strings.Repeat("}", n/2) + strings.Repeat(" until", n/4),
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			_, _ = parse.Parse(strings.NewReader(src), "main.lua")
			parsed := time.Now()
			got := explain(t, src)
			t.Logf("%s: parse %v, parse and explain %v", got, parsed.Sub(start), time.Since(parsed))
		})
	}
	big := "x = 1\n" + strings.Repeat("-- a comment\n", MaxExplained/13) + "f(\nlocal y\n"
	lines := strings.Count(big, "\n")
	if got, want := explain(t, big), fmt.Sprintf("main.lua:%d: syntax error near 'local'", lines); got != want {
		t.Errorf("past MaxExplained: %s, want %s", got, want)
	}
}
