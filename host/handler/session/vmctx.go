package session

import (
	"context"
	"sync/atomic"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// gopher-lua checks a thread's context before every instruction of the
// VM (a select on ctx.Done()): that is how a runaway script is stopped.
// A context.WithCancel context answers Done() with an atomic load and a
// type assertion, which cost as much as the select itself; over a prompt's
// few hundred instructions it was about 2.4% of the host's instructions
// (callgrind, BenchmarkShippedVisit).

// vmContext is a cancellable context for a caller's coroutine whose Done
// returns its channel from a plain field. Everything else (Err, Value,
// and contexts derived from it, which register with it as with any
// cancellable context, without a goroutine) is the context.WithCancel
// context it wraps, except store.RiderKey: the journal rider of the write
// call the caller is in, if any (see Table.Call), carried here rather than
// in a context made for each call.
type vmContext struct {
	context.Context
	done  <-chan struct{}
	rider atomic.Pointer[store.Rider]
}

// Value implements context.Context.
func (c *vmContext) Value(key any) any {
	if key == store.RiderKey {
		if r := c.rider.Load(); r != nil {
			return r
		}
		return nil
	}
	return c.Context.Value(key)
}

// Done implements context.Context: the wrapped context's channel, the
// same one on every call.
func (c *vmContext) Done() <-chan struct{} { return c.done }

// newVMContext returns a vmContext and the function that cancels it.
func newVMContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	return &vmContext{Context: ctx, done: ctx.Done()}, cancel
}
