package session

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// DefaultLoadBudget bounds how long the main script may run when it is
// loaded (Config.LoadBudget): it defines the entry and returns. A loop at
// load time, such as a Mongrel2 receive loop of the 2010 board's kind,
// would otherwise hold up the host's start or a reload for ever.
const DefaultLoadBudget = 10 * time.Second

// loading is the state of a main script's load: the entry engine.run
// installed, and how to stop the load.
type loading struct {
	entry *lua.LFunction
	stop  context.CancelFunc
	why   string // why StopLoad stopped it
}

// errNotLoading is InstallEntry's error inside a caller's session.
var errNotLoading = errors.New("only the main script's load may install the entry function; the host runs it for each caller")

// InstallEntry makes entry the main script's entry (engine.run). It is
// luaapi.Startup's; a second, different entry is refused.
func (t *Table) InstallEntry(_ *lua.LState, entry *lua.LFunction) error {
	switch {
	case t.loading == nil:
		return errNotLoading
	case t.loading.entry != nil && t.loading.entry != entry:
		return errors.New("an entry function is installed already")
	}
	t.loading.entry = entry
	return nil
}

// StopLoad ends the main script's load with why as its error (a receive
// loop at load time); inside a caller's session it does nothing.
func (t *Table) StopLoad(_ *lua.LState, why string) {
	if t.loading == nil {
		return
	}
	if t.loading.why == "" {
		t.loading.why = why
	}
	t.loading.stop()
}

// runMain runs the main script's chunk within the load budget and returns
// what it returned and the entry engine.run installed, if any.
//
// The load's context is cancelled only when the load overruns or fails:
// a coroutine the script made while loading derives its context from it,
// and callers may resume that coroutine long after.
func (t *Table) runMain(fn *lua.LFunction) (ret lua.LValue, installed *lua.LFunction, err error) {
	base := t.L.Context()
	ctx, cancel := context.WithCancel(base)
	var overran atomic.Bool
	overrun := time.AfterFunc(t.cfg.LoadBudget, func() { overran.Store(true); cancel() })
	t.loading = &loading{stop: cancel}
	t.L.SetContext(ctx)
	defer func() {
		overrun.Stop()
		t.L.SetContext(base)
		t.loading = nil
	}()
	t.L.Push(fn)
	if err := t.L.PCall(0, 1, nil); err != nil {
		cancel()
		switch {
		case t.loading.why != "":
			return nil, nil, fmt.Errorf("run %s: %s", t.cfg.MainScript, t.loading.why)
		case overran.Load():
			return nil, nil, fmt.Errorf("run %s: still running after %s: the main script must define its entry function and return (the host receives each caller's lines): %w",
				t.cfg.MainScript, t.cfg.LoadBudget, err)
		}
		return nil, nil, fmt.Errorf("run %s: %w", t.cfg.MainScript, err)
	}
	ret = t.L.Get(-1)
	t.L.Pop(1)
	return ret, t.loading.entry, nil
}
