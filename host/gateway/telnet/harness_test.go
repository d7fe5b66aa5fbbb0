package telnet

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/message"
)

// waitLimit bounds every wait in these tests; nothing waits for it to pass.
const waitLimit = 10 * time.Second

// fakeBBS plays the BBS behind the gateway's Dial, over a net.Pipe: it
// answers the i-th request it reads with replies[i], records every
// request byte for byte, and after the last reply either hangs up
// (hangUp) or reads on until the gateway hangs up.
type fakeBBS struct {
	replies [][]message.Message
	hangUp  bool
	srv     *Server       // if set, its callers are recorded at each request
	hold    chan struct{} // if set, the first replies wait until it is closed

	requests chan string       // every request, raw, NUL included
	callers  chan []CallerInfo // Server.Callers at each request
	gone     chan struct{}     // closed when the gateway hung up on the BBS
	remotes  chan net.Addr     // the remote address Dial was given
}

func newFakeBBS(hangUp bool, replies ...[]message.Message) *fakeBBS {
	return &fakeBBS{
		replies:  replies,
		hangUp:   hangUp,
		requests: make(chan string, 100),
		callers:  make(chan []CallerInfo, 100),
		gone:     make(chan struct{}),
		remotes:  make(chan net.Addr, 1),
	}
}

// dial is the gateway's Config.Dial.
func (b *fakeBBS) dial(ctx context.Context, remote net.Addr) (net.Conn, error) {
	gateway, bbs := net.Pipe()
	b.remotes <- remote
	go b.serve(bbs)
	return gateway, nil
}

func (b *fakeBBS) serve(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	for i := 0; ; i++ {
		req, err := r.ReadString(0)
		if err != nil {
			close(b.gone)
			return
		}
		b.requests <- req
		if b.srv != nil {
			b.callers <- b.srv.Callers()
		}
		if i == 0 && b.hold != nil {
			<-b.hold
		}
		if i < len(b.replies) {
			for _, m := range b.replies[i] {
				js, _ := json.Marshal(m)
				if _, err := io.WriteString(conn, base64.StdEncoding.EncodeToString(js)+"\x00"); err != nil {
					close(b.gone)
					return
				}
			}
			if i == len(b.replies)-1 && b.hangUp {
				close(b.gone)
				return
			}
		}
	}
}

// receivedRequests returns the requests read so far.
func (b *fakeBBS) receivedRequests() []string {
	var got []string
	for {
		select {
		case r := <-b.requests:
			got = append(got, r)
		default:
			return got
		}
	}
}

// waitGone waits until the gateway has hung up on the BBS.
func (b *fakeBBS) waitGone(t *testing.T) {
	t.Helper()
	select {
	case <-b.gone:
	case <-time.After(waitLimit):
		t.Fatal("the gateway never hung up on the BBS")
	}
}

// withTerminal is request r with the "terminal" member js.
func withTerminal(r, js string) string { return withMember(r, "terminal", js) }

// withMember is request r with the member key: js.
func withMember(r, key, js string) string {
	return string(classic.AppendMember([]byte(r), key, []byte(js)))
}

// req is the request the gateway should send for line.
func req(line string) string {
	return string(classic.WithANSI(classic.AppendRequest(nil, "@bbs", line)))
}

// startGateway serves cfg (Dial and Log filled in) on a free port and
// returns the server and its address; it stops at the end of the test.
func startGateway(t *testing.T, bbs *fakeBBS, cfg Config) (*Server, string) {
	t.Helper()
	if cfg.Dial == nil {
		cfg.Dial = bbs.dial
	}
	cfg.Log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if bbs != nil {
		bbs.srv = srv
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return srv, ln.Addr().String()
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// telnetClient speaks raw bytes to the gateway.
type telnetClient struct {
	t    *testing.T
	conn net.Conn
	buf  []byte // read but not yet returned
}

func dialGateway(t *testing.T, addr string) *telnetClient {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &telnetClient{t: t, conn: conn}
}

// readUntil reads until everything in marks has arrived and returns the
// output up to the end of the last of them; what follows stays buffered.
func (c *telnetClient) readUntil(marks ...string) string {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(waitLimit))
	chunk := make([]byte, 4096)
	for {
		end, all := 0, true
		for _, m := range marks {
			i := bytes.Index(c.buf, []byte(m))
			if i < 0 {
				all = false
				break
			}
			end = max(end, i+len(m))
		}
		if all {
			out := string(c.buf[:end])
			c.buf = c.buf[end:]
			return out
		}
		n, err := c.conn.Read(chunk)
		c.buf = append(c.buf, chunk[:n]...)
		if err != nil {
			c.t.Fatalf("waiting for %q: %v; got %q", marks, err, c.buf)
		}
	}
}

// readToEOF reads until the gateway hangs up and returns what came.
func (c *telnetClient) readToEOF() string {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(waitLimit))
	rest, err := io.ReadAll(c.conn)
	if err != nil && !errors.Is(err, io.EOF) {
		c.t.Fatalf("waiting for the gateway to hang up: %v; got %q", err, append(c.buf, rest...))
	}
	out := string(append(c.buf, rest...))
	c.buf = nil
	return out
}

// write sends s, one byte per write when bytewise.
func (c *telnetClient) write(s string, bytewise bool) {
	c.t.Helper()
	chunks := []string{s}
	if bytewise {
		chunks = chunks[:0]
		for i := range len(s) {
			chunks = append(chunks, s[i:i+1])
		}
	}
	for _, ch := range chunks {
		if _, err := io.WriteString(c.conn, ch); err != nil {
			c.t.Fatalf("write %q: %v", ch, err)
		}
	}
}
