package frontend

import (
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

// An HTTP head whose body never comes is not a first complete message: the
// caller is closed at -first-frame-timeout, not kept (with their
// per-address slot) for the idle timeout.
func TestFirstFrameTimeoutWaitsForAnHTTPBody(t *testing.T) {
	b := startBBS(t, Limits{FirstFrameTimeout: 300 * time.Millisecond})
	c := dial(t, b.addr())
	write(t, c, "POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.ReadAll(c); errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a caller who never sent the body is still connected 3 s after connecting (first-frame timeout 300 ms); stats %+v", b.s.Stats())
	}
}
