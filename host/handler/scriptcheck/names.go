package scriptcheck

import (
	"slices"

	"github.com/yuin/gopher-lua/ast"
)

// facts is what the name resolver learns from one script: the globals it
// reads and sets, the modules it requires, and a graph of its functions
// and of what they refer to, for the check's lint and its reachability
// from the entry function.
type facts struct {
	// module is set by a module('name', ...) call at the top level.
	module *moduleDecl
	// menv holds the globals written after module(...): they are the
	// module table's fields, not globals of _G.
	menv *env
	// reads are the global names read, in source order.
	reads []globalRead
	// requires are the literal require calls.
	requires []requireUse
	// funcs are every function in the script, in source order.
	funcs []*funcNode
	// entryRefs is what the chunk's top-level return and the entry of
	// engine.run(conn, entry) refer to: the main script's entry, or what
	// a module exports.
	entryRefs refs
	// engineRun is set when the chunk calls engine.run(conn, f) at its
	// top level: the original 2010 way of installing the entry.
	engineRun bool
}

// moduleDecl is a module('name', ...) call at a script's top level.
type moduleDecl struct {
	name   string // "" for module(...)
	seeall bool   // it has options, such as package.seeall
	line   int
}

// env is a table of globals: _G, shared by every script, or a module's
// own table after module(...).
type env struct {
	vars map[string]*binding
}

func newEnv() *env { return &env{vars: make(map[string]*binding)} }

// get returns the binding of name, creating it on first use.
func (e *env) get(name string) *binding {
	b := e.vars[name]
	if b == nil {
		b = &binding{name: name, global: true, topLevel: true}
		e.vars[name] = b
	}
	return b
}

// binding is a variable: a local of some scope or a global of an env.
type binding struct {
	name   string
	global bool
	// topLevel is set for globals and for locals of a chunk's top level
	// (outside any function): values every caller on a Lua state shares.
	topLevel bool
	// table is set when the top level gives it a table constructor.
	table bool
	// defined is set for a global assigned anywhere.
	defined bool
	// refs is what the values assigned to it, or to its fields, refer to.
	refs refs
}

// refs is what an expression or a function body refers to.
type refs struct {
	vars    []*binding
	funcs   []*funcNode
	modules []moduleRef
}

// moduleRef is a module named in a require call: its literal name, or the
// literal start of a name built at run time (require('doors.' .. name)).
type moduleRef struct {
	name   string
	prefix bool
}

// funcNode is one function of a script.
type funcNode struct {
	refs   refs
	writes []tableWrite
}

// tableWrite is a function writing into a table held in a top-level
// variable: NAME[k] = v, NAME.k = v, table.insert(NAME, ...).
type tableWrite struct {
	v    *binding
	line int
}

// globalRead is a global name read by a script.
type globalRead struct {
	name string
	line int
	// inModule is set for a read after module(...), where globals are
	// the module table's fields (and _G's only with package.seeall).
	inModule bool
	// defaulted is set for NAME in NAME or default: a global that may
	// well be nil, read to test it.
	defaulted bool
}

// requireUse is a require call with a literal module name.
type requireUse struct {
	name     string
	line     int
	topLevel bool // runs when the script loads, not inside a function
}

// resolver walks one chunk keeping its scopes, filling in facts.
type resolver struct {
	f      *facts
	genv   *env
	scopes []map[string]*binding
	depth  int       // nesting of function bodies; 0 is the chunk itself
	fn     *funcNode // the function being walked; nil at the top level
	// sinks receive what the expression being walked refers to: the
	// current function's refs and, in the value of an assignment, the
	// assigned variable's.
	sinks []*refs
	chunk refs
}

// resolve walks chunk, sharing genv (the globals of _G) with the other
// scripts of the board.
func resolve(chunk []ast.Stmt, genv *env) *facts {
	r := &resolver{f: &facts{}, genv: genv}
	r.sinks = []*refs{&r.chunk}
	r.push()
	r.stmts(chunk)
	return r.f
}

func (r *resolver) push() { r.scopes = append(r.scopes, make(map[string]*binding)) }
func (r *resolver) pop()  { r.scopes = r.scopes[:len(r.scopes)-1] }

// declare makes a local in the innermost scope.
func (r *resolver) declare(name string) *binding {
	b := &binding{name: name, topLevel: r.depth == 0}
	r.scopes[len(r.scopes)-1][name] = b
	return b
}

// local returns the local name is bound to, or nil for a global.
func (r *resolver) local(name string) *binding {
	for i := len(r.scopes) - 1; i >= 0; i-- {
		if b := r.scopes[i][name]; b != nil {
			return b
		}
	}
	return nil
}

// global returns the global name as the code being walked sees it.
func (r *resolver) global(name string) *binding {
	if r.f.menv != nil {
		return r.f.menv.get(name)
	}
	return r.genv.get(name)
}

// isGlobal reports whether e is the global name, not shadowed by a local.
func (r *resolver) isGlobal(e ast.Expr, name string) bool {
	id, ok := e.(*ast.IdentExpr)
	return ok && id.Value == name && r.local(name) == nil
}

// referVar adds b to every sink.
func (r *resolver) referVar(b *binding) {
	for _, s := range r.sinks {
		s.vars = append(s.vars, b)
	}
}

// referModule adds m to every sink.
func (r *resolver) referModule(m moduleRef) {
	for _, s := range r.sinks {
		s.modules = append(s.modules, m)
	}
}

// into walks fn with extra also receiving references.
func (r *resolver) into(extra *refs, fn func()) {
	if extra == nil {
		fn()
		return
	}
	r.sinks = append(r.sinks, extra)
	fn()
	r.sinks = r.sinks[:len(r.sinks)-1]
}

// block walks stmts in a scope of their own.
func (r *resolver) block(stmts []ast.Stmt) {
	r.push()
	r.stmts(stmts)
	r.pop()
}

func (r *resolver) stmts(list []ast.Stmt) {
	for _, st := range list {
		r.stmt(st)
	}
}

func (r *resolver) stmt(st ast.Stmt) {
	switch st := st.(type) {
	case *ast.AssignStmt:
		r.assign(st)
	case *ast.LocalAssignStmt:
		r.localAssign(st)
	case *ast.FuncCallStmt:
		r.callStmt(st)
	case *ast.DoBlockStmt:
		r.block(st.Stmts)
	case *ast.WhileStmt:
		r.expr(st.Condition)
		r.block(st.Stmts)
	case *ast.RepeatStmt:
		r.push() // until sees the body's locals
		r.stmts(st.Stmts)
		r.expr(st.Condition)
		r.pop()
	case *ast.IfStmt:
		r.expr(st.Condition)
		r.block(st.Then)
		r.block(st.Else)
	case *ast.NumberForStmt:
		r.expr(st.Init)
		r.expr(st.Limit)
		r.expr(st.Step)
		r.push()
		r.declare(st.Name)
		r.stmts(st.Stmts)
		r.pop()
	case *ast.GenericForStmt:
		r.exprs(st.Exprs)
		r.push()
		for _, n := range st.Names {
			r.declare(n)
		}
		r.stmts(st.Stmts)
		r.pop()
	case *ast.FuncDefStmt:
		r.funcDef(st)
	case *ast.ReturnStmt:
		var extra *refs
		if r.depth == 0 {
			extra = &r.f.entryRefs
		}
		r.into(extra, func() { r.exprs(st.Exprs) })
	}
}

// assign walks NAME = v, obj.k = v and obj[k] = v.
func (r *resolver) assign(st *ast.AssignStmt) {
	for i, lhs := range st.Lhs {
		target := r.target(lhs, st.Line())
		if i < len(st.Rhs) {
			var extra *refs
			if target != nil {
				extra = &target.refs
				if _, ok := st.Rhs[i].(*ast.TableExpr); ok && r.depth == 0 && isIdent(lhs) {
					target.table = true
				}
			}
			r.into(extra, func() { r.expr(st.Rhs[i]) })
		}
	}
	for _, rhs := range st.Rhs[min(len(st.Lhs), len(st.Rhs)):] {
		r.expr(rhs)
	}
}

func isIdent(e ast.Expr) bool {
	_, ok := e.(*ast.IdentExpr)
	return ok
}

// target walks the left side of an assignment and returns the variable
// whose value (or a field of it) is assigned, if known.
func (r *resolver) target(lhs ast.Expr, line int) *binding {
	switch lhs := lhs.(type) {
	case *ast.IdentExpr:
		if b := r.local(lhs.Value); b != nil {
			return b
		}
		b := r.global(lhs.Value)
		b.defined = true
		return b
	case *ast.AttrGetExpr:
		r.expr(lhs.Key)
		if r.isGlobal(lhs.Object, "_G") {
			if k, ok := lhs.Key.(*ast.StringExpr); ok {
				r.expr(lhs.Object)
				b := r.genv.get(k.Value)
				b.defined = true
				return b
			}
		}
		r.expr(lhs.Object)
		if id, ok := lhs.Object.(*ast.IdentExpr); ok {
			b := r.variable(id.Value)
			r.write(b, line)
			return b
		}
	}
	return nil
}

// variable returns the binding name resolves to where the walk is.
func (r *resolver) variable(name string) *binding {
	if b := r.local(name); b != nil {
		return b
	}
	return r.global(name)
}

// write records a function writing into the table held in b.
func (r *resolver) write(b *binding, line int) {
	if r.fn != nil && b.topLevel {
		r.fn.writes = append(r.fn.writes, tableWrite{v: b, line: line})
	}
}

// localAssign walks local a, b = x, y and local function f.
func (r *resolver) localAssign(st *ast.LocalAssignStmt) {
	// local function f can call itself; local f = function can't, but
	// telling them apart is not worth a false report.
	if len(st.Names) == 1 && len(st.Exprs) == 1 {
		if fe, ok := st.Exprs[0].(*ast.FunctionExpr); ok {
			b := r.declare(st.Names[0])
			r.into(&b.refs, func() { r.function(fe, false) })
			return
		}
	}
	vals := make([]*refs, len(st.Names))
	bs := make([]*binding, len(st.Names))
	for i := range st.Names {
		bs[i] = &binding{name: st.Names[i], topLevel: r.depth == 0}
		vals[i] = &bs[i].refs
	}
	for i, e := range st.Exprs {
		var extra *refs
		if i < len(bs) {
			extra = vals[i]
			if _, ok := e.(*ast.TableExpr); ok && r.depth == 0 {
				bs[i].table = true
			}
		}
		r.into(extra, func() { r.expr(e) })
	}
	for _, b := range bs {
		r.scopes[len(r.scopes)-1][b.name] = b
	}
}

// funcDef walks function f(), function a.b.c() and function a:m().
func (r *resolver) funcDef(st *ast.FuncDefStmt) {
	name := st.Name
	if name == nil || st.Func == nil {
		return
	}
	var target *binding
	method := false
	switch {
	case name.Receiver != nil:
		method = true
		r.expr(name.Receiver)
		if id, ok := name.Receiver.(*ast.IdentExpr); ok {
			target = r.variable(id.Value)
			r.write(target, st.Line())
		}
	default:
		// function f(), function M.f() and function _G.f() assign as
		// f = ..., M.f = ... and _G.f = ... do.
		target = r.target(name.Func, st.Line())
		if target != nil {
			break
		}
		// function a.b.f(): the value is reachable through a.
		root := name.Func
		for {
			a, ok := root.(*ast.AttrGetExpr)
			if !ok {
				break
			}
			root = a.Object
		}
		if id, ok := root.(*ast.IdentExpr); ok {
			target = r.variable(id.Value)
		}
	}
	var extra *refs
	if target != nil {
		extra = &target.refs
	}
	r.into(extra, func() { r.function(st.Func, method) })
}

// function walks a function's body as a node of its own.
func (r *resolver) function(e *ast.FunctionExpr, method bool) {
	n := &funcNode{}
	r.f.funcs = append(r.f.funcs, n)
	for _, s := range r.sinks {
		s.funcs = append(s.funcs, n)
	}
	savedSinks, savedFn := r.sinks, r.fn
	r.sinks, r.fn = []*refs{&n.refs}, n
	r.depth++
	r.push()
	if method {
		r.declare("self")
	}
	if e.ParList != nil {
		for _, p := range e.ParList.Names {
			r.declare(p)
		}
		if e.ParList.HasVargs {
			r.declare("arg") // Lua 5.1's implicit table of the extra arguments
		}
	}
	r.stmts(e.Stmts)
	r.pop()
	r.depth--
	r.sinks, r.fn = savedSinks, savedFn
}

// callStmt walks a call made as a statement, which may be module(...) or
// engine.run(conn, f) at the top level.
func (r *resolver) callStmt(st *ast.FuncCallStmt) {
	call, ok := st.Expr.(*ast.FuncCallExpr)
	if !ok {
		r.expr(st.Expr)
		return
	}
	if r.depth == 0 && call.Receiver == nil {
		if r.isGlobal(call.Func, "module") && r.f.module == nil {
			r.moduleCall(call)
			return
		}
		if a, ok := call.Func.(*ast.AttrGetExpr); ok && len(call.Args) >= 2 && r.isEngine(a.Object) && isString(a.Key, "run") {
			r.f.engineRun = true
			r.expr(call.Func)
			r.expr(call.Args[0])
			r.into(&r.f.entryRefs, func() { r.expr(call.Args[1]) })
			r.exprs(call.Args[2:])
			return
		}
	}
	r.expr(call)
}

// isEngine reports whether e names the engine module: engine, or a local
// given require 'engine'.
func (r *resolver) isEngine(e ast.Expr) bool {
	id, ok := e.(*ast.IdentExpr)
	if !ok {
		return false
	}
	if id.Value == "engine" {
		return true
	}
	b := r.local(id.Value)
	return b != nil && slices.Contains(b.refs.modules, moduleRef{name: "engine"})
}

func isString(e ast.Expr, s string) bool {
	str, ok := e.(*ast.StringExpr)
	return ok && str.Value == s
}

// moduleCall walks module('name', ...): from here on the chunk's globals
// are the module's fields, and _G gains the global name.
func (r *resolver) moduleCall(call *ast.FuncCallExpr) {
	r.expr(call.Func)
	r.exprs(call.Args)
	d := &moduleDecl{line: call.Line()}
	if len(call.Args) > 0 {
		if s, ok := call.Args[0].(*ast.StringExpr); ok {
			d.name = s.Value
		}
	}
	// package.seeall, or any other option: an option is a function of
	// the module table, which may well give it a metatable as seeall does.
	d.seeall = len(call.Args) > 1
	r.f.module = d
	r.f.menv = newEnv()
	// module() sets these fields of the module table.
	for _, name := range []string{"_M", "_NAME", "_PACKAGE"} {
		r.f.menv.get(name).defined = true
	}
}

func (r *resolver) exprs(list []ast.Expr) {
	for _, e := range list {
		r.expr(e)
	}
}

// expr walks an expression; nil is allowed.
func (r *resolver) expr(e ast.Expr) {
	switch e := e.(type) {
	case *ast.IdentExpr:
		if b := r.local(e.Value); b != nil {
			r.referVar(b)
			return
		}
		r.f.reads = append(r.f.reads, globalRead{name: e.Value, line: e.Line(), inModule: r.f.menv != nil})
		b := r.global(e.Value)
		r.referVar(b)
		if r.f.menv != nil {
			r.referVar(r.genv.get(e.Value)) // package.seeall, or not: keep the graph generous
		}
	case *ast.AttrGetExpr:
		r.expr(e.Object)
		r.expr(e.Key)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			if f != nil {
				r.expr(f.Key)
				r.expr(f.Value)
			}
		}
	case *ast.FuncCallExpr:
		r.call(e)
	case *ast.LogicalOpExpr:
		n := len(r.f.reads)
		r.expr(e.Lhs)
		if _, ok := e.Lhs.(*ast.IdentExpr); ok && e.Operator == "or" && len(r.f.reads) == n+1 {
			r.f.reads[n].defaulted = true
		}
		r.expr(e.Rhs)
	case *ast.RelationalOpExpr:
		r.expr(e.Lhs)
		r.expr(e.Rhs)
	case *ast.StringConcatOpExpr:
		r.expr(e.Lhs)
		r.expr(e.Rhs)
	case *ast.ArithmeticOpExpr:
		r.expr(e.Lhs)
		r.expr(e.Rhs)
	case *ast.UnaryMinusOpExpr:
		r.expr(e.Expr)
	case *ast.UnaryNotOpExpr:
		r.expr(e.Expr)
	case *ast.UnaryLenOpExpr:
		r.expr(e.Expr)
	case *ast.FunctionExpr:
		r.function(e, false)
	}
}

// call walks a call, noting require, table.insert/remove and rawset.
func (r *resolver) call(e *ast.FuncCallExpr) {
	r.expr(e.Func)
	r.expr(e.Receiver)
	r.exprs(e.Args)
	if e.Receiver != nil || len(e.Args) == 0 {
		return
	}
	switch {
	case r.isGlobal(e.Func, "require"):
		switch arg := e.Args[0].(type) {
		case *ast.StringExpr:
			line := arg.Line()
			if line == 0 {
				line = e.Line()
			}
			r.f.requires = append(r.f.requires, requireUse{name: arg.Value, line: line, topLevel: r.depth == 0})
			r.referModule(moduleRef{name: arg.Value})
		case *ast.StringConcatOpExpr:
			if s, ok := arg.Lhs.(*ast.StringExpr); ok {
				r.referModule(moduleRef{name: s.Value, prefix: true})
			}
		}
	case r.isGlobal(e.Func, "rawset"):
		if r.isGlobal(e.Args[0], "_G") && len(e.Args) > 1 {
			if k, ok := e.Args[1].(*ast.StringExpr); ok {
				r.genv.get(k.Value).defined = true
			}
			return
		}
		r.argWrite(e)
	default:
		if a, ok := e.Func.(*ast.AttrGetExpr); ok && r.isGlobal(a.Object, "table") {
			for _, fn := range []string{"insert", "remove", "sort"} {
				if isString(a.Key, fn) {
					r.argWrite(e)
				}
			}
		}
	}
}

// argWrite records a write into the table that is e's first argument.
func (r *resolver) argWrite(e *ast.FuncCallExpr) {
	if id, ok := e.Args[0].(*ast.IdentExpr); ok {
		r.write(r.variable(id.Value), e.Line())
	}
}
