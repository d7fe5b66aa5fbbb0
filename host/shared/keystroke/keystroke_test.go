package keystroke

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestBatcherEnter(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ab\r\ncd", "ab\rcd"},
		{"ab\r\x00cd", "ab\rcd"},
		{"a\nb", "a\nb"},
		{"\r\r\n", "\r\r"},
	} {
		var b Batcher
		b.Add([]byte(tc.in))
		if got := b.Next(); got != tc.want {
			t.Errorf("Add(%q): Next = %q, want %q", tc.in, got, tc.want)
		}
	}
	var b Batcher // CR and LF in two reads
	b.Add([]byte("x\r"))
	b.Add([]byte("\ny"))
	if got := b.Next(); got != "x\ry" {
		t.Errorf("split CR LF: %q", got)
	}
}

func TestBatcherBounded(t *testing.T) {
	var b Batcher
	if d := b.Add(bytes.Repeat([]byte("k"), MaxPendingBytes+10)); d != 10 || b.Dropped != 10 {
		t.Fatalf("dropped %d (%d), want 10", d, b.Dropped)
	}
	total := 0
	for b.Pending() > 0 {
		k := b.Next()
		if len(k) > MaxRequestBytes {
			t.Fatalf("a request of %d bytes", len(k))
		}
		total += len(k)
	}
	if total != MaxPendingBytes {
		t.Fatalf("sent %d bytes, want %d", total, MaxPendingBytes)
	}
}

func TestCutKeepsSequencesAndCharacters(t *testing.T) {
	p := []byte(strings.Repeat("a", 8) + "\x1b[1;5A" + "é")
	for max := 1; max <= len(p); max++ {
		n := Cut(p, max)
		head := p[:n]
		if n > max || n == 0 {
			t.Fatalf("Cut(max %d) = %d", max, n)
		}
		if !utf8.Valid(head) && max >= 4 {
			t.Errorf("Cut(max %d) splits a character: %q", max, head)
		}
		if n > 8 && n < 14 {
			t.Errorf("Cut(max %d) = %d splits the arrow key", max, n)
		}
	}
}

// TestBatcherHoldsAHalfCharacter: a read that ends inside a UTF-8
// character sends what comes before it; the character goes whole with
// the next read.
func TestBatcherHoldsAHalfCharacter(t *testing.T) {
	var b Batcher
	b.Add([]byte("ab\xc3"))
	if got := b.Next(); got != "ab" || b.Pending() != 0 {
		t.Fatalf("first request %q, %d pending", got, b.Pending())
	}
	b.Add([]byte("\xa9!"))
	if got := b.Next(); got != "é!" {
		t.Fatalf("second request %q", got)
	}
}

func TestPacer(t *testing.T) {
	var p Pacer
	now := time.Unix(1000, 0)
	if w := p.Wait(now); w != 0 {
		t.Fatalf("first wait %v", w)
	}
	p.Sent(now)
	if w := p.Wait(now.Add(time.Millisecond)); w <= 0 || w > interval {
		t.Fatalf("wait right after a request: %v", w)
	}
	if w := p.Wait(now.Add(interval)); w != 0 {
		t.Fatalf("wait after the interval: %v", w)
	}
}

// FuzzBatcher feeds keys split at an arbitrary point: every request fits
// MaxRequestBytes, is valid UTF-8 when the input was, and together they
// are the input less the dropped bytes and the LF or NUL after each CR.
func FuzzBatcher(f *testing.F) {
	f.Add([]byte("hello\r\n\x1b[A\x1bOB"), 3)
	f.Add(bytes.Repeat([]byte("\x1b[1;5D"), 400), 700)
	f.Add(bytes.Repeat([]byte("\x01\"é"), 600), 1)
	f.Fuzz(func(t *testing.T, in []byte, split int) {
		if split < 0 || split > len(in) {
			split = len(in) / 2
		}
		var b Batcher
		b.Add(in[:split])
		b.Add(in[split:])
		var out []byte
		for b.Pending() > 0 {
			k := b.Next()
			if len(k) == 0 || len(k) > MaxRequestBytes || JSONLen(k) > MaxRequestBytes {
				t.Fatalf("request of %d bytes, %d as JSON", len(k), JSONLen(k))
			}
			if utf8.Valid(in) && !utf8.ValidString(k) {
				t.Fatalf("request not UTF-8: %q", k)
			}
			out = append(out, k...)
		}
		var want []byte
		for i, c := range in {
			if i > 0 && in[i-1] == '\r' && (c == '\n' || c == 0) {
				continue
			}
			want = append(want, c)
		}
		want = want[:len(want)-incompleteTail(want)] // held for its other bytes
		if b.Dropped == 0 && !bytes.Equal(out, want) {
			t.Fatalf("keys %q became %q", in, out)
		}
	})
}
