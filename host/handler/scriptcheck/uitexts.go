package scriptcheck

import (
	"fmt"
	"slices"

	"github.com/yuin/gopher-lua/ast"
)

// uiText says where a function of a script-side ui module looks its text
// up: arg is the 0-based argument holding the name, table the variable it
// indexes, keys the names that table holds.
type uiText struct {
	arg   int
	table string
	keys  map[string]bool
}

// uiTexts reads, from the source of a ui module the scripts provide (the
// 2010 board's ui.lua keeps its texts in a table, SCREENS[name]), which of
// its functions look a text up by an argument, and in which table. Only a
// table that is a local of the chunk's top level, built by a constructor
// whose keys are all literal strings and never assigned to afterwards, is
// known; functions looking elsewhere are left out, and their names go
// unchecked.
func uiTexts(chunk []ast.Stmt) map[string]uiText {
	tables := make(map[string]map[string]bool)
	for _, st := range chunk {
		la, ok := st.(*ast.LocalAssignStmt)
		if !ok {
			continue
		}
		for i, name := range la.Names {
			if i < len(la.Exprs) {
				if keys, ok := literalKeys(la.Exprs[i]); ok {
					tables[name] = keys
				}
			}
		}
	}
	for name := range assignedTables(chunk) {
		delete(tables, name) // filled in at run time: its keys are not known
	}
	out := make(map[string]uiText)
	for _, st := range chunk {
		name, fn := topLevelFunction(st)
		if fn == nil || fn.ParList == nil {
			continue
		}
		for table, param := range indexesByParam(fn.Stmts) {
			arg := slices.Index(fn.ParList.Names, param)
			if keys, ok := tables[table]; ok && arg >= 0 {
				out[name] = uiText{arg: arg, table: table, keys: keys}
			}
		}
	}
	return out
}

// literalKeys returns the keys of a table constructor whose keys are all
// literal strings.
func literalKeys(e ast.Expr) (map[string]bool, bool) {
	t, ok := e.(*ast.TableExpr)
	if !ok || len(t.Fields) == 0 {
		return nil, false
	}
	keys := make(map[string]bool)
	for _, f := range t.Fields {
		k, ok := f.Key.(*ast.StringExpr)
		if !ok {
			return nil, false
		}
		keys[k.Value] = true
	}
	return keys, true
}

// topLevelFunction returns the name and body of function NAME(...),
// function M.NAME(...) or NAME = function(...) at a chunk's top level.
func topLevelFunction(st ast.Stmt) (string, *ast.FunctionExpr) {
	switch st := st.(type) {
	case *ast.FuncDefStmt:
		if st.Name == nil || st.Name.Receiver != nil {
			return "", nil
		}
		return lastName(st.Name.Func), st.Func
	case *ast.AssignStmt:
		if len(st.Lhs) == 1 && len(st.Rhs) == 1 {
			if fn, ok := st.Rhs[0].(*ast.FunctionExpr); ok {
				return lastName(st.Lhs[0]), fn
			}
		}
	}
	return "", nil
}

// lastName is NAME in NAME or a.b.NAME.
func lastName(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.IdentExpr:
		return e.Value
	case *ast.AttrGetExpr:
		if k, ok := e.Key.(*ast.StringExpr); ok {
			return k.Value
		}
	}
	return ""
}

// indexesByParam returns, for each TABLE[NAME] in stmts where both are
// plain names, the NAME used to index TABLE.
func indexesByParam(stmts []ast.Stmt) map[string]string {
	out := make(map[string]string)
	visit(stmts, nil, func(e ast.Expr) {
		if a, ok := e.(*ast.AttrGetExpr); ok {
			t, ok1 := a.Object.(*ast.IdentExpr)
			k, ok2 := a.Key.(*ast.IdentExpr)
			if ok1 && ok2 {
				out[t.Value] = k.Value
			}
		}
	})
	return out
}

// assignedTables returns the names N assigned to as N[k] = v or N.k = v
// anywhere in stmts.
func assignedTables(stmts []ast.Stmt) map[string]bool {
	out := make(map[string]bool)
	visit(stmts, func(st ast.Stmt, _ int) {
		if as, ok := st.(*ast.AssignStmt); ok {
			for _, lhs := range as.Lhs {
				if a, ok := lhs.(*ast.AttrGetExpr); ok {
					if id, ok := a.Object.(*ast.IdentExpr); ok {
						out[id.Value] = true
					}
				}
			}
		}
	}, nil)
	return out
}

// checkTextUse reports a text name a script passes to a function of the
// scripts' own ui module that its text table does not hold.
func (c *checker) checkTextUse(path string, ui *script, texts map[string]uiText, use screenUse) {
	fn := use.call[len("ui."):]
	t, ok := texts[fn]
	if !ok {
		return
	}
	if n, _ := screenArg(fn); n != t.arg || t.keys[use.name] {
		return
	}
	c.add(Problem{File: path, Line: use.line, Msg: fmt.Sprintf("%s: no text %q in %s's %s", use.call, use.name, ui.path, t.table)})
}
