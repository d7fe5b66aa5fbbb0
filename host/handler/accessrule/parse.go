package accessrule

import (
	"fmt"
	"strconv"
	"strings"
)

// SyntaxError is a rule [Compile] refused: Column is the 1-based byte
// column of the mistake in the rule.
type SyntaxError struct {
	Rule   string
	Column int
	Msg    string
}

// Error says where the rule went wrong.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("access rule %q: column %d: %s", clip(e.Rule), e.Column, e.Msg)
}

// clip shortens a rule for an error message.
func clip(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// Compile parses src into a Rule, or returns a *SyntaxError.
func Compile(src string) (*Rule, error) {
	p := &parser{src: src}
	if len(src) > MaxLength {
		return nil, p.errorAt(MaxLength, fmt.Sprintf("a rule is at most %d bytes", MaxLength))
	}
	p.next()
	if p.tok.kind == tokEOF {
		return nil, p.errorAt(p.tok.pos, "empty rule")
	}
	// A rule that is only a level name is "level >= it".
	if p.tok.kind == tokName {
		if n, ok := levelNames[p.tok.text]; ok {
			save := *p
			p.next()
			if p.err == nil && p.tok.kind == tokEOF {
				return &Rule{src: src, root: compare{variables["level"], ">=", n}}, nil
			}
			*p = save
		}
	}
	root := p.or()
	if p.err == nil && p.tok.kind != tokEOF {
		p.fail(p.tok.pos, "expected 'and', 'or' or the end of the rule, found "+p.tok.describe())
	}
	if p.err != nil {
		return nil, p.err
	}
	return &Rule{src: src, root: root}, nil
}

// token kinds.
const (
	tokEOF = iota
	tokName
	tokNumber
	tokString
	tokOp    // a comparison operator
	tokPunct // ( or )
)

type token struct {
	kind int
	text string
	pos  int // 0-based byte offset
}

// describe names a token for an error message.
func (t token) describe() string {
	if t.kind == tokEOF {
		return "the end of the rule"
	}
	return strconv.Quote(t.text)
}

// parser is a recursive-descent parser over a one-token lookahead.
type parser struct {
	src   string
	off   int // where the lexer reads next
	tok   token
	depth int
	err   *SyntaxError
}

// errorAt returns a SyntaxError at byte offset pos.
func (p *parser) errorAt(pos int, msg string) *SyntaxError {
	return &SyntaxError{Rule: p.src, Column: pos + 1, Msg: msg}
}

// fail records the first error; parsing then unwinds.
func (p *parser) fail(pos int, msg string) {
	if p.err == nil {
		p.err = p.errorAt(pos, msg)
	}
	p.tok = token{kind: tokEOF, pos: len(p.src)}
}

// next reads the next token into p.tok.
func (p *parser) next() {
	if p.err != nil {
		return
	}
	for p.off < len(p.src) && (p.src[p.off] == ' ' || p.src[p.off] == '\t') {
		p.off++
	}
	start := p.off
	if start >= len(p.src) {
		p.tok = token{kind: tokEOF, pos: start}
		return
	}
	c := p.src[start]
	switch {
	case isLetter(c):
		for p.off < len(p.src) && (isLetter(p.src[p.off]) || isDigit(p.src[p.off]) || p.src[p.off] == '-') {
			p.off++
		}
		p.tok = token{kind: tokName, text: p.src[start:p.off], pos: start}
	case isDigit(c):
		for p.off < len(p.src) && isDigit(p.src[p.off]) {
			p.off++
		}
		p.tok = token{kind: tokNumber, text: p.src[start:p.off], pos: start}
	case c == '\'' || c == '"':
		end := strings.IndexByte(p.src[start+1:], c)
		if end < 0 {
			p.fail(start, "unclosed string")
			return
		}
		p.off = start + 1 + end + 1
		p.tok = token{kind: tokString, text: p.src[start+1 : start+1+end], pos: start}
	case c == '(' || c == ')':
		p.off++
		p.tok = token{kind: tokPunct, text: p.src[start:p.off], pos: start}
	case strings.IndexByte("=~!<>", c) >= 0:
		p.off++
		if p.off < len(p.src) && p.src[p.off] == '=' {
			p.off++
		}
		op := p.src[start:p.off]
		switch op {
		case "=", "==":
			op = "=="
		case "~=", "!=":
			op = "~="
		case "<", "<=", ">", ">=":
		default:
			p.fail(start, fmt.Sprintf("%q is not a comparison", op))
			return
		}
		p.tok = token{kind: tokOp, text: op, pos: start}
	default:
		p.fail(start, fmt.Sprintf("unexpected character %q", c))
	}
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// keyword reports whether the current token is the keyword word.
func (p *parser) keyword(word string) bool { return p.tok.kind == tokName && p.tok.text == word }

// or parses: and { "or" and }.
func (p *parser) or() node {
	n := p.and()
	for p.err == nil && p.keyword("or") {
		p.next()
		n = orNode{n, p.and()}
	}
	return n
}

// and parses: unary { "and" unary }.
func (p *parser) and() node {
	n := p.unary()
	for p.err == nil && p.keyword("and") {
		p.next()
		n = andNode{n, p.unary()}
	}
	return n
}

// unary parses: "not" unary | primary.
func (p *parser) unary() node {
	if !p.keyword("not") {
		return p.primary()
	}
	if !p.enter() {
		return constant(false)
	}
	defer p.leave()
	p.next()
	return notNode{p.unary()}
}

// enter counts one level of nesting, failing past MaxDepth.
func (p *parser) enter() bool {
	p.depth++
	if p.depth > MaxDepth {
		p.fail(p.tok.pos, fmt.Sprintf("nested more than %d deep", MaxDepth))
		return false
	}
	return true
}

func (p *parser) leave() { p.depth-- }

// primary parses a parenthesised rule, a comparison, a test or a
// constant.
func (p *parser) primary() node {
	t := p.tok
	switch {
	case t.kind == tokPunct && t.text == "(":
		if !p.enter() {
			return constant(false)
		}
		defer p.leave()
		p.next()
		n := p.or()
		if p.err == nil && !(p.tok.kind == tokPunct && p.tok.text == ")") {
			p.fail(p.tok.pos, "expected ')', found "+p.tok.describe())
		}
		p.next()
		return n
	case t.kind != tokName:
		p.fail(t.pos, "expected a comparison, group(...), flag(...), 'not' or '(', found "+t.describe())
		return constant(false)
	}
	switch t.text {
	case "true", "false":
		p.next()
		return constant(t.text == "true")
	case "group", "flag":
		return p.test(t)
	}
	if v, ok := variables[t.text]; ok {
		return p.comparison(v)
	}
	if _, ok := levelNames[t.text]; ok {
		p.fail(t.pos, fmt.Sprintf("a level name alone is a whole rule; here write level >= %s", t.text))
		return constant(false)
	}
	p.fail(t.pos, fmt.Sprintf("unknown name %q: expected level, age, calls, group, flag, not, true or false", t.text))
	return constant(false)
}

// comparison parses: op value, after its variable.
func (p *parser) comparison(v func(*Subject) int) node {
	p.next()
	op := p.tok
	if op.kind != tokOp {
		p.fail(op.pos, "expected a comparison (==, ~=, <, <=, >, >=), found "+op.describe())
		return constant(false)
	}
	p.next()
	val := p.tok
	var n int
	switch {
	case val.kind == tokNumber:
		var err error
		n, err = strconv.Atoi(val.text)
		if err != nil || n > MaxNumber {
			p.fail(val.pos, fmt.Sprintf("a number is at most %d", MaxNumber))
			return constant(false)
		}
	case val.kind == tokName && levelNames[val.text] != 0:
		n = levelNames[val.text]
	default:
		p.fail(val.pos, "expected a number or a level name (new, user, sysop), found "+val.describe())
		return constant(false)
	}
	p.next()
	return compare{v, op.text, n}
}

// test parses group(name) or flag(X).
func (p *parser) test(fn token) node {
	p.next()
	if !(p.tok.kind == tokPunct && p.tok.text == "(") {
		p.fail(p.tok.pos, fmt.Sprintf("expected '(' after %s, found %s", fn.text, p.tok.describe()))
		return constant(false)
	}
	p.next()
	arg := p.tok
	if arg.kind != tokString && arg.kind != tokName {
		p.fail(arg.pos, fmt.Sprintf("expected the %s's name, found %s", fn.text, arg.describe()))
		return constant(false)
	}
	var n node
	if fn.text == "flag" {
		f := strings.ToUpper(arg.text)
		if len(f) != 1 || f[0] < 'A' || f[0] > 'Z' {
			p.fail(arg.pos, "a flag is one letter, A to Z")
			return constant(false)
		}
		n = flagTest{f[0]}
	} else {
		g, err := GroupName(arg.text)
		if err != nil {
			p.fail(arg.pos, err.Error())
			return constant(false)
		}
		n = groupTest{g}
	}
	p.next()
	if !(p.tok.kind == tokPunct && p.tok.text == ")") {
		p.fail(p.tok.pos, "expected ')', found "+p.tok.describe())
		return constant(false)
	}
	p.next()
	return n
}

// GroupName checks a group name (1 to MaxGroupName letters, digits, '_'
// or '-') and returns it lower case.
func GroupName(name string) (string, error) {
	if name == "" || len(name) > MaxGroupName {
		return "", fmt.Errorf("a group name is 1 to %d characters", MaxGroupName)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !isLetter(c) && !isDigit(c) && c != '-' {
			return "", fmt.Errorf("a group name has only letters, digits, '_' and '-'")
		}
	}
	return strings.ToLower(name), nil
}
