package session

import "context"

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
// context it wraps.
type vmContext struct {
	context.Context
	done <-chan struct{}
}

// Done implements context.Context: the wrapped context's channel, the
// same one on every call.
func (c *vmContext) Done() <-chan struct{} { return c.done }

// newVMContext returns a vmContext and the function that cancels it.
func newVMContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	return &vmContext{Context: ctx, done: ctx.Done()}, cancel
}
