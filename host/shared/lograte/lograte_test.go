package lograte

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a log destination safe for the summary's timer goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLimiterWritesBurstThenSummary(t *testing.T) {
	var out syncBuffer
	l := New(slog.New(slog.NewTextHandler(&out, nil)), 3, 50*time.Millisecond)
	for i := range 1000 {
		l.Warn("malformed message", "conn_id", i)
	}
	if n := strings.Count(out.String(), "malformed message"); n != 3 {
		t.Fatalf("%d lines written during the flood, want 3:\n%s", n, out.String())
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "suppressed=997") {
		if time.Now().After(deadline) {
			t.Fatalf("no summary of the 997 lines left out:\n%s", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// A new interval writes again.
	l.Warn("malformed message", "conn_id", "after")
	if !strings.Contains(out.String(), "conn_id=after") {
		t.Fatalf("line after the summary not written:\n%s", out.String())
	}
}

func TestLimiterQuietLogIsUntouched(t *testing.T) {
	var out syncBuffer
	l := New(slog.New(slog.NewTextHandler(&out, nil)), 5, time.Hour)
	for i := range 5 {
		l.Warn("bad handler message", "n", i)
	}
	if n := strings.Count(out.String(), "bad handler message"); n != 5 || l.Suppressed() != 0 {
		t.Fatalf("%d lines, %d suppressed; want 5, 0", n, l.Suppressed())
	}
}

func TestLimiterCountsEachMessageApart(t *testing.T) {
	var out syncBuffer
	l := New(slog.New(slog.NewTextHandler(&out, nil)), 2, time.Hour)
	for range 100 {
		l.Warn("malformed message")
	}
	l.Warn("bad handler message")
	if !strings.Contains(out.String(), "bad handler message") {
		t.Fatalf("a flood of one message hid another:\n%s", out.String())
	}
}
