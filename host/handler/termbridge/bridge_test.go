package termbridge

import (
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/m2bbs/m2bbs/host/shared/termprofile"
)

// collector is a caller's terminal: the output it was handed.
type collector struct {
	mu   sync.Mutex
	text strings.Builder
	more chan struct{}
}

func newCollector() *collector { return &collector{more: make(chan struct{}, 1)} }

func (c *collector) Output(text string) error {
	c.mu.Lock()
	c.text.WriteString(text)
	c.mu.Unlock()
	select {
	case c.more <- struct{}{}:
	default:
	}
	return nil
}

func (c *collector) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		c.mu.Lock()
		got := c.text.String()
		c.mu.Unlock()
		if strings.Contains(got, want) {
			return
		}
		select {
		case <-c.more:
		case <-deadline:
			t.Fatalf("no %q in %q", want, got)
		}
	}
}

// TestBothWays: the stream's output reaches the caller decoded from CP437,
// the caller's keys reach the stream encoded to it, and the stream's end
// ends the bridge.
func TestBothWays(t *testing.T) {
	host, door := net.Pipe()
	c := newCollector()
	b := Start(host, Config{Charset: termprofile.CP437, Output: c.Output})
	go door.Write([]byte("\x1b[1mHello \xdb\xb0\r\n"))
	c.waitFor(t, "\x1b[1mHello █░\r\n")
	if !b.Keys("é!") {
		t.Fatal("keys dropped")
	}
	got := make([]byte, 2)
	if _, err := io.ReadFull(door, got); err != nil || string(got) != "\x82!" {
		t.Errorf("door read %q, %v", got, err)
	}
	door.Close()
	<-b.Done()
	if b.Err() != nil {
		t.Errorf("Err = %v", b.Err())
	}
	if b.Keys("x") {
		t.Error("keys taken after the end")
	}
	if s := b.Stats(); s.KeysIn != 2 || s.BytesOut != 14 {
		t.Errorf("stats %+v", s)
	}
}

// TestKeysNeverBlock: a stream that reads nothing gets at most MaxQueued
// pieces of keys (one more may sit in the writer); the rest are dropped at
// once and counted, and the caller handing them over never waits.
func TestKeysNeverBlock(t *testing.T) {
	host, door := net.Pipe() // a pipe with no reader: every write blocks
	defer door.Close()
	b := Start(host, Config{Output: newCollector().Output})
	defer b.Close()
	began := time.Now()
	taken := 0
	for range 1000 {
		if b.Keys("k") {
			taken++
		}
	}
	if taken > MaxQueued+1 || time.Since(began) > time.Second {
		t.Errorf("%d pieces taken in %v", taken, time.Since(began))
	}
	if b.Keys(strings.Repeat("x", MaxKeys+1)) {
		t.Error("a piece over MaxKeys taken")
	}
	if s := b.Stats(); s.Dropped != int64(1000-taken+1) {
		t.Errorf("dropped %d", s.Dropped)
	}
}

// TestOutputHoldsTheStream: while the caller's side blocks, the bridge
// reads nothing more: the stream is held up, nothing piles up in memory.
func TestOutputHoldsTheStream(t *testing.T) {
	host, door := net.Pipe()
	release := make(chan struct{})
	calls := make(chan string, 10)
	b := Start(host, Config{Output: func(text string) error {
		calls <- text
		<-release
		return nil
	}})
	defer b.Close()
	door.Write([]byte("one"))
	<-calls
	wrote := make(chan struct{})
	go func() {
		door.Write([]byte("two"))
		close(wrote)
	}()
	select {
	case <-wrote:
		t.Fatal("the stream was read while the caller's side blocked")
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	<-wrote
	if got := <-calls; got != "two" {
		t.Errorf("second piece %q", got)
	}
}

// TestCloseEnds: Close ends a bridge whose stream never ends by itself.
func TestCloseEnds(t *testing.T) {
	host, door := net.Pipe()
	defer door.Close()
	b := Start(host, Config{Output: newCollector().Output})
	b.Close()
	select {
	case <-b.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("bridge did not end")
	}
}

// TestDecoderCharsets: ASCII drops what is past 0x7f; UTF-8 keeps a
// character split between pieces and marks invalid bytes.
func TestDecoderCharsets(t *testing.T) {
	a := Decoder{Charset: termprofile.ASCII}
	if got := a.Decode([]byte("a\xe9b")); got != "a?b" {
		t.Errorf("ASCII %q", got)
	}
	u := Decoder{Charset: termprofile.UTF8}
	if got := u.Decode([]byte("x\xe2\x96")); got != "x" {
		t.Errorf("first piece %q", got)
	}
	if got := u.Decode([]byte("\x88y\xff")); got != "█y\uFFFD" {
		t.Errorf("second piece %q", got)
	}
	u.Decode([]byte("\xe2"))
	if got := u.Flush(); got != "\uFFFD" {
		t.Errorf("flush %q", got)
	}
}

// FuzzDecoder: however the stream's bytes are split, the text is valid
// UTF-8 and the same as decoding them whole.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte("héllo █ world"), 3)
	f.Add([]byte("\xe2\x96\x88\xff\xe2"), 1)
	f.Fuzz(func(t *testing.T, p []byte, split int) {
		for _, cs := range []termprofile.Encoding{termprofile.UTF8, termprofile.CP437, termprofile.ASCII} {
			whole := Decoder{Charset: cs}
			want := whole.Decode(p) + whole.Flush()
			parts := Decoder{Charset: cs}
			at := 0
			if len(p) > 0 {
				at = ((split % len(p)) + len(p)) % len(p)
			}
			got := parts.Decode(p[:at]) + parts.Decode(p[at:]) + parts.Flush()
			if got != want || !utf8.ValidString(got) {
				t.Fatalf("%s: split at %d: %q, whole %q", cs, at, got, want)
			}
		}
	})
}

// BenchmarkOutputCP437: a CP437 door's output, 4 KiB pieces, decoded and
// handed to the caller's side.
func BenchmarkOutputCP437(b *testing.B) {
	host, door := net.Pipe()
	got := make(chan int, 1)
	total := 0
	br := Start(host, Config{Charset: termprofile.CP437, Output: func(text string) error {
		total += len(text)
		if total >= b.N*MaxPiece {
			got <- total
		}
		return nil
	}})
	defer br.Close()
	piece := make([]byte, MaxPiece)
	for i := range piece {
		piece[i] = byte(0x20 + i%0xd0) // half ASCII, half CP437's upper half
	}
	b.SetBytes(MaxPiece)
	b.ResetTimer()
	go func() {
		for range b.N {
			door.Write(piece)
		}
	}()
	<-got
}

// TestRawBothWays: a raw bridge hands over every byte as it is, both
// ways (a file transfer), and takes pieces up to its own MaxKeys.
func TestRawBothWays(t *testing.T) {
	host, prog := net.Pipe()
	c := newCollector()
	b := Start(host, Config{Raw: true, MaxKeys: 2048, Output: c.Output})
	go prog.Write([]byte("\xff\x00\xdb\r\x18"))
	c.waitFor(t, "\xff\x00\xdb\r\x18")
	in := strings.Repeat("\xfe\x00", 1024)
	if !b.Keys(in) {
		t.Fatal("a 2 KiB raw piece was dropped")
	}
	got := make([]byte, len(in))
	if _, err := io.ReadFull(prog, got); err != nil || string(got) != in {
		t.Fatalf("the program read %q %v", got[:8], err)
	}
	if b.Keys(in + "x") {
		t.Fatal("a piece past MaxKeys was taken")
	}
	prog.Close()
	<-b.Done()
}
