package telnet

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/message"
)

// The conversation the fake BBS plays in most tests.
var (
	welcome = []message.Message{
		{Type: message.TypeScreen, Msg: "\x1b[1;32mWelcome\x1b[0m\nto m2bbs"},
		{Type: message.TypePrompt, Msg: "What is your name?", PChar: "> "},
	}
	askPassword = []message.Message{{Type: message.TypePrompt, Msg: "Password:", PChar: ": ", Secret: true}}
	menu        = []message.Message{{Type: message.TypeScreen, Msg: "Hello, zed"}, {Type: message.TypePrompt, Msg: "Command", PChar: "> "}}
	goodbye     = []message.Message{{Type: message.TypeExit, Msg: "Bye!\n"}}

	welcomeText = "\x1b[1;32mWelcome\x1b[0m\r\nto m2bbs\r\nWhat is your name?\r\n> "
	connectReq  = string(classic.WithANSI(classic.AppendConnect(nil, "@bbs", true)))
	ttypeSend   = "\xff\xfa\x18\x01\xff\xf0"
)

// inetutilsAnswers is inetutilsReply up to the keys, without the terminal
// type, which a client sends only when asked.
const inetutilsAnswers = "\xff\xfd\x01\xff\xfd\x03\xff\xfb\x03\xff\xfb\x1f\xff\xfa\x1f\x00d\x00\x1e\xff\xf0\xff\xfb\x18"

func TestGatewayCall(t *testing.T) {
	bbs := newFakeBBS(true, welcome, askPassword, menu, goodbye)
	_, addr := startGateway(t, bbs, Config{NegotiationWait: 200 * time.Millisecond})
	c := dialGateway(t, addr)

	if got := c.readUntil(gatewayOpening); got != gatewayOpening {
		t.Fatalf("opening %q, want %q", got, gatewayOpening)
	}
	c.write(inetutilsAnswers, true)
	// The BBS's welcome and the terminal-type request race; both come.
	got := c.readUntil(ttypeSend, "> ")
	if strings.Count(got, ttypeSend) != 1 || strings.Replace(got, ttypeSend, "", 1) != welcomeText {
		t.Fatalf("after negotiating: %q, want %q and one terminal-type request", got, welcomeText)
	}

	c.write("\xff\xfa\x18\x00VT100\xff\xf0"+"zex\x7fd\r\x00", true)
	if got, want := c.readUntil(": "), "zex\b \bd\r\nPassword:\r\n: "; got != want {
		t.Fatalf("name typed: %q, want %q", got, want)
	}
	c.write("s3cret\r\n", true)
	if got, want := c.readUntil("> "), "\r\nHello, zed\r\nCommand\r\n> "; got != want {
		t.Fatalf("password typed: %q, want %q (nothing echoed)", got, want)
	}
	c.write("Q\n", true)
	if got, want := c.readToEOF(), "Q\r\nBye!\r\n\r\n"; got != want {
		t.Fatalf("after exit: %q, want %q, then the end", got, want)
	}
	bbs.waitGone(t)

	// The window size came before the BBS was dialled; the terminal type,
	// which came later, goes with the next line, and every line after.
	term := `{"type":"VT100","width":100,"height":30,"ansi":true,"keys":true,"bin":true}`
	want := []string{withTerminal(connectReq, `{"width":100,"height":30,"ansi":true,"keys":true,"bin":true}`),
		withTerminal(req("zed"), term), withTerminal(req("s3cret"), term), withTerminal(req("Q"), term)}
	if got := bbs.receivedRequests(); !slices.Equal(got, want) {
		t.Errorf("BBS received %q, want %q", got, want)
	}
	<-bbs.callers // at "connect": nothing known yet
	info := <-bbs.callers
	if len(info) != 1 || info[0].TerminalType != "VT100" || info[0].Width != 100 || info[0].Height != 30 ||
		info[0].Remote != c.conn.LocalAddr().String() {
		t.Errorf("Callers at the second request = %+v, want VT100 100x30 from %v", info, c.conn.LocalAddr())
	}
	if remote := <-bbs.remotes; remote.String() != c.conn.LocalAddr().String() {
		t.Errorf("Dial got remote %v, want %v", remote, c.conn.LocalAddr())
	}
}

// A client that negotiates nothing (nc) echoes by itself: the gateway
// must not echo, nor add newlines after a line. Its hang-up ends the
// call at the BBS.
func TestGatewayPlainClientAndCallerHangUp(t *testing.T) {
	bbs := newFakeBBS(false, welcome, askPassword, menu)
	_, addr := startGateway(t, bbs, Config{})
	c := dialGateway(t, addr)

	if got, want := c.readUntil("> "), gatewayOpening+welcomeText; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	c.write("zed\n", false)
	if got, want := c.readUntil(": "), "Password:\r\n: "; got != want {
		t.Fatalf("name typed: %q, want %q", got, want)
	}
	c.write("pw\r\n", false)
	if got, want := c.readUntil("> "), "Hello, zed\r\nCommand\r\n> "; got != want {
		t.Fatalf("password typed: %q, want %q", got, want)
	}
	c.conn.Close()
	bbs.waitGone(t)
	if got, want := bbs.receivedRequests(), []string{connectReq, req("zed"), req("pw")}; !slices.Equal(got, want) {
		t.Errorf("BBS received %q, want %q", got, want)
	}
}

func TestGatewayTypeAhead(t *testing.T) {
	next := []message.Message{{Type: message.TypePrompt, Msg: "Next", PChar: "> "}}
	bbs := newFakeBBS(true, welcome, next, goodbye)
	_, addr := startGateway(t, bbs, Config{})
	c := dialGateway(t, addr)
	c.write("\xff\xfd\x01", false) // DO ECHO
	c.readUntil("> ")
	c.write("one\rtwo\r", false)
	if got, want := c.readToEOF(), "one\r\nNext\r\n> two\r\nBye!\r\n\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := bbs.receivedRequests(), []string{withTerminal(connectReq, echoedTelnet), withTerminal(req("one"), echoedTelnet), withTerminal(req("two"), echoedTelnet)}; !slices.Equal(got, want) {
		t.Errorf("BBS received %q, want %q", got, want)
	}
}

func TestGatewayTypeAheadLimit(t *testing.T) {
	bbs := newFakeBBS(false, welcome)
	bbs.hold = make(chan struct{})
	_, addr := startGateway(t, bbs, Config{MaxTypeAhead: 4})
	c := dialGateway(t, addr)
	c.write("\xff\xfd\x01", false) // DO ECHO
	c.readUntil(gatewayOpening)
	c.write("abcdefgh\r", false) // before any prompt
	if got := c.readUntil("\a"); got != "\a" {
		t.Fatalf("got %q, want a bell", got)
	}
	close(bbs.hold)
	if got, want := c.readUntil("> abcd"), welcomeText+"abcd"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	c.write("\r", false)
	c.readUntil("\r\n")
	c.conn.Close()
	bbs.waitGone(t)
	if got, want := bbs.receivedRequests(), []string{withTerminal(connectReq, echoedTelnet), withTerminal(req("abcd"), echoedTelnet)}; !slices.Equal(got, want) {
		t.Errorf("BBS received %q, want %q", got, want)
	}
}

func TestGatewayBBSHangsUp(t *testing.T) {
	bbs := newFakeBBS(true, []message.Message{{Type: message.TypeScreen, Msg: "Line noise."}})
	_, addr := startGateway(t, bbs, Config{})
	c := dialGateway(t, addr)
	if got, want := c.readToEOF(), gatewayOpening+"Line noise.\r\n"; got != want {
		t.Errorf("got %q, want %q, then the end", got, want)
	}
}

func TestGatewayCtrlCHangsUp(t *testing.T) {
	bbs := newFakeBBS(false, welcome)
	_, addr := startGateway(t, bbs, Config{})
	c := dialGateway(t, addr)
	c.readUntil("> ")
	c.write("\x03", false)
	if got, want := c.readToEOF(), "\r\nGoodbye.\r\n"; got != want {
		t.Errorf("got %q, want %q, then the end", got, want)
	}
	bbs.waitGone(t)
	if got := bbs.receivedRequests(); !slices.Equal(got, []string{connectReq}) {
		t.Errorf("BBS received %q", got)
	}
}

func TestGatewayDialFails(t *testing.T) {
	_, addr := startGateway(t, nil, Config{Dial: func(context.Context, net.Addr) (net.Conn, error) {
		return nil, errors.New("connection refused")
	}})
	c := dialGateway(t, addr)
	if got, want := c.readToEOF(), gatewayOpening+bbsUnreachable; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestGatewayIdle(t *testing.T) {
	bbs := newFakeBBS(false, welcome)
	_, addr := startGateway(t, bbs, Config{IdleTimeout: 50 * time.Millisecond})
	c := dialGateway(t, addr)
	if got := c.readToEOF(); !strings.HasSuffix(got, "> \r\nIdle too long. Goodbye.\r\n") {
		t.Errorf("got %q", got)
	}
	bbs.waitGone(t)
}

func TestGatewayMaxCallers(t *testing.T) {
	bbs := newFakeBBS(false, welcome)
	_, addr := startGateway(t, bbs, Config{MaxCallers: 1})
	first := dialGateway(t, addr)
	first.readUntil("> ")
	second := dialGateway(t, addr)
	if got, want := second.readToEOF(), "All lines are busy. Please call again later.\r\n"; got != want {
		t.Errorf("second caller got %q, want %q", got, want)
	}
}

func TestServeStops(t *testing.T) {
	bbs := newFakeBBS(false, welcome)
	srv, err := New(Config{Dial: bbs.dial})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	c := dialGateway(t, ln.Addr().String())
	c.readUntil("> ")
	cancel()
	if got := c.readToEOF(); got != "\r\nThe BBS is shutting down. Goodbye.\r\n" {
		t.Errorf("got %q", got)
	}
	c.conn.Close() // as telnet does at the end: Serve need not wait for it to give up
	if err := <-served; err != nil {
		t.Errorf("Serve returned %v", err)
	}
	bbs.waitGone(t)
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("the listener is still open")
	}
}

func TestNewChecksConfig(t *testing.T) {
	dial := func(context.Context, net.Addr) (net.Conn, error) { return nil, nil }
	if _, err := New(Config{}); !errors.Is(err, ErrNoDial) {
		t.Errorf("no Dial: %v", err)
	}
	for _, route := range []string{"bbs", "@", "@b b", "@bbs\x00"} {
		if _, err := New(Config{Dial: dial, Route: route}); !errors.Is(err, ErrBadRoute) {
			t.Errorf("route %q: %v", route, err)
		}
	}
	if _, err := New(Config{Dial: dial, Route: "@bbs.2"}); err != nil {
		t.Errorf("route @bbs.2: %v", err)
	}
}

// TestHuntsForAFreeLine: with phone lines to hunt through, a call that
// finds a line busy (its first message is an exit) tries the next; the
// caller sees BUSY for each busy line and then the board of a free one.
// When every line is busy, the caller hears the last busy signal.
func TestHuntsForAFreeLine(t *testing.T) {
	busy := []message.Message{{Type: message.TypeExit, Msg: "All lines are busy."}}
	welcome := []message.Message{{Type: message.TypePrompt, Msg: "Welcome on a free line.", PChar: "> "}}
	for _, tc := range []struct {
		name      string
		free      string // the route that answers; "" for none
		wantFree  bool
		wantBusys int
	}{
		{"one of two free", "@bbs.2", true, -1},
		{"all busy", "", false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var dialled []string
			dial := func(ctx context.Context, remote net.Addr) (net.Conn, error) {
				gateway, bbs := net.Pipe()
				go func() {
					defer bbs.Close()
					r := bufio.NewReader(bbs)
					first, err := r.ReadString(0)
					if err != nil {
						return
					}
					route, _, _ := strings.Cut(first, " ")
					mu.Lock()
					dialled = append(dialled, route)
					mu.Unlock()
					reply := busy
					if route == tc.free {
						reply = welcome
					}
					for _, m := range reply {
						js, _ := json.Marshal(m)
						io.WriteString(bbs, base64.StdEncoding.EncodeToString(js)+"\x00")
					}
					if route == tc.free {
						r.ReadString(0) // stay until the gateway hangs up
					}
				}()
				return gateway, nil
			}
			_, addr := startGateway(t, nil, Config{Dial: dial, Routes: []string{"@bbs.1", "@bbs.2"}})
			c := dialGateway(t, addr)
			var screen string
			if tc.wantFree {
				screen = c.readUntil("Welcome on a free line.")
			} else {
				screen = c.readToEOF()
			}
			mu.Lock()
			got := slices.Clone(dialled)
			mu.Unlock()
			if tc.wantFree {
				if n := strings.Count(screen, "BUSY"); n != len(got)-1 || got[len(got)-1] != "@bbs.2" {
					t.Errorf("dialled %v and saw %d BUSY:\n%q", got, n, screen)
				}
			} else {
				if len(got) != 2 || strings.Count(screen, "BUSY") != 1 || !strings.Contains(screen, "All lines are busy.") {
					t.Errorf("dialled %v; screen:\n%q", got, screen)
				}
			}
		})
	}
}

// echoed is the terminal a caller's requests say when all the gateway
// knows is that it echoes for them: keystroke mode is possible.
const echoed = `{"ansi":true,"keys":true}`

// echoedTelnet is echoed for a telnet caller, who can also do binary
// stream mode.
const echoedTelnet = `{"ansi":true,"keys":true,"bin":true}`
