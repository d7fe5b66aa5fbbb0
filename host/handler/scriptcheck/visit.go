package scriptcheck

import "github.com/yuin/gopher-lua/ast"

// visit calls onStmt with every statement of stmts and how deep in
// function bodies it is (0 for the chunk itself), and onExpr with every
// expression, function bodies included, each before what it contains, in
// source order; either may be nil.
func visit(stmts []ast.Stmt, onStmt func(st ast.Stmt, depth int), onExpr func(ast.Expr)) {
	v := &visitor{onStmt: onStmt, onExpr: onExpr}
	v.stmts(stmts)
}

// visitor is one visit's callbacks and depth.
type visitor struct {
	onStmt func(ast.Stmt, int)
	onExpr func(ast.Expr)
	depth  int
}

func (v *visitor) stmts(list []ast.Stmt) {
	for _, st := range list {
		v.stmt(st)
	}
}

func (v *visitor) stmt(st ast.Stmt) {
	if v.onStmt != nil {
		v.onStmt(st, v.depth)
	}
	switch st := st.(type) {
	case *ast.AssignStmt:
		v.exprs(st.Lhs)
		v.exprs(st.Rhs)
	case *ast.LocalAssignStmt:
		v.exprs(st.Exprs)
	case *ast.FuncCallStmt:
		v.expr(st.Expr)
	case *ast.DoBlockStmt:
		v.stmts(st.Stmts)
	case *ast.WhileStmt:
		v.expr(st.Condition)
		v.stmts(st.Stmts)
	case *ast.RepeatStmt:
		v.stmts(st.Stmts)
		v.expr(st.Condition)
	case *ast.IfStmt:
		v.expr(st.Condition)
		v.stmts(st.Then)
		v.stmts(st.Else)
	case *ast.NumberForStmt:
		v.expr(st.Init)
		v.expr(st.Limit)
		v.expr(st.Step)
		v.stmts(st.Stmts)
	case *ast.GenericForStmt:
		v.exprs(st.Exprs)
		v.stmts(st.Stmts)
	case *ast.FuncDefStmt:
		if st.Name != nil {
			v.expr(st.Name.Func)
			v.expr(st.Name.Receiver)
		}
		if st.Func != nil {
			v.expr(st.Func)
		}
	case *ast.ReturnStmt:
		v.exprs(st.Exprs)
	}
}

func (v *visitor) exprs(list []ast.Expr) {
	for _, e := range list {
		v.expr(e)
	}
}

func (v *visitor) expr(e ast.Expr) {
	if e == nil {
		return
	}
	if v.onExpr != nil {
		v.onExpr(e)
	}
	switch e := e.(type) {
	case *ast.AttrGetExpr:
		v.expr(e.Object)
		v.expr(e.Key)
	case *ast.TableExpr:
		for _, f := range e.Fields {
			if f != nil {
				v.expr(f.Key)
				v.expr(f.Value)
			}
		}
	case *ast.FuncCallExpr:
		v.expr(e.Func)
		v.expr(e.Receiver)
		v.exprs(e.Args)
	case *ast.LogicalOpExpr:
		v.expr(e.Lhs)
		v.expr(e.Rhs)
	case *ast.RelationalOpExpr:
		v.expr(e.Lhs)
		v.expr(e.Rhs)
	case *ast.StringConcatOpExpr:
		v.expr(e.Lhs)
		v.expr(e.Rhs)
	case *ast.ArithmeticOpExpr:
		v.expr(e.Lhs)
		v.expr(e.Rhs)
	case *ast.UnaryMinusOpExpr:
		v.expr(e.Expr)
	case *ast.UnaryNotOpExpr:
		v.expr(e.Expr)
	case *ast.UnaryLenOpExpr:
		v.expr(e.Expr)
	case *ast.FunctionExpr:
		v.depth++
		v.stmts(e.Stmts)
		v.depth--
	}
}
