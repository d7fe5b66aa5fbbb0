package chunkwrite

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// TestSlowReaderGetsEverything: a reader that takes longer than one
// timeout for the whole output, but keeps reading, gets all of it.
func TestSlowReaderGetsEverything(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	data := bytes.Repeat([]byte("░▒▓█"), 10<<10) // 120 KB
	const timeout = 100 * time.Millisecond
	got := make(chan []byte)
	go func() {
		var out []byte
		buf := make([]byte, ChunkBytes)
		for len(out) < len(data) {
			// Each read waits: the whole output takes far longer than
			// one timeout, each chunk less.
			time.Sleep(15 * time.Millisecond)
			n, err := b.Read(buf)
			out = append(out, buf[:n]...)
			if err != nil {
				break
			}
		}
		got <- out
	}()
	start := time.Now()
	n, err := Write(a, data, timeout)
	if err != nil || n != len(data) {
		t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(data))
	}
	if elapsed := time.Since(start); elapsed < 2*timeout {
		t.Errorf("the write took %v; the reader's pace should make it take several timeouts", elapsed)
	}
	if out := <-got; !bytes.Equal(out, data) {
		t.Errorf("reader got %d bytes, want %d", len(out), len(data))
	}
}

// TestStalledReaderTimesOut: a reader who stops reading fails the write
// within one timeout.
func TestStalledReaderTimesOut(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() { _, _ = io.CopyN(io.Discard, b, ChunkBytes) }() // one chunk, then nothing
	start := time.Now()
	n, err := Write(a, make([]byte, 3*ChunkBytes), 100*time.Millisecond)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if n != ChunkBytes {
		t.Errorf("wrote %d bytes, want %d (the chunk that was read)", n, ChunkBytes)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("the write failed after %v", elapsed)
	}
}
