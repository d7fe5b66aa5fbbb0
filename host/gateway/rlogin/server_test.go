package rlogin

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/telnet"
	"github.com/m2bbs/m2bbs/host/shared/keylogin"
)

// fakeBoard stands in for the BBS behind the gateway: it records the
// first request of each call ("connect") and answers with one prompt.
type fakeBoard struct {
	connects chan map[string]any
}

func (b *fakeBoard) dial(ctx context.Context, remote net.Addr) (net.Conn, error) {
	near, far := net.Pipe()
	go func() {
		defer far.Close()
		r := bufio.NewReader(far)
		frame, err := r.ReadBytes(0)
		if err != nil {
			return
		}
		_, body, _ := strings.Cut(string(frame[:len(frame)-1]), " ")
		var m map[string]any
		_ = json.Unmarshal([]byte(body), &m)
		b.connects <- m
		_, _ = far.Write([]byte(`{"type":"prompt","msg":"Guess?","pchar":"> "}` + "\x00"))
		_, _ = r.ReadBytes(0) // until the call ends
	}()
	return near, nil
}

// startServer serves an RLogin gateway with boards on a free port.
func startServer(t *testing.T, boards []Board, tune func(*Config)) (addr string, key keylogin.Key, board *fakeBoard) {
	t.Helper()
	board = &fakeBoard{connects: make(chan map[string]any, 4)}
	calls, err := telnet.New(telnet.Config{Dial: board.dial, RawFrames: true})
	if err != nil {
		t.Fatal(err)
	}
	key = keylogin.NewKey()
	cfg := Config{Calls: calls, Key: key, Boards: boards}
	if tune != nil {
		tune(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return ln.Addr().String(), key, board
}

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// TestAcceptedCallIsVouchedFor: a board with the right secret gets the
// RLogin NUL, the board's prompt, and the host a "connect" whose
// assertion names board:user under the gateway's key, and nothing of the
// secret.
func TestAcceptedCallIsVouchedFor(t *testing.T) {
	addr, key, board := startServer(t, []Board{{Name: "Alpha", Secret: "s3cret"}}, nil)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	nc, err := Dial(ctx, addr, Handshake{ClientUser: "s3cret", ServerUser: "alpha:Bob Smith", Terminal: "ansi-bbs", Speed: 38400})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	var connect map[string]any
	select {
	case connect = <-board.connects:
	case <-ctx.Done():
		t.Fatal("the board was never dialled")
	}
	if connect["msg"] != "connect" {
		t.Errorf("first request %v, want connect", connect)
	}
	a := keylogin.Assertion{Name: str(connect["remote_caller"]), At: int64(num(connect["remote_caller_at"])),
		Nonce: str(connect["remote_caller_nonce"]), MAC: str(connect["remote_caller_mac"])}
	if name, err := keylogin.NewVerifier(key).Verify(a, time.Now()); err != nil || name != "Alpha:Bob_Smith" {
		t.Errorf("the assertion says %q, %v; want Alpha:Bob_Smith", name, err)
	}
	if _, err := keylogin.NewVerifier(keylogin.NewKey()).Verify(a, time.Now()); err == nil {
		t.Error("the assertion passes under another key")
	}
	if term, _ := connect["terminal"].(map[string]any); term == nil || term["type"] != "ansi-bbs" {
		t.Errorf("terminal %v, want type ansi-bbs", connect["terminal"])
	}
	for k, v := range connect {
		if strings.Contains(str(v), "s3cret") {
			t.Errorf("the secret reached the board in %s", k)
		}
	}
	got := readFor(t, nc, "Guess?")
	if !strings.Contains(got, "Guess?") {
		t.Errorf("the caller saw %q, not the board's prompt", got)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func num(v any) float64 {
	n, _ := v.(float64)
	return n
}

// readFor reads from nc until want shows or a deadline passes.
func readFor(t *testing.T, nc net.Conn, want string) string {
	t.Helper()
	_ = nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got []byte
	buf := make([]byte, 1024)
	for !strings.Contains(string(got), want) {
		n, err := nc.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	return string(got)
}

// TestRefusals: each kind of refused call gets RLogin's error byte and
// words saying why, and never reaches the board.
func TestRefusals(t *testing.T) {
	boards := []Board{
		{Name: "alpha", Secret: "s3cret"},
		{Name: "beta", Allow: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}},
		{Name: "gamma", Secret: "g", Allow: loopback},
	}
	addr, _, board := startServer(t, boards, nil)
	for _, c := range []struct {
		name string
		h    Handshake
		want string
	}{
		{"unknown board", Handshake{ClientUser: "x", ServerUser: "delta:bob", Terminal: "ansi"}, `does not serve doors to "delta"`},
		{"wrong secret", Handshake{ClientUser: "guess", ServerUser: "alpha:bob", Terminal: "ansi"}, `"alpha" is refused`},
		{"no secret", Handshake{ServerUser: "alpha:bob", Terminal: "ansi"}, `"alpha" is refused`},
		{"address not allowed", Handshake{ServerUser: "beta:bob", Terminal: "ansi"}, `"beta" is refused`},
		{"allowed address, wrong secret", Handshake{ClientUser: "x", ServerUser: "gamma:bob", Terminal: "ansi"}, `"gamma" is refused`},
		{"no board", Handshake{ClientUser: "s3cret", ServerUser: "bob", Terminal: "ansi"}, "BOARD:NAME"},
		{"bad user", Handshake{ClientUser: "s3cret", ServerUser: "alpha:b<o>b", Terminal: "ansi"}, "BOARD:NAME"},
		{"user too long", Handshake{ClientUser: "s3cret", ServerUser: "alpha:" + strings.Repeat("b", 27), Terminal: "ansi"}, "1 to 26"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			nc, err := Dial(ctx, addr, c.h)
			if err == nil {
				nc.Close()
				t.Fatal("accepted")
			}
			var r *RefusedError
			if !errors.As(err, &r) || !strings.Contains(r.Message, c.want) {
				t.Errorf("err = %v, want a refusal saying %q", err, c.want)
			}
		})
	}
	select {
	case m := <-board.connects:
		t.Errorf("a refused call reached the board: %v", m)
	default:
	}
}

// TestHandshakeLimits: a connection that never finishes its handshake is
// hung up on at the deadline; one that sends too much, or not RLogin, is
// told so at once.
func TestHandshakeLimits(t *testing.T) {
	addr, _, _ := startServer(t, []Board{{Name: "alpha", Secret: "s"}}, func(c *Config) { c.HandshakeTimeout = 300 * time.Millisecond })
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	_, _ = slow.Write([]byte("\x00s\x00alp"))
	start := time.Now()
	_ = slow.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := slow.Read(make([]byte, 1)); err == nil || n != 0 {
		t.Errorf("a half handshake got %d bytes, %v; want a hang-up", n, err)
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Errorf("hung up after %v, want about 300ms", waited)
	}
	for _, junk := range []string{"GET / HTTP/1.1\r\n\r\n", "\x00" + strings.Repeat("x", MaxClientUser+10)} {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = nc.Write([]byte(junk))
		if got := readFor(t, nc, "RLogin"); !strings.HasPrefix(got, "\x01") || !strings.Contains(got, "speaks RLogin") {
			t.Errorf("%.20q: got %q", junk, got)
		}
		nc.Close()
	}
}

func TestBoardCheck(t *testing.T) {
	for _, b := range []Board{
		{Name: "", Secret: "s"},
		{Name: "a:b", Secret: "s"},
		{Name: "waytoolongname", Secret: "s"},
		{Name: "bad name", Secret: "s"},
		{Name: "open"},
		{Name: "long", Secret: strings.Repeat("s", MaxClientUser+1)},
	} {
		if err := b.Check(); !errors.Is(err, ErrBadBoard) {
			t.Errorf("%+v: %v, want ErrBadBoard", b, err)
		}
	}
	if _, err := New(Config{Calls: &telnet.Server{}, Key: keylogin.NewKey(), Boards: []Board{{Name: "a", Secret: "x"}, {Name: "A", Secret: "y"}}}); !errors.Is(err, ErrBadBoard) {
		t.Errorf("a board named twice: %v", err)
	}
	allow, err := ParseAllow("192.0.2.7, 2001:db8::/32 ::ffff:198.51.100.1")
	if err != nil || len(allow) != 3 || !allow[2].Contains(netip.MustParseAddr("198.51.100.1")) {
		t.Errorf("ParseAllow: %v %v", allow, err)
	}
	if _, err := ParseAllow("192.0.2.300"); err == nil {
		t.Error("a bad address passed")
	}
}
