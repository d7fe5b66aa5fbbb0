package doorserver

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"
)

// DefaultOutputRate bounds how fast a door server's output is read, in
// bytes a second (Server.OutputRate when zero): 512 kbit/s, far above
// what a caller reads, and what a native door gets. A server writing
// faster is held up by TCP's flow control; nothing piles up here.
const DefaultOutputRate = 64 << 10

// ReadChunk is the most one Read of a stream Open made returns.
const ReadChunk = 4096

// PieceEvery is the least time between two Reads that return output, as
// for a native door: a server writing a byte at a time reaches the caller
// in pieces gathered over this long, so it costs the caller's worker at
// most 100 pieces a second, whatever its output rate.
const PieceEvery = 10 * time.Millisecond

// ErrClosed is what a stream's calls return once it is closed.
var ErrClosed = errors.New("doorserver: closed")

// Open returns c's call to s as a stream at once, without waiting for the
// dial: the dial runs in the background, a Read or Write waits for it
// (and returns its error if it failed), and Close cancels it. So the
// goroutine that opens a door server (a Lua worker) never waits on the
// network; the bridge's own goroutines do.
func (s Server) Open(c Caller) io.ReadWriteCloser {
	ctx, cancel := context.WithCancel(context.Background())
	rate := s.OutputRate
	if rate <= 0 {
		rate = DefaultOutputRate
	}
	l := &lazyStream{ready: make(chan struct{}), cancel: cancel, ctx: ctx, rate: rate}
	go func() {
		stream, err := s.Dial(ctx, c)
		l.mu.Lock()
		l.stream, l.err = stream, err
		if l.closed && stream != nil {
			stream.Close()
			l.stream, l.err = nil, ErrClosed
		}
		l.mu.Unlock()
		close(l.ready)
	}()
	return l
}

// lazyStream is a stream whose dial may still be under way.
type lazyStream struct {
	ready  chan struct{} // closed when the dial is over
	cancel context.CancelFunc
	ctx    context.Context // done once closed

	// pace is when the next Read may go, rate bytes a second (used by
	// Read's goroutine only).
	pace time.Time
	rate int

	mu     sync.Mutex
	stream io.ReadWriteCloser // set when ready, nil if the dial failed
	err    error
	closed bool
}

// connected waits for the dial and returns the stream, or why there is
// none.
func (l *lazyStream) connected() (io.ReadWriteCloser, error) {
	<-l.ready
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, ErrClosed
	}
	return l.stream, l.err
}

// Read returns the server's output, at most ReadChunk bytes, paced to
// the output rate and PieceEvery apart.
func (l *lazyStream) Read(p []byte) (int, error) {
	s, err := l.connected()
	if err != nil {
		return 0, err
	}
	if wait := time.Until(l.pace); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-l.ctx.Done():
			t.Stop()
			return 0, ErrClosed
		}
	}
	if len(p) > ReadChunk {
		p = p[:ReadChunk]
	}
	n, err := s.Read(p)
	if n > 0 {
		now := time.Now()
		if l.pace.Before(now) {
			l.pace = now
		}
		l.pace = l.pace.Add(time.Duration(n) * time.Second / time.Duration(l.rate))
		if next := now.Add(PieceEvery); l.pace.Before(next) {
			l.pace = next
		}
	}
	return n, err
}

func (l *lazyStream) Write(p []byte) (int, error) {
	s, err := l.connected()
	if err != nil {
		return 0, err
	}
	return s.Write(p)
}

// Close cancels the dial if it is under way, or hangs up.
func (l *lazyStream) Close() error {
	l.cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if l.stream != nil {
		return l.stream.Close()
	}
	return nil
}
