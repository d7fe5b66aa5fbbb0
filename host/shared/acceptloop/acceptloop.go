// Package acceptloop is the accept loop of m2bbs's TCP gateways (telnet,
// SSH): accept until the context ends, back off on errors that pass (out
// of file descriptors, a connection aborted), serve each connection on a
// goroutine of its own, and wait for them all before returning.
package acceptloop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"
)

// Serve accepts connections on ln and runs serve for each on a goroutine
// of its own until ctx is done; then it closes ln, waits for every serve
// to return (they are given a context that ends with Serve's) and returns
// nil. It returns an error, named after what, if accepting fails for good.
func Serve(ctx context.Context, ln net.Listener, log *slog.Logger, what string, serve func(context.Context, net.Conn)) error {
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel, below: the connections end with ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { ln.Close() })
	defer stop()
	defer ln.Close()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			if Temporary(err) {
				backoff = Backoff(backoff)
				log.Warn(what+": accept", "err", err, "retry_in", backoff)
				select {
				case <-time.After(backoff):
				case <-ctx.Done():
				}
				continue
			}
			return fmt.Errorf("%s: accept: %w", what, err)
		}
		backoff = 0
		wg.Go(func() { serve(ctx, nc) })
	}
}

// Backoff is the wait after an accept error that passes, given the last
// one: 5 ms, doubling, at most a second.
func Backoff(last time.Duration) time.Duration {
	return min(max(2*last, 5*time.Millisecond), time.Second)
}

// Temporary reports whether accepting may work if tried again.
func Temporary(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.EINTR} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
