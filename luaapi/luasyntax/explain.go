package luasyntax

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"
)

// Error is a syntax error placed at the line of the mistake.
type Error struct {
	// Source is the chunk's name, the script's path.
	Source string
	// Line is the line of the mistake, from 1.
	Line int
	// Message says what is wrong: "unclosed '('".
	Message string
	// Hint says why Line was chosen when that is not plain, empty
	// otherwise: "the 'end' on line 12 is indented less than it".
	Hint string
	// Noticed says where the parser stopped when that is not Line: "at
	// 'local' on line 119"; empty otherwise.
	Noticed string
	// Cause is the parser's own error.
	Cause *parse.Error
}

// Error is "source:line: " and Detail.
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.Source, e.Line, e.Detail())
}

// Detail is the message, then, in brackets, the hint and where the parser
// stopped when that is elsewhere.
func (e *Error) Detail() string {
	var notes []string
	if e.Hint != "" {
		notes = append(notes, e.Hint)
	}
	if e.Noticed != "" {
		notes = append(notes, "noticed "+e.Noticed)
	}
	if len(notes) == 0 {
		return e.Message
	}
	return e.Message + " (" + strings.Join(notes, "; ") + ")"
}

// Unwrap returns the parser's error.
func (e *Error) Unwrap() error { return e.Cause }

// maxQuote bounds how much of a token a message quotes.
const maxQuote = 40

// MaxExplained bounds the source Explain reads again: a larger chunk (a
// script's loadstring of a generated string, say) gets the parser's own
// line, so that a failing load costs about one parse, not several.
const MaxExplained = 256 << 10

// Explain places err, what parse.Parse returned for src, at the line of
// the mistake (see the package documentation). An error that is not a
// *parse.Error is returned as it is.
func Explain(src []byte, err error) error {
	var pe *parse.Error
	if !errors.As(err, &pe) {
		return err
	}
	lines := countLines(src)
	e := &Error{Source: pe.Pos.Source, Cause: pe}
	if len(src) > MaxExplained {
		asReported(e, pe, lines)
	} else if toks, lexErr := scan(src, pe.Pos.Source); lexErr != nil {
		lexical(e, lexErr, pe, lines)
	} else {
		grammar(e, src, toks, pe, lines)
	}
	e.Line = min(max(e.Line, 1), lines)
	return e
}

// asReported fills e with the parser's own line and words.
func asReported(e *Error, pe *parse.Error, lines int) {
	e.Line, e.Message = pe.Pos.Line, pe.Message
	if pe.Pos.Line == parse.EOF {
		e.Line, e.Message = lines, pe.Message+" at the end of the file"
	} else if pe.Token != "" {
		e.Message += " near '" + clip(pe.Token) + "'"
	}
}

// grammar fills e for a script whose tokens toks the parser could not
// put together, stopping at one of them.
func grammar(e *Error, src []byte, toks []token, pe *parse.Error, lines int) {
	at := stoppedAt(toks, pe)
	noticed := notice(toks[at], lines)
	blocks := match(toks, at)
	early, why := blocks.earlyEnd(src)
	switch o := blocks.unclosedAtStop(); {
	case early != nil:
		e.Line, e.Message, e.Hint = toks[early.closedBy].Pos.Line, "an 'end' too many", why
	case o != nil && closingExplains(src, toks, at, o):
		o = blocks.misindented(o, src)
		e.Line, e.Message = o.tok.Pos.Line, unclosedMessage(o)
		if o.misplacedEnd != nil {
			e.Hint = fmt.Sprintf("the 'end' on line %d is indented less than it", o.misplacedEnd.Pos.Line)
		}
	case at > 0 && pe.Message == "syntax error" && startsLine(toks, at) && startsStatement(toks[at].Type):
		prev := toks[at-1]
		e.Line, e.Message = endLine(prev), "syntax error after "+quote(prev)
	case toks[at].Type == parse.EOF:
		e.Line, e.Message = noticed.line, pe.Message+" at the end of the file"
	default:
		e.Line, e.Message = noticed.line, pe.Message+" near "+quote(toks[at])
	}
	if min(max(e.Line, 1), lines) != noticed.line {
		e.Noticed = noticed.where
	}
}

// closingExplains reports whether o's missing closer is why the parser
// stopped at toks[at]: with the closer put just before that token, before
// the first token of its line, or before a ',' or ';' ending the line
// before, the parser gets past it (or, at the end of the file, to the
// end). An unclosed block around a line with a mistake of its own ("if
// then") is not the mistake.
func closingExplains(src []byte, toks []token, at int, o *opener) bool {
	closer := map[int]string{'(': ")", '{': "}", '[': "]", parse.TRepeat: " until true "}[o.tok.Type]
	if closer == "" {
		closer = " end "
	}
	t := toks[at]
	if o.tok.Type == parse.TRepeat && t.Type == parse.TEnd && untilAfter(toks, at) {
		return false // an 'end' too many inside the loop, closed later
	}
	starts := lineStarts(src)
	if t.Type == parse.EOF {
		return parsesPast(src, len(src), closer, -1)
	}
	first := at
	for first > 0 && !startsLine(toks, first) {
		first--
	}
	tries := []int{at}
	if first != at {
		tries = append(tries, first)
	}
	if sep := first - 1; sep > o.index && (toks[sep].Type == ',' || toks[sep].Type == ';') {
		tries = append(tries, sep) // a list left open: "f(a," / "b = 2"
	}
	tEnd := offset(starts, t.end, len(src))
	for _, i := range tries {
		if parsesPast(src, offset(starts, toks[i].Pos, len(src)), closer, tEnd) {
			return true
		}
	}
	return false
}

// untilAfter reports whether an 'until' comes after toks[at].
func untilAfter(toks []token, at int) bool {
	for _, t := range toks[at+1:] {
		if t.Type == parse.TUntil {
			return true
		}
	}
	return false
}

// parsesPast reports whether src with closer inserted at offset insertAt
// parses, or fails past the byte at offset past of src (-1: fails only at
// the end of the file).
func parsesPast(src []byte, insertAt int, closer string, past int) bool {
	fixed := make([]byte, 0, len(src)+len(closer))
	fixed = append(append(append(fixed, src[:insertAt]...), closer...), src[insertAt:]...)
	_, err := parse.Parse(bytes.NewReader(fixed), "")
	var pe *parse.Error
	if err == nil || !errors.As(err, &pe) {
		return err == nil
	}
	if pe.Pos.Line == parse.EOF {
		return true // the parser got to the end of the file
	}
	if past < 0 {
		return false
	}
	// A parse error is at the end of the parser's lookahead token: past
	// the end of the token it stopped at before, it took that one.
	return offset(lineStarts(fixed), pe.Pos, len(fixed)) > past+len(closer)
}

// lineStarts is the offset in src of each line's first byte (index 0 is
// line 1).
func lineStarts(src []byte) []int {
	starts := []int{0}
	forEachNewline(src, func(next int) { starts = append(starts, next) })
	return starts
}

// offset is the offset in src of the byte at pos (the scanner counts
// columns from 1), n (the length of src) past the end.
func offset(starts []int, pos ast.Position, n int) int {
	if pos.Line < 1 || pos.Line > len(starts) {
		return n
	}
	return min(starts[pos.Line-1]+max(pos.Column-1, 0), n)
}

// token is one token of the script and where it ends.
type token struct {
	ast.Token
	end ast.Position
}

// lexError is the scanner's error and where the token it stopped in
// starts.
type lexError struct {
	err   *parse.Error
	start ast.Position
}

// scan reads src's tokens with gopher-lua's own scanner, up to and with
// the end of the file, or up to a token it cannot read.
func scan(src []byte, name string) ([]token, *lexError) {
	sc := parse.NewScanner(bytes.NewReader(src), name)
	lx := &parse.Lexer{}
	var toks []token
	for {
		tok, err := sc.Scan(lx)
		if err != nil {
			var pe *parse.Error
			if !errors.As(err, &pe) {
				pe = &parse.Error{Pos: tok.Pos, Message: err.Error()}
			}
			return toks, &lexError{err: pe, start: tok.Pos}
		}
		lx.PrevTokenType = tok.Type
		toks = append(toks, token{Token: tok, end: sc.Pos})
		if tok.Type == parse.EOF {
			return toks, nil
		}
	}
}

// lexical fills e for a token the scanner could not read: an unfinished
// string or comment is reported where it starts.
func lexical(e *Error, le *lexError, pe *parse.Error, lines int) {
	e.Line = le.start.Line
	switch le.err.Message {
	case "unterminated string":
		e.Message = "unfinished string"
	case "unterminated multiline string":
		e.Message = "unfinished long string"
	case "invalid multiline comment":
		e.Message = "unfinished long comment"
	case "Invalid token", "Invalid '~' token":
		e.Message = "invalid character '" + clip(le.err.Token) + "'"
	case "illegal hexadecimal number":
		e.Message = "malformed number near '" + clip(le.err.Token) + "'"
	default:
		e.Message = le.err.Message + " near '" + clip(le.err.Token) + "'"
	}
	if e.Line == parse.EOF {
		e.Line = lines
	}
	e.Line = min(max(e.Line, 1), lines)
	if pe.Pos.Line == parse.EOF && e.Line != lines {
		e.Noticed = fmt.Sprintf("at the end of the file, line %d", lines)
	}
}

// stoppedAt is the index in toks of the token the parser stopped at.
func stoppedAt(toks []token, pe *parse.Error) int {
	last := len(toks) - 1
	if pe.Pos.Line == parse.EOF {
		return last
	}
	for i, t := range toks {
		if t.end == pe.Pos || t.Pos == pe.Pos {
			return i
		}
		if t.Pos.Line == parse.EOF || after(t.Pos, pe.Pos) {
			return max(i-1, 0)
		}
	}
	return last
}

// after reports whether position a comes after b.
func after(a, b ast.Position) bool {
	return a.Line > b.Line || a.Line == b.Line && a.Column > b.Column
}

// noticed is where the parser stopped, as a line and as words.
type noticed struct {
	line  int
	where string
}

// notice describes the token the parser stopped at.
func notice(t token, lines int) noticed {
	if t.Type == parse.EOF {
		return noticed{lines, fmt.Sprintf("at the end of the file, line %d", lines)}
	}
	return noticed{t.Pos.Line, fmt.Sprintf("at %s on line %d", quote(t), t.Pos.Line)}
}

// startsLine reports whether toks[i] is the first token of its line.
func startsLine(toks []token, i int) bool {
	return i > 0 && toks[i].Type != parse.EOF && endLine(toks[i-1]) < toks[i].Pos.Line
}

// endLine is the line a token ends on (a long string spans lines).
func endLine(t token) int {
	if t.end.Line == parse.EOF || t.end.Line < t.Pos.Line {
		return t.Pos.Line
	}
	return t.end.Line
}

// startsStatement reports whether a token of type typ can begin a
// statement: a parser stopping there found the line before unfinished.
func startsStatement(typ int) bool {
	switch typ {
	case parse.TIdent, parse.TLocal, parse.TFunction, parse.TIf, parse.TWhile, parse.TFor,
		parse.TRepeat, parse.TReturn, parse.TDo, parse.TBreak, parse.TGoto:
		return true
	}
	return false
}

// quote is a token as messages show it: 'local', '<eof>'.
func quote(t token) string {
	if t.Type == parse.EOF {
		return "the end of the file"
	}
	if t.Type == parse.TString {
		return `the string "` + clip(t.Str) + `"`
	}
	return "'" + clip(t.Str) + "'"
}

// clip shortens s to its first line and at most maxQuote bytes, with any
// byte that is not printable ASCII shown as '?'.
func clip(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i] + "..."
	}
	if len(s) > maxQuote {
		s = s[:maxQuote] + "..."
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r > '~' {
			return '?'
		}
		return r
	}, s)
}

// countLines is the number of lines of src, the last one possibly without
// a newline; at least 1. As gopher-lua's scanner, it takes "\r\n", "\n\r",
// "\n" and "\r" each for one newline.
func countLines(src []byte) int {
	n := 1
	forEachNewline(src, func(int) { n++ })
	if len(src) > 0 && (src[len(src)-1] == '\n' || src[len(src)-1] == '\r') {
		n--
	}
	return max(n, 1)
}

// forEachNewline calls f with the offset of the byte after each newline
// of src.
func forEachNewline(src []byte, f func(next int)) {
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c != '\n' && c != '\r' {
			continue
		}
		if i+1 < len(src) && (src[i+1] == '\n' || src[i+1] == '\r') && src[i+1] != c {
			i++
		}
		f(i + 1)
	}
}
