package classic

import (
	"bufio"
	"errors"
	"github.com/m2bbs/m2bbs/host/message"
	"io"
	"net"
	"os"
	"reflect"
	"testing"
)

// dialT dials addr for a test and hangs up when it ends.
func dialT(t *testing.T, addr, route string, raw bool) *Client {
	t.Helper()
	c, err := Dial(t.Context(), addr, route, raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestDialRejectsBadRoute(t *testing.T) {
	for _, route := range []string{"", "@", "bbs", "@b bs", "@bbs\x00", "@bbs\n"} {
		if _, err := Dial(t.Context(), "127.0.0.1:1", route, false); !errors.Is(err, ErrBadRoute) {
			t.Errorf("Dial with route %q: err = %v, want ErrBadRoute", route, err)
		}
	}
}

func TestClientSendsClassicBytes(t *testing.T) {
	for _, raw := range []bool{false, true} {
		srv := serveScript(t, "@bbs", raw, []step{
			{"connect", []message.Message{{Type: message.TypePrompt, Msg: "name?", PChar: "> "}}},
			{"zed", []message.Message{{Type: message.TypeExit, Msg: "bye"}}},
		})
		c := dialT(t, srv.addr, "@bbs", raw)
		if err := c.Connect(); err != nil {
			t.Fatal(err)
		}
		if m, err := c.Next(wait); err != nil || !reflect.DeepEqual(m, message.Message{Type: message.TypePrompt, Msg: "name?", PChar: "> "}) {
			t.Fatalf("raw=%v: first message %+v, %v", raw, m, err)
		}
		if err := c.Send("zed"); err != nil {
			t.Fatal(err)
		}
		if m, err := c.Next(wait); err != nil || !reflect.DeepEqual(m, message.Message{Type: message.TypeExit, Msg: "bye"}) {
			t.Fatalf("raw=%v: second message %+v, %v", raw, m, err)
		}
		c.Close()
		res := srv.result(t)
		want := []string{
			`@bbs {"type":"msg","msg":"connect"}` + "\x00",
			`@bbs {"type":"msg","msg":"zed"}` + "\x00",
		}
		if got := stringsOf(res.requests); res.err != nil || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("raw=%v: sent %q (%v), want %q", raw, got, res.err, want)
		}
	}
}

// TestNextTimeoutKeepsPartialFrame: a deadline in the middle of a frame
// loses nothing; the next call completes the frame.
func TestNextTimeoutKeepsPartialFrame(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rest := make(chan struct{})
	frame := []byte(capturedPrompt)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.Write(frame[:10])
		<-rest
		conn.Write(frame[10:])
		io.Copy(io.Discard, conn) // until the caller hangs up
	}()
	c := dialT(t, l.Addr().String(), "@bbs", false)
	if _, err := c.Next(1); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Next with a tiny timeout: %v, want os.ErrDeadlineExceeded", err)
	}
	close(rest)
	if m, err := c.Next(wait); err != nil || m.Msg != "hello 1" {
		t.Fatalf("Next after the timeout: %+v, %v; want the whole prompt", m, err)
	}
}

func TestRunOutOfLines(t *testing.T) {
	srv := serveScript(t, "@bbs", false, loginScript)
	c := dialT(t, srv.addr, "@bbs", false)
	if err := c.Connect(); err != nil {
		t.Fatal(err)
	}
	transcript, err := c.Run([]string{"zed"}, wait)
	want := "Welcome to the test BBS.\nWhat's your name?\n> zed\npassword: \nBye.\n"
	if !errors.Is(err, ErrOutOfLines) || transcript != want {
		t.Errorf("Run = %q, %v; want %q, ErrOutOfLines", transcript, err, want)
	}
}

func TestRunServerHangsUp(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		if _, err := bufio.NewReader(conn).ReadBytes(0); err == nil {
			conn.Write(encodeFrame(message.Message{Type: message.TypeScreen, Msg: "going away"}, false))
		}
	}()
	c := dialT(t, l.Addr().String(), "@bbs", false)
	if err := c.Connect(); err != nil {
		t.Fatal(err)
	}
	transcript, err := c.Run([]string{"unused"}, wait)
	if !errors.Is(err, io.EOF) || transcript != "going away\n" {
		t.Errorf("Run = %q, %v; want %q, io.EOF", transcript, err, "going away\n")
	}
}
