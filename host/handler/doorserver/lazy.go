package doorserver

import (
	"context"
	"errors"
	"io"
	"sync"
)

// ErrClosed is what a stream's calls return once it is closed.
var ErrClosed = errors.New("doorserver: closed")

// Open returns c's call to s as a stream at once, without waiting for the
// dial: the dial runs in the background, a Read or Write waits for it
// (and returns its error if it failed), and Close cancels it. So the
// goroutine that opens a door server (a Lua worker) never waits on the
// network; the bridge's own goroutines do.
func (s Server) Open(c Caller) io.ReadWriteCloser {
	ctx, cancel := context.WithCancel(context.Background())
	l := &lazyStream{ready: make(chan struct{}), cancel: cancel}
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

func (l *lazyStream) Read(p []byte) (int, error) {
	s, err := l.connected()
	if err != nil {
		return 0, err
	}
	return s.Read(p)
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
