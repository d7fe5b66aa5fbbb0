package luasyntax

import (
	"fmt"

	"github.com/yuin/gopher-lua/parse"
)

// opener is a bracket or a block keyword and what became of it.
type opener struct {
	tok   token
	index int // in the token list
	// awaiting is the keyword the construct still needs before its body
	// (then after if and elseif, do after while and for), 0 if none.
	awaiting int
	// closedBy is the index of the token that closes it, -1 while open or
	// if never closed.
	closedBy int
	// unclosed is set once a closer of an outer construct, or the end of
	// the file, came while it was open.
	unclosed bool
	// misplacedEnd is the 'end' that misindented found for this block.
	misplacedEnd *token
	// sawElse is set on an if once its 'else' came.
	sawElse bool
}

// blocks is the result of matching a script's brackets and blocks.
type blocks struct {
	toks    []token
	openers []*opener
	// stop is the token the parser stopped at; openAtStop the constructs
	// open just before it, innermost last.
	stop       int
	openAtStop []*opener
	// strayAtStop is set when the token the parser stopped at is an
	// 'end', 'until', 'else' or 'elseif' with nothing open for it to
	// close or continue.
	strayAtStop bool
}

// match pairs the brackets and blocks of toks, as far as tokens alone
// tell: a closer closes the innermost open construct it can close, and
// the constructs inside that one are unclosed. stop is the token the
// parser stopped at. It takes time linear in the number of tokens.
func match(toks []token, stop int) *blocks {
	b := &blocks{toks: toks, stop: stop}
	var stack []*opener
	// open counts the constructs on the stack by the closer they need, so
	// that a closer with nothing to close is passed over without a search
	// (a search pops what it passes: linear time in all).
	open := map[int]int{}
	closeWith := func(i int, closer int) {
		if open[closer] == 0 {
			return // it closes nothing: the parser stops there itself
		}
		for k := len(stack) - 1; k >= 0; k-- {
			o := stack[k]
			open[closerOf(o.tok.Type)]--
			if closerOf(o.tok.Type) != closer {
				o.unclosed = true
				continue
			}
			o.closedBy = i
			stack = stack[:k]
			return
		}
	}
	push := func(i int, awaiting int) {
		o := &opener{tok: toks[i], index: i, awaiting: awaiting, closedBy: -1}
		b.openers = append(b.openers, o)
		stack = append(stack, o)
		open[closerOf(o.tok.Type)]++
	}
	for i, t := range toks {
		var top *opener
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if i == stop {
			b.openAtStop = append([]*opener(nil), stack...)
			b.strayAtStop = stray(t.Type, open, top)
		}
		switch t.Type {
		case '(', '{', '[', parse.TFunction, parse.TRepeat:
			push(i, 0)
		case parse.TIf:
			push(i, parse.TThen)
		case parse.TWhile, parse.TFor:
			push(i, parse.TDo)
		case parse.TElseIf:
			if top != nil && top.tok.Type == parse.TIf {
				top.awaiting = parse.TThen
			}
		case parse.TElse:
			if top != nil && top.tok.Type == parse.TIf {
				top.sawElse = true
			}
		case parse.TThen:
			if top != nil && top.awaiting == parse.TThen {
				top.awaiting = 0
			}
		case parse.TDo:
			if top != nil && top.awaiting == parse.TDo {
				top.awaiting = 0
			} else {
				push(i, 0)
			}
		case ')', '}', ']', parse.TEnd, parse.TUntil:
			closeWith(i, t.Type)
		}
	}
	for _, o := range stack {
		o.unclosed = true
	}
	return b
}

// stray reports whether a token of type typ has nothing to close or
// continue, open counting the constructs open by their closers, top the
// innermost of them.
func stray(typ int, open map[int]int, top *opener) bool {
	switch typ {
	case parse.TEnd:
		return open[typ] == 0 || top.tok.Type == parse.TRepeat
	case parse.TUntil:
		return open[typ] == 0
	case parse.TElse, parse.TElseIf:
		return top == nil || top.tok.Type != parse.TIf || top.sawElse
	}
	return false
}

// earlyEnd finds, when the parser stopped at a stray 'end' (or else,
// elseif, until), the 'end' more likely to be one too many: an 'end' too
// many closes the block it is in early, the 'end' of that block closes the
// block around it, and so on; each of them is indented more than the
// line of the block it closes, and the one too many comes first. Failing
// that, an 'end' just before a stray 'else' or 'elseif' is the one too
// many whatever its indentation. It returns the block that 'end' closes
// and why it is the one, or nil.
func (b *blocks) earlyEnd(src []byte) (*opener, string) {
	if !b.strayAtStop {
		return nil, ""
	}
	indents := lineIndents(src)
	var closed *opener
	for _, o := range b.openers {
		if o.closedBy < 0 || o.closedBy >= b.stop || !isBlock(o.tok.Type) || closed != nil && o.closedBy > closed.closedBy {
			continue
		}
		end := b.toks[o.closedBy]
		if end.Type == parse.TEnd && end.Pos.Line != o.tok.Pos.Line && indentOf(indents, end.Pos.Line) > indentOf(indents, o.tok.Pos.Line) {
			closed = o
		}
	}
	if closed != nil {
		return closed, fmt.Sprintf("it closes the '%s' of line %d, which is indented less", closed.tok.Str, closed.tok.Pos.Line)
	}
	t := b.toks[b.stop]
	if (t.Type == parse.TElse || t.Type == parse.TElseIf) && b.stop > 0 && b.toks[b.stop-1].Type == parse.TEnd {
		for _, o := range b.openers {
			if o.closedBy == b.stop-1 {
				return o, fmt.Sprintf("it closes the '%s' of line %d before its '%s'", o.tok.Str, o.tok.Pos.Line, t.Str)
			}
		}
	}
	return nil, ""
}

// closerOf is the token that closes a construct opened by typ.
func closerOf(typ int) int {
	switch typ {
	case '(':
		return ')'
	case '{':
		return '}'
	case '[':
		return ']'
	case parse.TRepeat:
		return parse.TUntil
	default:
		return parse.TEnd
	}
}

// unclosedAtStop is the innermost construct open where the parser stopped
// that is never closed, nil if every construct open there is closed
// later.
func (b *blocks) unclosedAtStop() *opener {
	for k := len(b.openAtStop) - 1; k >= 0; k-- {
		if b.openAtStop[k].unclosed {
			return b.openAtStop[k]
		}
	}
	return nil
}

// misindented returns the block the missing 'end' of o more likely
// belongs to, o itself if none (or if o is a bracket). o is never closed,
// so every block after it is inside it. When a block lacks its 'end', the
// 'end' meant for the block around it closes it, and so on outwards: each
// of them is closed by an 'end' indented less than the line it starts on,
// and the one lacking the 'end' is the one closed first.
func (b *blocks) misindented(o *opener, src []byte) *opener {
	if !isBlock(o.tok.Type) {
		return o
	}
	indents := lineIndents(src)
	found := o
	for _, inner := range b.openers {
		if inner.index <= o.index || inner.closedBy < 0 || !isBlock(inner.tok.Type) {
			continue
		}
		if found != o && inner.closedBy > found.closedBy {
			continue
		}
		end := b.toks[inner.closedBy]
		if end.Type != parse.TEnd || end.Pos.Line == inner.tok.Pos.Line {
			continue
		}
		if indentOf(indents, end.Pos.Line) < indentOf(indents, inner.tok.Pos.Line) {
			found = inner
		}
	}
	if found != o {
		end := b.toks[found.closedBy]
		found.misplacedEnd = &end
	}
	return found
}

// isBlock reports whether typ opens a block closed by 'end' or 'until'.
func isBlock(typ int) bool {
	switch typ {
	case parse.TFunction, parse.TIf, parse.TWhile, parse.TFor, parse.TDo, parse.TRepeat:
		return true
	}
	return false
}

// unclosedMessage says what o lacks.
func unclosedMessage(o *opener) string {
	switch o.tok.Type {
	case '(', '{', '[':
		return fmt.Sprintf("unclosed '%s'", o.tok.Str)
	case parse.TRepeat:
		return "'repeat' has no 'until'"
	default:
		return fmt.Sprintf("'%s' has no 'end'", o.tok.Str)
	}
}

// lineIndents is the indentation of each line of src (index 0 is line 1),
// a tab counting up to the next multiple of 8.
func lineIndents(src []byte) []int {
	var indents []int
	start := 0
	indent := func(line []byte) int {
		width := 0
		for _, c := range line {
			switch c {
			case ' ':
				width++
			case '\t':
				width = width/8*8 + 8
			default:
				return width
			}
		}
		return width
	}
	forEachNewline(src, func(next int) {
		indents = append(indents, indent(src[start:next]))
		start = next
	})
	return append(indents, indent(src[start:]))
}

// indentOf is the indentation of line (from 1), 0 past the end.
func indentOf(indents []int, line int) int {
	if line < 1 || line > len(indents) {
		return 0
	}
	return indents[line-1]
}
