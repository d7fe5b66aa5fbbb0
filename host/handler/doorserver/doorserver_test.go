package doorserver

import (
	"bytes"

	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/rlogin"
	"github.com/m2bbs/m2bbs/host/gateway/telnet"
)

func TestHandshakeTemplates(t *testing.T) {
	for _, c := range []struct {
		name   string
		server Server
		caller Caller
		want   rlogin.Handshake
		err    error
	}{
		{"defaults", Server{Name: "s", Secret: "pw"}, Caller{User: "ann", Terminal: "xterm"},
			rlogin.Handshake{ClientUser: "pw", ServerUser: "ann", Terminal: "ansi-bbs", Speed: 38400}, nil},
		{"the caller's terminal", Server{Name: "s", Terminal: "{terminal}"}, Caller{User: "ann", Terminal: "xterm"},
			rlogin.Handshake{ServerUser: "ann", Terminal: "xterm", Speed: 38400}, nil},
		{"an m2bbs door server", Server{Name: "s", Secret: "pw", ServerUser: "alpha:{user}"}, Caller{User: "ann"},
			rlogin.Handshake{ClientUser: "pw", ServerUser: "alpha:ann", Terminal: "ansi-bbs", Speed: 38400}, nil},
		{"a door code", Server{Name: "dp", Secret: "pw", ServerUser: "[TAG]{user}", Terminal: "xtrn={door}"}, Caller{User: "ann", Door: "lord"},
			rlogin.Handshake{ClientUser: "pw", ServerUser: "[TAG]ann", Terminal: "xtrn=lord", Speed: 38400}, nil},
		{"a terminal with a slash", Server{Name: "s", Terminal: "{terminal}"}, Caller{User: "ann", Terminal: "ansi/9600"},
			rlogin.Handshake{ServerUser: "ann", Terminal: "ansi", Speed: 38400}, nil},
		{"a bad door code", Server{Name: "s", Terminal: "xtrn={door}"}, Caller{User: "ann", Door: "lo rd\x00"}, rlogin.Handshake{}, ErrBadCaller},
		{"no caller", Server{Name: "s"}, Caller{}, rlogin.Handshake{}, ErrBadCaller},
		{"too long", Server{Name: "s", ServerUser: strings.Repeat("x", rlogin.MaxServerUser) + "{user}"}, Caller{User: "ann"}, rlogin.Handshake{}, ErrBadCaller},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.server.Handshake(c.caller)
			if got != c.want || !errors.Is(err, c.err) {
				t.Errorf("got %+v, %v; want %+v, %v", got, err, c.want, c.err)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	good := Server{Name: "alpha-doors", Address: "127.0.0.1:513"}
	if err := good.Check(); err != nil {
		t.Errorf("%+v: %v", good, err)
	}
	for _, bad := range []Server{
		{Name: "", Address: "127.0.0.1:513"},
		{Name: "a b", Address: "127.0.0.1:513"},
		{Name: "a", Address: "127.0.0.1"},
		{Name: "a", Address: "127.0.0.1:513", Protocol: "ssh"},
		{Name: "a", Address: "127.0.0.1:513", Charset: "latin1"},
	} {
		if err := bad.Check(); !errors.Is(err, ErrBadServer) {
			t.Errorf("%+v: %v, want ErrBadServer", bad, err)
		}
	}
}

// listen serves each connection on a free port with serve.
func listen(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer nc.Close(); serve(nc) }()
		}
	}()
	return ln.Addr().String()
}

// TestDialRLogin: the server gets the handshake of the templates; its
// output reaches the caller and the caller's keys reach it; a refusal
// comes back as one.
func TestDialRLogin(t *testing.T) {
	handshakes := make(chan rlogin.Handshake, 2)
	addr := listen(t, func(nc net.Conn) {
		buf := make([]byte, rlogin.MaxHandshake)
		n, _ := io.ReadAtLeast(nc, buf, 4)
		for {
			h, _, err := rlogin.ParseHandshake(buf[:n])
			if err == nil {
				handshakes <- h
				if h.ClientUser != "pw" {
					_, _ = nc.Write([]byte("\x01wrong secret\r\n"))
					return
				}
				_, _ = nc.Write([]byte("\x00Welcome, " + h.ServerUser + "\r\n"))
				_, _ = io.Copy(nc, nc) // echo
				return
			}
			m, err := nc.Read(buf[n:])
			if err != nil {
				return
			}
			n += m
		}
	})
	s := Server{Name: "alpha", Address: addr, Secret: "pw", ServerUser: "alpha:{user}", Terminal: "{terminal}"}
	stream, err := s.Dial(t.Context(), Caller{User: "ann", Terminal: "xterm"})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	if h := <-handshakes; h.ServerUser != "alpha:ann" || h.Terminal != "xterm" {
		t.Errorf("the server got %+v", h)
	}
	if _, err := stream.Write([]byte("hello\r")); err != nil {
		t.Fatal(err)
	}
	if got := readFor(t, stream, "hello\r"); !strings.Contains(got, "Welcome, alpha:ann") {
		t.Errorf("the caller saw %q", got)
	}
	s.Secret = "wrong"
	if _, err := s.Dial(t.Context(), Caller{User: "ann"}); !rlogin.IsRefused(err) || !strings.Contains(err.Error(), "wrong secret") {
		t.Errorf("a refused dial: %v", err)
	}
}

// readFor reads r until want shows, within 5 seconds.
func readFor(t *testing.T, r io.Reader, want string) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		var b []byte
		buf := make([]byte, 256)
		for !bytes.Contains(b, []byte(want)) {
			n, err := r.Read(buf)
			b = append(b, buf[:n]...)
			if err != nil {
				break
			}
		}
		got <- string(b)
	}()
	select {
	case s := <-got:
		return s
	case <-time.After(5 * time.Second):
		t.Fatalf("%q never came", want)
		return ""
	}
}

// TestDialTelnet: a telnet door server's negotiation is answered (echo
// and go-ahead taken, the terminal type given, the rest refused) and kept
// out of the caller's bytes; the caller's IAC and CR are escaped.
func TestDialTelnet(t *testing.T) {
	heard := make(chan []byte, 1)
	addr := listen(t, func(nc net.Conn) {
		var out []byte
		out = telnet.AppendNegotiation(out, telnet.WILL, telnet.OptEcho)
		out = telnet.AppendNegotiation(out, telnet.WILL, telnet.OptEcho) // asked twice: answered once
		out = telnet.AppendNegotiation(out, telnet.DO, telnet.OptTerminalType)
		out = telnet.AppendNegotiation(out, telnet.DO, telnet.OptLinemode)
		out = telnet.AppendSubnegotiation(out, telnet.OptTerminalType, []byte{telnet.TerminalTypeSend})
		out = append(out, "Hello \xff\xffworld\r\n"...)
		_, _ = nc.Write(out)
		_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		var got []byte
		buf := make([]byte, 256)
		for !bytes.HasSuffix(got, []byte("q\r\x00")) {
			n, err := nc.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				break
			}
		}
		heard <- got
	})
	s := Server{Name: "tel", Protocol: ProtocolTelnet, Address: addr, Terminal: "{terminal}", Secret: "pw"}
	stream, err := s.Dial(t.Context(), Caller{User: "ann", Terminal: "ansi-bbs"})
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	if got := readFor(t, stream, "world\r\n"); got != "Hello \xffworld\r\n" {
		t.Errorf("the caller saw %q", got)
	}
	if _, err := stream.Write([]byte("\xffq\r")); err != nil {
		t.Fatal(err)
	}
	want := string(telnet.AppendNegotiation(nil, telnet.DO, telnet.OptEcho)) +
		string(telnet.AppendNegotiation(nil, telnet.WILL, telnet.OptTerminalType)) +
		string(telnet.AppendNegotiation(nil, telnet.WONT, telnet.OptLinemode)) +
		string(telnet.AppendSubnegotiation(nil, telnet.OptTerminalType, []byte("\x00ansi-bbs"))) +
		"\xff\xffq\r\x00"
	if got := string(<-heard); got != want {
		t.Errorf("the server heard %q, want %q", got, want)
	}
}

// TestOpenDialsInTheBackground: Open returns before the server answers;
// the first Read waits for the call; a failed dial is the Read's error;
// Close ends a dial under way.
func TestOpenDialsInTheBackground(t *testing.T) {
	answer := make(chan struct{})
	addr := listen(t, func(nc net.Conn) {
		buf := make([]byte, rlogin.MaxHandshake)
		_, _ = nc.Read(buf)
		<-answer
		_, _ = nc.Write([]byte("\x00hello"))
		_, _ = io.Copy(io.Discard, nc)
	})
	s := Server{Name: "slow", Address: addr}
	start := time.Now()
	stream := s.Open(Caller{User: "ann"})
	if took := time.Since(start); took > time.Second {
		t.Errorf("Open took %v", took)
	}
	close(answer)
	if got := readFor(t, stream, "hello"); got != "hello" {
		t.Errorf("read %q", got)
	}
	stream.Close()
	if _, err := stream.Read(make([]byte, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("read after Close: %v", err)
	}

	refused := Server{Name: "gone", Address: "127.0.0.1:1"}.Open(Caller{User: "ann"})
	if _, err := refused.Read(make([]byte, 1)); err == nil || errors.Is(err, ErrClosed) {
		t.Errorf("a failed dial read as %v", err)
	}

	hold := make(chan struct{})
	t.Cleanup(func() { close(hold) })
	silent := listen(t, func(nc net.Conn) { <-hold })
	pending := Server{Name: "silent", Address: silent}.Open(Caller{User: "ann"})
	done := make(chan error, 1)
	go func() { _, err := pending.Read(make([]byte, 1)); done <- err }()
	pending.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Error("a read of a closed dial succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Error("Close did not end the dial under way")
	}
}

// TestOutputIsPaced: a server pouring out output is read at OutputRate:
// 16 KiB at 40 KiB/s take at least 300 ms (the first piece at once).
func TestOutputIsPaced(t *testing.T) {
	addr := listen(t, func(nc net.Conn) {
		buf := make([]byte, rlogin.MaxHandshake)
		_, _ = nc.Read(buf)
		_, _ = nc.Write([]byte{0})
		_, _ = nc.Write(bytes.Repeat([]byte("x"), 64<<10))
	})
	stream := Server{Name: "flood", Address: addr, OutputRate: 40 << 10}.Open(Caller{User: "ann"})
	defer stream.Close()
	start := time.Now()
	got, buf := 0, make([]byte, 64<<10)
	for got < 16<<10 {
		n, err := stream.Read(buf)
		if n > ReadChunk {
			t.Fatalf("one read gave %d bytes, more than ReadChunk", n)
		}
		got += n
		if err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("16 KiB read in %v at 40 KiB/s", took)
	}
}
