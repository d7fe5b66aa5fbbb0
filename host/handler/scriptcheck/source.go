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
	// parsed is false when the source has a syntax error.
	parsed bool
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
// entry function's global name.
func analyse(path string, src []byte, entry string) *script {
	s := &script{}
	lines := countLines(src)
	chunk, err := parse.Parse(bytes.NewReader(src), path)
	if err != nil {
		s.problems = append(s.problems, syntaxProblem(path, src, err))
		return s
	}
	s.parsed = true
	w := walker{s: s, entry: entry}
	w.stmts(chunk)
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
	case "screen", "prompt", "secret", "exit":
		return 2, true // ui.screen(conn, req, name)
	case "text":
		return 0, true // ui.text(name)
	}
	return 0, false
}

// walker visits a chunk's syntax tree, filling in a script.
type walker struct {
	s     *script
	entry string
	depth int // nesting of function bodies; 0 is the chunk itself
}

// stmts visits a block's statements in order.
func (w *walker) stmts(list []ast.Stmt) {
	for _, st := range list {
		w.stmt(st)
	}
}

// stmt visits one statement and the statements and expressions in it.
func (w *walker) stmt(st ast.Stmt) {
	switch st := st.(type) {
	case *ast.AssignStmt:
		for _, lhs := range st.Lhs {
			if w.namesEntry(lhs) {
				w.s.definesEntry = true
			}
		}
		w.exprs(st.Lhs)
		w.exprs(st.Rhs)
	case *ast.LocalAssignStmt:
		w.exprs(st.Exprs)
	case *ast.FuncCallStmt:
		w.expr(st.Expr)
	case *ast.DoBlockStmt:
		w.stmts(st.Stmts)
	case *ast.WhileStmt:
		w.expr(st.Condition)
		w.stmts(st.Stmts)
	case *ast.RepeatStmt:
		w.stmts(st.Stmts)
		w.expr(st.Condition)
	case *ast.IfStmt:
		w.expr(st.Condition)
		w.stmts(st.Then)
		w.stmts(st.Else)
	case *ast.NumberForStmt:
		w.expr(st.Init)
		w.expr(st.Limit)
		w.expr(st.Step)
		w.stmts(st.Stmts)
	case *ast.GenericForStmt:
		w.exprs(st.Exprs)
		w.stmts(st.Stmts)
	case *ast.FuncDefStmt:
		if st.Name != nil {
			if st.Name.Receiver == nil && w.namesEntry(st.Name.Func) {
				w.s.definesEntry = true
			}
			w.expr(st.Name.Func)
			w.expr(st.Name.Receiver)
		}
		if st.Func != nil {
			w.expr(st.Func)
		}
	case *ast.ReturnStmt:
		if w.depth == 0 && len(st.Exprs) > 0 && mayBeFunction(st.Exprs[0]) {
			w.s.returnsValue = true
		}
		w.exprs(st.Exprs)
	}
}

// exprs visits a list of expressions in order.
func (w *walker) exprs(list []ast.Expr) {
	for _, e := range list {
		w.expr(e)
	}
}

// expr visits one expression and those in it; nil is allowed.
func (w *walker) expr(e ast.Expr) {
	switch e := e.(type) {
	case *ast.AttrGetExpr:
		w.expr(e.Object)
		w.expr(e.Key)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			if f != nil {
				w.expr(f.Key)
				w.expr(f.Value)
			}
		}
	case *ast.FuncCallExpr:
		w.call(e)
		w.expr(e.Func)
		w.expr(e.Receiver)
		w.exprs(e.Args)
	case *ast.LogicalOpExpr:
		w.expr(e.Lhs)
		w.expr(e.Rhs)
	case *ast.RelationalOpExpr:
		w.expr(e.Lhs)
		w.expr(e.Rhs)
	case *ast.StringConcatOpExpr:
		w.expr(e.Lhs)
		w.expr(e.Rhs)
	case *ast.ArithmeticOpExpr:
		w.expr(e.Lhs)
		w.expr(e.Rhs)
	case *ast.UnaryMinusOpExpr:
		w.expr(e.Expr)
	case *ast.UnaryNotOpExpr:
		w.expr(e.Expr)
	case *ast.UnaryLenOpExpr:
		w.expr(e.Expr)
	case *ast.FunctionExpr:
		w.depth++
		w.stmts(e.Stmts)
		w.depth--
	}
}

// call records what a function call names: a screen in ui.screen,
// ui.prompt, ui.exit or ui.text, a module in require.
func (w *walker) call(e *ast.FuncCallExpr) {
	if e.Receiver != nil {
		return // a method call, obj:name(...)
	}
	switch fn := e.Func.(type) {
	case *ast.IdentExpr:
		if fn.Value == "require" && len(e.Args) > 0 {
			if name, ok := e.Args[0].(*ast.StringExpr); ok {
				w.s.requires = append(w.s.requires, name.Value)
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
			w.s.screens = append(w.s.screens, screenUse{call: "ui." + method.Value, name: lit.Value, line: line})
		}
	}
}

// namesEntry reports whether assigning to e sets the global entry
// function: NAME or _G.NAME.
func (w *walker) namesEntry(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.IdentExpr:
		return e.Value == w.entry
	case *ast.AttrGetExpr:
		g, ok := e.Object.(*ast.IdentExpr)
		k, isString := e.Key.(*ast.StringExpr)
		return ok && isString && g.Value == "_G" && k.Value == w.entry
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
