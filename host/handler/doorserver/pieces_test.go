package doorserver

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/rlogin"
)

// A door server writing a byte at a time reaches the caller's worker in
// pieces at most PieceEvery apart, as a native door's output does: each
// Read that returns output is a piece the bridge posts to the worker.
func TestByteAtATimeServerIsGathered(t *testing.T) {
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	addr := listen(t, func(nc net.Conn) {
		buf := make([]byte, rlogin.MaxHandshake)
		_, _ = nc.Read(buf)
		_, _ = nc.Write([]byte{0})
		go func() { _, _ = io.Copy(io.Discard, nc) }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := nc.Write([]byte("x")); err != nil {
				return
			}
			time.Sleep(100 * time.Microsecond)
		}
	})
	stream := Server{Name: "drip", Address: addr}.Open(Caller{User: "ann"})
	defer stream.Close()
	buf := make([]byte, ReadChunk)
	if _, err := stream.Read(buf); err != nil { // the dial
		t.Fatal(err)
	}
	const window = time.Second
	pieces, n := 0, 0
	for began := time.Now(); time.Since(began) < window; pieces++ {
		m, err := stream.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		n += m
	}
	t.Logf("%d pieces, %d bytes in %v", pieces, n, window)
	if most := int(window/PieceEvery) + 2; pieces > most {
		t.Errorf("a door server writing a byte at a time reached the caller in %d pieces (%d bytes) in %v: more than %d (a native door's bound)", pieces, n, window, most)
	}
}
