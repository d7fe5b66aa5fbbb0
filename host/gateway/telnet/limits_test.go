package telnet

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/shared/netlimit"
)

// manyBBS is a BBS for any number of calls: each gets the welcome, then
// whatever it sends is read and dropped; ended gets one value per call the
// gateway hung up.
type manyBBS struct{ ended chan struct{} }

func newManyBBS() *manyBBS { return &manyBBS{ended: make(chan struct{}, 100)} }

func (b *manyBBS) dial(ctx context.Context, remote net.Addr) (net.Conn, error) {
	gateway, bbs := net.Pipe()
	go func() {
		defer func() { b.ended <- struct{}{} }()
		defer bbs.Close()
		if _, err := bufio.NewReader(bbs).ReadString(0); err != nil { // "connect"
			return
		}
		for _, m := range welcome {
			js, _ := json.Marshal(m)
			if _, err := io.WriteString(bbs, base64.StdEncoding.EncodeToString(js)+"\x00"); err != nil {
				return
			}
		}
		_, _ = io.Copy(io.Discard, bbs)
	}()
	return gateway, nil
}

func (b *manyBBS) waitEnded(t *testing.T) {
	t.Helper()
	select {
	case <-b.ended:
	case <-time.After(waitLimit):
		t.Fatal("the gateway never hung up on the BBS")
	}
}

// waitOpen waits until the gateway counts want calls open from addr's
// address; it gives up after waitLimit.
func waitOpen(t *testing.T, srv *Server, addr net.Addr, want int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for srv.addrs.Open(addr) != want {
		if time.Now().After(deadline) {
			t.Fatalf("gateway counts %d calls from %v, want %d", srv.addrs.Open(addr), addr, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestGatewayPerAddressCap(t *testing.T) {
	bbs := newManyBBS()
	srv, addr := startGateway(t, nil, Config{Dial: bbs.dial, PerAddr: netlimit.Limits{MaxPerAddr: 2, AcceptRate: -1}})
	first := dialGateway(t, addr)
	first.readUntil("> ")
	second := dialGateway(t, addr)
	second.readUntil("> ")
	third := dialGateway(t, addr)
	if got := third.readToEOF(); got != tooManyFromAddr {
		t.Errorf("third caller from one address got %q, want %q", got, tooManyFromAddr)
	}
	first.conn.Close()
	bbs.waitEnded(t)
	waitOpen(t, srv, second.conn.LocalAddr(), 1) // the gateway lets go of the slot after the BBS side ends
	again := dialGateway(t, addr)                // room again once a call ends
	again.readUntil("> ")
}

func TestGatewayAcceptRate(t *testing.T) {
	bbs := newManyBBS()
	_, addr := startGateway(t, nil, Config{Dial: bbs.dial, PerAddr: netlimit.Limits{MaxPerAddr: -1, AcceptRate: 0.001, AcceptBurst: 2}})
	for range 2 {
		dialGateway(t, addr).readUntil("> ")
	}
	if got := dialGateway(t, addr).readToEOF(); got != callingTooFast {
		t.Errorf("third call in a burst of 2 got %q, want %q", got, callingTooFast)
	}
}

func TestGatewayHangsUpOnASilentSocket(t *testing.T) {
	bbs := newManyBBS()
	_, addr := startGateway(t, nil, Config{Dial: bbs.dial, FirstInputTimeout: 100 * time.Millisecond})
	start := time.Now()
	c := dialGateway(t, addr)
	if got := c.readToEOF(); !strings.HasSuffix(got, "Nothing received. Goodbye.\r\n") {
		t.Errorf("silent caller got %q", got)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("hung up after %v, want about 100ms", waited)
	}
	bbs.waitEnded(t)

	// A caller whose client answers the negotiation stays.
	talker := dialGateway(t, addr)
	talker.readUntil(gatewayOpening)
	talker.write(inetutilsAnswers, true)
	talker.readUntil("> ")
	talker.write("zed\r\n", true)
	if got := talker.readUntil("zed\r\n"); !strings.HasSuffix(got, "zed\r\n") {
		t.Errorf("talking caller got %q", got)
	}
}
