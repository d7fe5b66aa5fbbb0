package scriptcheck

import (
	"bytes"
	"errors"
	"fmt"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"

	"github.com/m2bbs/m2bbs/luaapi/luasyntax"
)

// script is what the check learns from one script's source.
type script struct {
	// path is the file, as found under the configured folders.
	path string
	// parsed is false when the source has a syntax error.
	parsed bool
	// chunk is the syntax tree; facts what the name resolver learnt from
	// it. Both are nil when the source has a syntax error.
	chunk []ast.Stmt
	facts *facts
	// problems are syntax and compile errors.
	problems []Problem
	// screens are the screen names the script uses literally.
	screens []screenUse
	// requires are the module names passed literally to require.
	requires []string
	// definesEntry is set when the script assigns the global entry
	// function anywhere.
	definesEntry bool
	// returnsValue is set when the chunk itself returns something that
	// may be a function.
	returnsValue bool
}

// screenUse is a screen named by a string literal in a ui call.
type screenUse struct {
	call string // "ui.screen"
	name string
	line int
}

// analyse parses and compiles src, the script at path, and walks its syntax
// tree for the screens, modules and entry function it names. entry is the
// entry function's global name; genv holds the globals of _G the board's
// scripts assign, shared by all of them.
func analyse(path string, src []byte, entry string, genv *env) *script {
	s := &script{path: path}
	lines := countLines(src)
	chunk, err := parse.Parse(bytes.NewReader(src), path)
	if err != nil {
		s.problems = append(s.problems, syntaxProblem(path, src, err))
		return s
	}
	s.parsed = true
	s.chunk = chunk
	s.survey(chunk, entry)
	s.facts = resolve(chunk, genv)
	if err := compile(chunk, path); err != nil {
		p := Problem{File: path, Msg: err.Error()}
		var ce *lua.CompileError
		if errors.As(err, &ce) {
			// gopher-lua puts some errors a line past the construct,
			// possibly past the end of the file.
			p.Line, p.Msg = min(max(ce.Line, 1), lines), ce.Message
		}
		s.problems = append(s.problems, p)
	}
	return s
}

// countLines returns the number of lines in src, the last one possibly
// without a newline.
func countLines(src []byte) int {
	n := bytes.Count(src, []byte("\n"))
	if len(src) == 0 || src[len(src)-1] != '\n' {
		n++
	}
	return n
}

// syntaxProblem turns a parse error of src into a Problem at the line of
// the mistake (see luasyntax).
func syntaxProblem(path string, src []byte, err error) Problem {
	var se *luasyntax.Error
	if !errors.As(luasyntax.Explain(src, err), &se) {
		return Problem{File: path, Msg: err.Error()}
	}
	return Problem{File: path, Line: se.Line, Msg: se.Detail()}
}

// compile runs gopher-lua's compiler, which reports what the parser does
// not (break outside a loop, goto without a label). A compiler panic is
// returned as an error: a check must not crash on the scripts it checks.
func compile(chunk []ast.Stmt, name string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the Lua compiler failed: %v", r)
		}
	}()
	_, err = lua.Compile(chunk, name)
	return err
}

// screenArg returns which argument of ui.NAME is a screen name.
func screenArg(name string) (int, bool) {
	switch name {
	case "screen", "prompt", "secret", "exit", "art":
		return 2, true // ui.screen(conn, req, name)
	case "text":
		return 0, true // ui.text(name)
	}
	return 0, false
}

// survey fills in what s names: the screens, the modules and the entry
// function. entry is the entry function's global name.
func (s *script) survey(chunk []ast.Stmt, entry string) {
	visit(chunk, func(st ast.Stmt, depth int) {
		switch st := st.(type) {
		case *ast.AssignStmt:
			for _, lhs := range st.Lhs {
				if namesEntry(lhs, entry) {
					s.definesEntry = true
				}
			}
		case *ast.FuncDefStmt:
			if st.Name != nil && st.Name.Receiver == nil && namesEntry(st.Name.Func, entry) {
				s.definesEntry = true
			}
		case *ast.ReturnStmt:
			if depth == 0 && len(st.Exprs) > 0 && mayBeFunction(st.Exprs[0]) {
				s.returnsValue = true
			}
		}
	}, func(e ast.Expr) {
		if call, ok := e.(*ast.FuncCallExpr); ok {
			s.call(call)
		}
	})
}

// call records what a function call names: a screen in ui.screen,
// ui.prompt, ui.exit or ui.text, a module in require.
func (s *script) call(e *ast.FuncCallExpr) {
	if e.Receiver != nil {
		return // a method call, obj:name(...)
	}
	switch fn := e.Func.(type) {
	case *ast.IdentExpr:
		if fn.Value == "require" && len(e.Args) > 0 {
			if name, ok := e.Args[0].(*ast.StringExpr); ok {
				s.requires = append(s.requires, name.Value)
			}
		}
	case *ast.AttrGetExpr:
		mod, ok := fn.Object.(*ast.IdentExpr)
		if !ok || mod.Value != "ui" {
			return
		}
		method, ok := fn.Key.(*ast.StringExpr)
		if !ok {
			return
		}
		n, ok := screenArg(method.Value)
		if !ok || n >= len(e.Args) {
			return
		}
		for _, lit := range literals(e.Args[n]) {
			line := lit.Line()
			if line == 0 {
				line = e.Line()
			}
			s.screens = append(s.screens, screenUse{call: "ui." + method.Value, name: lit.Value, line: line})
		}
	}
}

// namesEntry reports whether assigning to e sets the global entry
// function: NAME or _G.NAME.
func namesEntry(e ast.Expr, entry string) bool {
	switch e := e.(type) {
	case *ast.IdentExpr:
		return e.Value == entry
	case *ast.AttrGetExpr:
		g, ok := e.Object.(*ast.IdentExpr)
		k, isString := e.Key.(*ast.StringExpr)
		return ok && isString && g.Value == "_G" && k.Value == entry
	}
	return false
}

// literals returns the string literals e may evaluate to: e itself, or the
// literal branches of and/or ("cond and 'a' or 'b'", "name or 'menu'").
// Anything computed is left out.
func literals(e ast.Expr) []*ast.StringExpr {
	switch e := e.(type) {
	case *ast.StringExpr:
		return []*ast.StringExpr{e}
	case *ast.LogicalOpExpr:
		if e.Operator == "and" {
			// A string on the left of 'and' is true, so never the result.
			return literals(e.Rhs)
		}
		return append(literals(e.Lhs), literals(e.Rhs)...)
	}
	return nil
}

// mayBeFunction reports whether e, returned by the main chunk, could be the
// entry function: it is not a literal of another type.
func mayBeFunction(e ast.Expr) bool {
	switch e.(type) {
	case ast.ConstExpr, *ast.TableExpr, *ast.Comma3Expr, *ast.RelationalOpExpr, *ast.UnaryNotOpExpr, *ast.UnaryLenOpExpr:
		return false
	}
	return e != nil
}
