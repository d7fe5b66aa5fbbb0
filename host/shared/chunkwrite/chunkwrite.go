// Package chunkwrite writes one caller's output in bounded pieces, each
// with a deadline of its own: a big screen (ANSI art of 100 KB and more)
// reaches a slow caller as long as they keep reading, instead of failing
// one deadline sized for a line of text, and the writer holds nothing but
// that caller's own connection while it waits (every gateway writes to a
// caller from that caller's goroutine).
package chunkwrite

import (
	"fmt"
	"time"
)

// ChunkBytes bounds one write: at 2,400 bits per second (a slow modem
// emulation in SyncTERM) a chunk takes under 20 seconds.
const ChunkBytes = 4 << 10

// Conn is the part of a net.Conn that Write uses.
type Conn interface {
	Write(p []byte) (int, error)
	SetWriteDeadline(t time.Time) error
}

// Write writes p to c in chunks of at most ChunkBytes, each within timeout
// of its start, and returns how many bytes were written.
func Write(c Conn, p []byte, timeout time.Duration) (int, error) {
	written := 0
	for written < len(p) {
		end := min(written+ChunkBytes, len(p))
		if err := c.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
			return written, fmt.Errorf("set write deadline: %w", err)
		}
		n, err := c.Write(p[written:end])
		written += n
		if err != nil {
			return written, err
		}
	}
	return written, nil
}
