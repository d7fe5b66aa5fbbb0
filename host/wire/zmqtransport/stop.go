package zmqtransport

import (
	"time"

	"github.com/pebbe/zmq4"
)

// StopReceiving closes the receiving socket at once, so that the front end
// keeps what its callers send for the handler that comes next (Mongrel2
// and the built-in front end hold requests while no handler is connected)
// instead of handing it to one that is stopping; Messages is closed. Send
// goes on working until Close. It is how a host that is asked to stop
// leaves no line typed meanwhile unanswered.
func (t *Transport) StopReceiving() { t.wakeReceiver() }

// wakeReceiver tells the receiving goroutine to stop; it may be called from
// any goroutine, any number of times.
func (t *Transport) wakeReceiver() {
	t.stopMu.Lock()
	defer t.stopMu.Unlock()
	if t.stopRecv != nil {
		// If the goroutine has already ended, this fails harmlessly.
		_, _ = t.stopRecv.SendBytes([]byte{0}, zmq4.DONTWAIT)
	}
}

// Flush waits up to timeout until every message Send queued before it has
// been handed to ZeroMQ, and reports whether that happened. The handler's
// reply socket lingers up to FlushLinger at Close for ZeroMQ to write them.
func (t *Transport) Flush(timeout time.Duration) bool {
	if timeout <= 0 {
		return false
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	done := make(chan struct{})
	select {
	case t.flushes <- done:
	case <-t.sendStopped:
		return false
	case <-timer.C:
		return false
	}
	select {
	case <-done:
		return true
	case <-t.sendStopped:
		return false
	case <-timer.C:
		return false
	}
}

// FlushLinger is how long the handler's reply socket keeps unsent replies
// at Close (ZeroMQ's linger): long enough to write what Flush handed over,
// short enough not to hold a stopping host up when the front end is gone.
const FlushLinger = 250 * time.Millisecond
