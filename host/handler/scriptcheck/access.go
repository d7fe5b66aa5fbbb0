package scriptcheck

import (
	"github.com/yuin/gopher-lua/ast"

	"github.com/m2bbs/m2bbs/host/handler/accessrule"
)

// checkAccessRules checks every access rule a script writes literally, as
// the `access` field of a table constructor (a menu item's, a message
// area's): one that does not compile would stop the board as it loads.
// Rules computed at run time are not checked.
func (c *checker) checkAccessRules() {
	for _, s := range c.scripts {
		if s.chunk == nil {
			continue
		}
		visit(s.chunk, nil, func(e ast.Expr) {
			t, ok := e.(*ast.TableExpr)
			if !ok {
				return
			}
			for _, f := range t.Fields {
				k, isKey := f.Key.(*ast.StringExpr)
				v, isString := f.Value.(*ast.StringExpr)
				if !isKey || !isString || k.Value != "access" {
					continue
				}
				if _, err := accessrule.Compile(v.Value); err != nil {
					c.add(Problem{File: s.path, Line: v.Line(), Msg: err.Error()})
				}
			}
		})
	}
}
