package session

import (
	"context"

	lua "github.com/yuin/gopher-lua"
)

// A caller's coroutine starts with a value stack (gopher-lua's registry)
// of threadRegistrySize slots, grown by threadRegistryGrowStep as its
// script needs more, up to the state's RegistryMaxSize. The shipped
// board's callers wait at its menu within 32 slots (0.5 KiB) where the
// state's 128 cost 2 KiB each. gopher-lua refuses a registry smaller than
// 128 for a new state, not for a thread of it: a thread's registry grows
// on demand like any growable one, and never shrinks.
const (
	threadRegistrySize     = 32
	threadRegistryGrowStep = 32
)

// threadOptions are the options of a caller's coroutine: the state's,
// with a smaller initial registry if the state's is growable.
func threadOptions(o lua.Options) lua.Options {
	if o.RegistryMaxSize <= o.RegistrySize {
		return o // a fixed registry: it must be as large as configured
	}
	o.RegistrySize = min(o.RegistrySize, threadRegistrySize)
	if o.RegistryGrowStep <= 0 || o.RegistryGrowStep > threadRegistryGrowStep {
		o.RegistryGrowStep = threadRegistryGrowStep
	}
	return o
}

// newThread creates a caller's coroutine (see threadOptions) with a
// context of its own, which its cancel function ends (a runaway script,
// the session's end).
//
// gopher-lua's NewThread would make the context a child of the table's:
// a child registers itself with its parent until it is cancelled, which
// costs each parked caller a few hundred bytes of a map as large as the
// table. The table cancels every session's context itself (remove, also
// from Close), so the parent has nothing to add.
func (t *Table) newThread() (*lua.LState, context.CancelFunc) {
	parent := t.L.RemoveContext()
	opts := t.L.Options
	t.L.Options = threadOptions(opts) // NewThread takes the state's
	th, _ := t.L.NewThread()          // no context to derive from: none made
	t.L.Options = opts
	t.L.SetContext(parent)
	ctx, cancel := newVMContext() // checked before each instruction: vmctx.go
	th.SetContext(ctx)
	return th, cancel
}
