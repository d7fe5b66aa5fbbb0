package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/telnet"
)

// fakeTelnetGateway accepts one call, negotiates as the telnet gateway
// does (echo and go-ahead suppression offered, window size and terminal
// type asked, the type then requested), records what the caller
// answered, shows prompt and, if hold, holds the call until the caller
// hangs up (else hangs up itself).
type fakeTelnetGateway struct {
	addr string
	// heard is what the caller told it, as "WILL 31", "SB 31 [0 80 0 24]"...
	heard chan []string
	// hungUp is closed when the caller hangs up.
	hungUp chan struct{}
}

func startFakeTelnetGateway(t *testing.T, prompt string, hold bool) *fakeTelnetGateway {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	g := &fakeTelnetGateway{addr: ln.Addr().String(), heard: make(chan []string, 1), hungUp: make(chan struct{})}
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		var out []byte
		out = telnet.AppendNegotiation(out, telnet.WILL, telnet.OptEcho)
		out = telnet.AppendNegotiation(out, telnet.WILL, telnet.OptSuppressGoAhead)
		out = telnet.AppendNegotiation(out, telnet.DO, telnet.OptNAWS)
		out = telnet.AppendNegotiation(out, telnet.DO, telnet.OptTerminalType)
		out = telnet.AppendNegotiation(out, telnet.DO, telnet.OptLinemode)
		out = telnet.AppendTerminalTypeSend(out)
		if _, err := conn.Write(out); err != nil {
			return
		}
		var (
			dec    telnet.Decoder
			tokens []telnet.Token
			heard  []string
			buf    = make([]byte, 512)
		)
		// The answers: 3 to DO, 2 to WILL, the window size and the type.
		for len(heard) < 7 {
			n, err := conn.Read(buf)
			if err != nil {
				break
			}
			for _, tok := range dec.Decode(tokens[:0], buf[:n]) {
				switch tok.Kind {
				case telnet.KindNegotiation:
					heard = append(heard, fmt.Sprintf("%s %d", verbName(tok.Command), tok.Option))
				case telnet.KindSubnegotiation:
					heard = append(heard, fmt.Sprintf("SB %d %q", tok.Option, tok.Data))
				}
			}
		}
		g.heard <- heard
		if _, err := conn.Write(telnet.AppendNVT(nil, "Welcome.\n"+prompt)); err != nil {
			return
		}
		if hold {
			_, _ = io.Copy(io.Discard, conn)
		}
		close(g.hungUp)
	}()
	return g
}

func verbName(v byte) string {
	return map[byte]string{telnet.WILL: "WILL", telnet.WONT: "WONT", telnet.DO: "DO", telnet.DONT: "DONT"}[v]
}

// TestParkTelnet: an idle telnet caller answers the gateway's
// negotiation as a terminal client would, with its window size and
// terminal type, waits for the prompt and stays on the line until closed.
func TestParkTelnet(t *testing.T) {
	g := startFakeTelnetGateway(t, "What's your name?", true)
	conn, err := ParkTelnet(t.Context(), g.addr, "What's your name?", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"DO 1", "DO 3", // echo and go-ahead suppression, on the gateway's side
		"WILL 31", `SB 31 "\x00P\x00\x18"`, // NAWS: 80 × 24
		"WILL 24", "WONT 34", // terminal type yes, linemode no
		`SB 24 "\x00xterm"`, // TERMINAL-TYPE IS xterm
	}
	select {
	case heard := <-g.heard:
		if strings.Join(heard, ", ") != strings.Join(want, ", ") {
			t.Errorf("the gateway heard\n%q\nwant\n%q", heard, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the gateway heard nothing")
	}
	select {
	case <-g.hungUp:
		t.Fatal("the parked caller hung up")
	default:
	}
	conn.Close()
	<-g.hungUp
}

// TestParkTelnetNoPrompt: a call that ends before the prompt is an error
// saying what the caller saw.
func TestParkTelnetNoPrompt(t *testing.T) {
	g := startFakeTelnetGateway(t, "Goodbye.", false)
	_, err := ParkTelnet(t.Context(), g.addr, "What's your name?", 10*time.Second)
	if err == nil || !strings.Contains(err.Error(), "Goodbye.") {
		t.Errorf("err = %v, want a failure naming what was seen", err)
	}
}

// TestParkMany: ParkMany places every caller it can, a window at a time,
// and counts the others with their first error.
func TestParkMany(t *testing.T) {
	var inFlight, most, calls atomic.Int64
	boom := errors.New("boom")
	p := ParkMany(context.Background(), 20, 4, func(context.Context) (io.Closer, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(time.Millisecond) // let others pile up against the window
		if calls.Add(1)%5 == 0 {
			return nil, boom
		}
		return io.NopCloser(nil), nil
	})
	defer p.Close()
	if len(p.Calls) != 16 || p.Failed != 4 || !errors.Is(p.FirstErr, boom) {
		t.Errorf("parked %d, failed %d (%v); want 16, 4, boom", len(p.Calls), p.Failed, p.FirstErr)
	}
	if most.Load() > 4 {
		t.Errorf("%d calls at once, want at most 4", most.Load())
	}
}

// TestParkTelnetCancelled: a cancelled context ends a call still waiting
// for its prompt, well before its timeout.
func TestParkTelnetCancelled(t *testing.T) {
	g := startFakeTelnetGateway(t, "Please wait.", true)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-g.heard // the negotiation is over: the caller now waits for the prompt
		cancel()
	}()
	start := time.Now()
	if _, err := ParkTelnet(ctx, g.addr, "What's your name?", time.Minute); err == nil {
		t.Fatal("a cancelled call parked")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the cancelled call took %v", took)
	}
	<-g.hungUp
}
