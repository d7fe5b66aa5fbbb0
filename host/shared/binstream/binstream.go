// Package binstream holds binary stream mode's limits and wire form, shared
// by the gateways and the host (see docs/clients.md#binary-stream-mode).
// Binary stream mode carries raw bytes both ways, 8-bit clean, for a file
// transfer program (sz, rz) run on the caller's connection: unlike
// keystroke mode it translates no character set and cuts nothing at
// characters or escape sequences.
//
// On the wire a piece is a message of type "bin" (message.TypeBinary)
// whose "msg" is the bytes in standard base64: {"type":"bin","msg":B64}.
// A gateway holds what its caller sends in a Batcher (at most
// MaxPendingBytes; a full Batcher makes the gateway stop reading the
// caller's socket, so a flood is held up by TCP, never queued) and sends
// it in requests of at most MaxRequestBytes raw bytes, at most
// RequestsPerSecond a second (NewPacer). The host takes at most
// HostRequestsPerSecond (burst HostBurst) and drops a longer or faster
// request.
package binstream

import (
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/m2bbs/m2bbs/host/shared/keystroke"
)

// Limits of binary stream mode.
const (
	// MaxRequestBytes bounds the raw bytes of one request from a gateway:
	// its base64 (4/3 of it) and the request's other members fit the
	// front end's 4 KiB frame (Mongrel2's limits.buffer_size).
	MaxRequestBytes = 2048
	// MaxPendingBytes bounds what a gateway holds for a caller while it
	// waits to send it; when full it reads no more from the caller.
	MaxPendingBytes = 32 << 10
	// RequestsPerSecond bounds the requests a gateway sends a second for
	// one caller: with MaxRequestBytes, 200 KiB/s of upload.
	RequestsPerSecond = 100
	// HostRequestsPerSecond and HostBurst bound the requests the host
	// takes from one caller; past them a request is dropped and counted,
	// and FloodCutOff dropped before the caller pauses long enough to
	// earn a whole burst back (2 s) end the call. A gateway paces under
	// the host's rate (RequestsPerSecond), so only a caller who bypasses
	// one is ever dropped.
	HostRequestsPerSecond = 150
	HostBurst             = 300
	FloodCutOff           = HostBurst
)

// ErrTooLong is Decode's error for a piece longer than its limit.
var ErrTooLong = errors.New("binstream: piece too long")

// Encode returns p as a piece's "msg": standard base64.
func Encode(p []byte) string { return base64.StdEncoding.EncodeToString(p) }

// Decode returns the bytes of a piece's "msg", refusing one that decodes
// to more than max bytes before decoding it, and anything not base64.
func Decode(msg string, max int) ([]byte, error) {
	if base64.StdEncoding.DecodedLen(len(msg)) > max+2 {
		return nil, fmt.Errorf("%w: %d base64 characters", ErrTooLong, len(msg))
	}
	p, err := base64.StdEncoding.DecodeString(msg)
	if err != nil {
		return nil, fmt.Errorf("binstream: %w", err)
	}
	if len(p) > max {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLong, len(p))
	}
	return p, nil
}

// Batcher holds a caller's bytes until they are sent. The zero Batcher is
// ready to use.
type Batcher struct {
	pending []byte
}

// Room is how many more bytes Add takes.
func (b *Batcher) Room() int { return max(MaxPendingBytes-len(b.pending), 0) }

// Full reports whether Add takes nothing more: the gateway should stop
// reading its caller until Next made room.
func (b *Batcher) Full() bool { return b.Room() == 0 }

// Add keeps p, up to MaxPendingBytes held, and returns how many bytes it
// dropped: a gateway gives it at most Room bytes and keeps the rest.
func (b *Batcher) Add(p []byte) (dropped int) {
	n := min(len(p), b.Room())
	b.pending = append(b.pending, p[:n]...)
	return len(p) - n
}

// Pending is how many bytes wait.
func (b *Batcher) Pending() int { return len(b.pending) }

// Next takes the next request's bytes, at most MaxRequestBytes, as a
// piece's "msg" ("" when nothing waits).
func (b *Batcher) Next() string {
	n := min(len(b.pending), MaxRequestBytes)
	if n == 0 {
		return ""
	}
	msg := Encode(b.pending[:n])
	b.pending = b.pending[:copy(b.pending, b.pending[n:])]
	return msg
}

// Reset drops what waits (binary stream mode ended).
func (b *Batcher) Reset() { b.pending = b.pending[:0] }

// NewPacer returns the pacer of a caller's requests: at most
// RequestsPerSecond, the first at once.
func NewPacer() keystroke.Pacer { return keystroke.Pacer{Every: Interval} }

// Interval is the least time between two requests of one caller.
const Interval = time.Second / RequestsPerSecond
