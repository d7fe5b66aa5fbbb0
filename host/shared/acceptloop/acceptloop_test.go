package acceptloop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"syscall"
	"testing"
	"time"
)

func TestTemporary(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("accept: %w", syscall.EMFILE), true},
		{syscall.ECONNABORTED, true},
		{errors.New("listener broken"), false},
		{net.ErrClosed, false},
	} {
		if got := Temporary(c.err); got != c.want {
			t.Errorf("Temporary(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	if b := Backoff(0); b != 5*time.Millisecond {
		t.Errorf("first backoff %v", b)
	}
	if b := Backoff(800 * time.Millisecond); b != time.Second {
		t.Errorf("backoff past a second: %v", b)
	}
}

// TestServeServesAndStops: each connection is served; cancelling the
// context closes the listener, ends the connections' context and returns
// nil once every serve has returned.
func TestServeServesAndStops(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan struct{})
	returned := make(chan error)
	var ended bool
	go func() {
		returned <- Serve(ctx, ln, slog.New(slog.DiscardHandler), "test", func(ctx context.Context, nc net.Conn) {
			defer nc.Close()
			close(served)
			<-ctx.Done()
			ended = true
		})
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	<-served
	cancel()
	if err := <-returned; err != nil || !ended {
		t.Errorf("Serve returned %v with the connection's serve ended %v", err, ended)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("the listener is still open")
	}
}
