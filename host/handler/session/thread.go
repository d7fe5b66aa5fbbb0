package session

import (
	"context"

	lua "github.com/yuin/gopher-lua"
)

// newThread creates a caller's coroutine with a context of its own, which
// its cancel function ends (a runaway script, the session's end).
//
// gopher-lua's NewThread would make the context a child of the table's:
// a child registers itself with its parent until it is cancelled, which
// costs each parked caller a few hundred bytes of a map as large as the
// table. The table cancels every session's context itself (remove, also
// from Close), so the parent has nothing to add.
func (t *Table) newThread() (*lua.LState, context.CancelFunc) {
	parent := t.L.RemoveContext()
	th, _ := t.L.NewThread() // no context to derive from: none made
	t.L.SetContext(parent)
	ctx, cancel := context.WithCancel(context.Background())
	th.SetContext(ctx)
	return th, cancel
}
