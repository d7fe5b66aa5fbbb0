package luaapi

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"

	"github.com/m2bbs/m2bbs/luaapi/luasyntax"
)

// Bounded concatenation. gopher-lua runs `..` in its VM: one instruction
// joins all the operands of a chain (a .. b .. c) at once, with no hook and
// no bound, so `s = s .. s .. s .. s` in a loop took gigabytes between two
// checks of the time budget. Every chunk the board loads (the main script,
// require, dofile, loadfile, loadstring, load) is therefore compiled with
// each chain of `..` replaced by a call of a Go function that joins the
// operands as the VM would and refuses, with "result too large", a result
// over MaxStringBytes. The function is held in a local of the chunk that
// no script can name, so no script can replace it.

// concatLocal is the chunk-level local holding the concatenation: not a
// valid Lua name, so no script can refer to it.
const concatLocal = "(concat)"

// LoadFile compiles the Lua file at path with bounded concatenation, as
// gopher-lua's LState.LoadFile does without it. A first line starting with
// # is skipped, its line kept empty so that errors name the file's own
// line numbers (as Lua 5.1's loadfile does).
func LoadFile(L *lua.LState, path string) (*lua.LFunction, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, &lua.ApiError{Type: lua.ApiErrorFile, Object: lua.LString(err.Error()), Cause: err}
	}
	if len(src) > 0 && src[0] == '#' {
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			src = src[i:]
		} else {
			src = nil
		}
	}
	return Load(L, bytes.NewReader(src), path)
}

// LoadString compiles src, named name in errors, with bounded
// concatenation.
func LoadString(L *lua.LState, src, name string) (*lua.LFunction, error) {
	return Load(L, strings.NewReader(src), name)
}

// Load compiles the chunk read from r, named name in errors, with bounded
// concatenation; the function returned runs in L's globals. A syntax error
// names the line of the mistake (see luasyntax).
func Load(L *lua.LState, r io.Reader, name string) (*lua.LFunction, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, &lua.ApiError{Type: lua.ApiErrorFile, Object: lua.LString(err.Error()), Cause: err}
	}
	chunk, err := parse.Parse(bytes.NewReader(src), name)
	if err != nil {
		err = luasyntax.Explain(src, err)
		return nil, &lua.ApiError{Type: lua.ApiErrorSyntax, Object: lua.LString(err.Error()), Cause: err}
	}
	boundConcat(chunk)
	// local (concat) = ...; return function(...) <chunk> end
	body := &ast.FunctionExpr{ParList: &ast.ParList{HasVargs: true}, Stmts: chunk}
	wrapper := []ast.Stmt{
		&ast.LocalAssignStmt{Names: []string{concatLocal}, Exprs: []ast.Expr{&ast.Comma3Expr{}}},
		&ast.ReturnStmt{Exprs: []ast.Expr{body}},
	}
	proto, err := lua.Compile(wrapper, name)
	if err != nil {
		msg := err.Error()
		var ce *lua.CompileError
		if errors.As(err, &ce) {
			msg = fmt.Sprintf("%s:%d: %s", name, ce.Line, ce.Message)
		}
		return nil, &lua.ApiError{Type: lua.ApiErrorSyntax, Object: lua.LString(msg), Cause: err}
	}
	L.Push(L.NewFunctionFromProto(proto))
	L.Push(L.NewFunction(concatOp))
	L.Call(1, 1)
	fn := L.Get(-1).(*lua.LFunction)
	L.Pop(1)
	return fn, nil
}

// concatOp is a .. b .. c: strings and numbers are joined, other operands
// go through their __concat metamethods from the right, as in Lua 5.1; a
// result over MaxStringBytes raises "result too large".
func concatOp(L *lua.LState) int {
	n := L.GetTop()
	parts := make([]string, 0, n)
	total := 0
	for i := 1; i <= n; i++ {
		v := L.Get(i)
		if !lua.LVCanConvToString(v) {
			return concatMeta(L, n)
		}
		s := lua.LVAsString(v)
		if total += len(s); total > MaxStringBytes {
			tooLarge(L, "..", MaxStringBytes, "bytes")
		}
		parts = append(parts, s)
	}
	L.Push(lua.LString(strings.Join(parts, "")))
	return 1
}

// concatMeta joins the n operands on L's stack pairwise from the right,
// calling __concat where an operand is neither a string nor a number.
func concatMeta(L *lua.LState, n int) int {
	rhs := L.Get(n)
	for i := n - 1; i >= 1; i-- {
		lhs := L.Get(i)
		if lua.LVCanConvToString(lhs) && lua.LVCanConvToString(rhs) {
			a, b := lua.LVAsString(lhs), lua.LVAsString(rhs)
			if len(a)+len(b) > MaxStringBytes {
				tooLarge(L, "..", MaxStringBytes, "bytes")
			}
			rhs = lua.LString(a + b)
			continue
		}
		mm := L.GetMetaField(lhs, "__concat")
		if mm == lua.LNil {
			mm = L.GetMetaField(rhs, "__concat")
		}
		if mm == lua.LNil {
			L.RaiseError("cannot perform concat operation between %s and %s", lhs.Type().String(), rhs.Type().String())
		}
		L.Push(mm)
		L.Push(lhs)
		L.Push(rhs)
		L.Call(2, 1)
		rhs = L.Get(-1)
		L.Pop(1)
	}
	L.Push(rhs)
	return 1
}

// boundConcat replaces every chain of `..` in stmts.
func boundConcat(stmts []ast.Stmt) {
	for _, s := range stmts {
		boundStmt(s)
	}
}

// boundStmt replaces the chains of `..` in one statement.
func boundStmt(s ast.Stmt) {
	switch s := s.(type) {
	case *ast.AssignStmt:
		boundExprs(s.Lhs)
		boundExprs(s.Rhs)
	case *ast.LocalAssignStmt:
		boundExprs(s.Exprs)
	case *ast.FuncCallStmt:
		s.Expr = boundExpr(s.Expr)
	case *ast.DoBlockStmt:
		boundConcat(s.Stmts)
	case *ast.WhileStmt:
		s.Condition = boundExpr(s.Condition)
		boundConcat(s.Stmts)
	case *ast.RepeatStmt:
		s.Condition = boundExpr(s.Condition)
		boundConcat(s.Stmts)
	case *ast.IfStmt:
		s.Condition = boundExpr(s.Condition)
		boundConcat(s.Then)
		boundConcat(s.Else)
	case *ast.NumberForStmt:
		s.Init, s.Limit = boundExpr(s.Init), boundExpr(s.Limit)
		if s.Step != nil {
			s.Step = boundExpr(s.Step)
		}
		boundConcat(s.Stmts)
	case *ast.GenericForStmt:
		boundExprs(s.Exprs)
		boundConcat(s.Stmts)
	case *ast.FuncDefStmt:
		if s.Name != nil {
			s.Name.Func = boundExpr(s.Name.Func)
			s.Name.Receiver = boundExpr(s.Name.Receiver)
		}
		boundConcat(s.Func.Stmts)
	case *ast.ReturnStmt:
		boundExprs(s.Exprs)
	}
}

// boundExprs replaces the chains of `..` in each of exprs.
func boundExprs(exprs []ast.Expr) {
	for i, e := range exprs {
		exprs[i] = boundExpr(e)
	}
}

// boundExpr returns e with its chains of `..` replaced by calls of the
// chunk's bounded concatenation.
func boundExpr(e ast.Expr) ast.Expr {
	switch e := e.(type) {
	case nil:
		return nil
	case *ast.StringConcatOpExpr:
		return concatCall(e)
	case *ast.AttrGetExpr:
		e.Object, e.Key = boundExpr(e.Object), boundExpr(e.Key)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			f.Key, f.Value = boundExpr(f.Key), boundExpr(f.Value)
		}
	case *ast.FuncCallExpr:
		e.Func, e.Receiver = boundExpr(e.Func), boundExpr(e.Receiver)
		boundExprs(e.Args)
	case *ast.LogicalOpExpr:
		e.Lhs, e.Rhs = boundExpr(e.Lhs), boundExpr(e.Rhs)
	case *ast.RelationalOpExpr:
		e.Lhs, e.Rhs = boundExpr(e.Lhs), boundExpr(e.Rhs)
	case *ast.ArithmeticOpExpr:
		e.Lhs, e.Rhs = boundExpr(e.Lhs), boundExpr(e.Rhs)
	case *ast.UnaryMinusOpExpr:
		e.Expr = boundExpr(e.Expr)
	case *ast.UnaryNotOpExpr:
		e.Expr = boundExpr(e.Expr)
	case *ast.UnaryLenOpExpr:
		e.Expr = boundExpr(e.Expr)
	case *ast.FunctionExpr:
		boundConcat(e.Stmts)
	}
	return e
}

// concatCall is the call (concat)(a, b, c...) for the chain a .. b .. c
// (right-associative, so the chain runs down the right operands), keeping
// its line for error messages. Each operand gives one value, as under `..`.
func concatCall(e *ast.StringConcatOpExpr) ast.Expr {
	var args []ast.Expr
	for {
		args = append(args, oneValue(boundExpr(e.Lhs)))
		next, ok := e.Rhs.(*ast.StringConcatOpExpr)
		if !ok {
			args = append(args, oneValue(boundExpr(e.Rhs)))
			break
		}
		e = next
	}
	fn := &ast.IdentExpr{Value: concatLocal}
	call := &ast.FuncCallExpr{Func: fn, Args: args, AdjustRet: true}
	for _, n := range []interface {
		SetLine(int)
		SetLastLine(int)
	}{fn, call} {
		n.SetLine(e.Line())
		n.SetLastLine(e.LastLine())
	}
	return call
}

// oneValue makes a call or ... give exactly one value, as an operand of
// `..` does.
func oneValue(e ast.Expr) ast.Expr {
	switch e := e.(type) {
	case *ast.FuncCallExpr:
		e.AdjustRet = true
	case *ast.Comma3Expr:
		e.AdjustRet = true
	}
	return e
}

// openBoundedLoaders replaces dofile, loadfile, loadstring, load and
// require's loader of Lua files with versions that compile with bounded
// concatenation.
func openBoundedLoaders(L *lua.LState) {
	globals := L.Get(lua.GlobalsIndex).(*lua.LTable)
	globals.RawSetString("loadstring", L.NewFunction(func(L *lua.LState) int {
		fn, err := LoadString(L, L.CheckString(1), L.OptString(2, "<string>"))
		return loaded(L, fn, err)
	}))
	globals.RawSetString("loadfile", L.NewFunction(func(L *lua.LState) int {
		fn, err := LoadFile(L, scriptPath(L, L.CheckString(1)))
		return loaded(L, fn, err)
	}))
	globals.RawSetString("load", L.NewFunction(loadReader))
	globals.RawSetString("dofile", L.NewFunction(func(L *lua.LState) int {
		fn, err := LoadFile(L, scriptPath(L, L.CheckString(1)))
		if err != nil {
			L.Error(lua.LString(loadMessage(err)), 0) // it names its file and line
		}
		top := L.GetTop()
		L.Push(fn)
		L.Call(0, lua.MultRet)
		return L.GetTop() - top
	}))
	guardConcatUpvalue(L, globals)
	pkg, ok := globals.RawGetString("package").(*lua.LTable)
	if !ok {
		return
	}
	if loaders, ok := pkg.RawGetString("loaders").(*lua.LTable); ok && loaders.Len() >= 2 {
		loaders.RawSetInt(2, L.NewFunction(loadModuleFile))
	}
}

// loaded pushes what loadstring and loadfile return: the function, or nil
// and the error.
func loaded(L *lua.LState, fn *lua.LFunction, err error) int {
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	L.Push(fn)
	return 1
}

// loadReader is load(fn [, name]): the chunk is the pieces fn returns
// until nil or "", at most MaxStringBytes in all.
func loadReader(L *lua.LState) int {
	reader := L.CheckFunction(1)
	name := L.OptString(2, "=(load)")
	var b strings.Builder
	for {
		L.Push(reader)
		L.Call(0, 1)
		piece := L.Get(-1)
		L.Pop(1)
		if piece == lua.LNil {
			break
		}
		s, ok := piece.(lua.LString)
		if !ok {
			L.Push(lua.LNil)
			L.Push(lua.LString("reader function must return a string"))
			return 2
		}
		if s == "" {
			break
		}
		if b.Len()+len(s) > MaxStringBytes {
			tooLarge(L, "load", MaxStringBytes, "bytes")
		}
		b.WriteString(string(s))
	}
	fn, err := LoadString(L, b.String(), name)
	return loaded(L, fn, err)
}

// loadModuleFile is require's loader of Lua files: it finds name along
// package.path as Lua 5.1 does and compiles the file.
func loadModuleFile(L *lua.LState) int {
	path, tried := searchPath(L, L.CheckString(1))
	if path == "" {
		L.Push(lua.LString(tried))
		return 1
	}
	fn, err := LoadFile(L, path)
	if err != nil {
		// Lua 5.1's words, with no position of the require: the message
		// names the file and line of the mistake.
		L.Error(lua.LString(fmt.Sprintf("error loading module '%s' from file '%s':\n\t%s", L.CheckString(1), path, loadMessage(err))), 0)
	}
	L.Push(fn)
	return 1
}

// searchPath finds module name's file along package.path as Lua 5.1 does:
// the first that exists, or "" and the list of files tried.
func searchPath(L *lua.LState, name string) (path, tried string) {
	packagePath, ok := L.GetField(L.GetGlobal("package"), "path").(lua.LString)
	if !ok {
		L.RaiseError("package.path must be a string")
	}
	file := strings.ReplaceAll(name, ".", string(os.PathSeparator))
	var b strings.Builder
	for _, pattern := range strings.Split(string(packagePath), ";") {
		candidate := strings.ReplaceAll(pattern, "?", file)
		if _, err := os.Stat(candidate); err != nil {
			fmt.Fprintf(&b, "\n\tno file '%s'", candidate)
			continue
		}
		return candidate, ""
	}
	return "", b.String()
}

// loadMessage is the message of an error from Load or LoadFile.
func loadMessage(err error) string {
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) && apiErr.Object != nil {
		return apiErr.Object.String()
	}
	return err.Error()
}

// guardConcatUpvalue makes debug.setupvalue refuse to replace a chunk's
// concatenation: every closure of the chunk, in every session, shares it.
func guardConcatUpvalue(L *lua.LState, globals *lua.LTable) {
	debug, ok := globals.RawGetString("debug").(*lua.LTable)
	if !ok {
		return
	}
	getup, ok1 := debug.RawGetString("getupvalue").(*lua.LFunction)
	setup, ok2 := debug.RawGetString("setupvalue").(*lua.LFunction)
	if !ok1 || !ok2 {
		return
	}
	debug.RawSetString("setupvalue", L.NewFunction(func(L *lua.LState) int {
		L.Push(getup)
		L.Push(L.Get(1))
		L.Push(L.Get(2))
		L.Call(2, 1)
		name := L.Get(-1)
		L.Pop(1)
		if name == lua.LString(concatLocal) {
			L.RaiseError("debug.setupvalue: %s is shared by every caller and cannot be changed", concatLocal)
		}
		return callThrough(L, setup)
	}))
}
