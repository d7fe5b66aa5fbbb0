package mongrel2

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	zmq "github.com/pebbe/zmq4"
)

// wait bounds every wait for Mongrel2 or the handler sockets in these tests.
const wait = 10 * time.Second

func TestAvailable(t *testing.T) {
	if err := Available(); err != nil {
		t.Fatalf("Available: %v (run `make deps`)", err)
	}
}

// startServer starts Mongrel2 in a temporary directory and stops it when
// the test ends.
func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	s, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return s
}

// handler is a test stand-in for the m2bbs host: a PULL socket connected
// to SendSpec and an XPUB socket connected to RecvSpec, each owned by one
// goroutine.
type handler struct {
	requests chan []byte // messages Mongrel2 pushed
	replies  chan []byte // messages to publish to Mongrel2
}

// connectHandler connects the handler sockets and returns once Mongrel2
// can deliver to it (PULL handshake done) and hear from it (its SUB has
// subscribed to our XPUB): signals, not sleeps, against ZeroMQ's slow
// joiners. Mongrel2 drops a request it cannot deliver at once.
func connectHandler(t *testing.T, cfg Config) *handler {
	t.Helper()
	zctx, err := zmq.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	h := &handler{requests: make(chan []byte, 16), replies: make(chan []byte, 16)}
	quit := make(chan struct{})
	pullReady, pubReady := make(chan error, 1), make(chan error, 1)
	t.Cleanup(func() {
		close(quit)
		if err := zctx.Term(); err != nil {
			t.Errorf("zmq term: %v", err)
		}
	})

	go func() { // owns the PULL socket and its monitor
		pull, err := zctx.NewSocket(zmq.PULL)
		if err != nil {
			pullReady <- err
			return
		}
		defer pull.Close()
		err = pull.SetLinger(0)
		if err == nil {
			err = waitHandshake(zctx, pull, cfg.SendSpec)
		}
		pullReady <- err
		if err != nil {
			return
		}
		for {
			msg, err := pull.RecvBytes(0)
			if err != nil { // ETERM at clean-up
				return
			}
			select {
			case h.requests <- msg:
			case <-quit:
				return
			}
		}
	}()

	go func() { // owns the XPUB socket
		pub, err := zctx.NewSocket(zmq.XPUB)
		if err != nil {
			pubReady <- err
			return
		}
		defer pub.Close()
		err = pub.SetLinger(0)
		if err == nil {
			err = pub.SetRcvtimeo(wait)
		}
		if err == nil { // PUB drops at its high-water mark: keep every reply
			err = pub.SetSndhwm(0)
		}
		if err == nil {
			err = pub.Connect(cfg.RecvSpec)
		}
		if err == nil {
			var sub []byte
			sub, err = pub.RecvBytes(0)
			if err == nil && (len(sub) == 0 || sub[0] != 1) {
				err = fmt.Errorf("want a subscribe message, got %q", sub)
			}
		}
		pubReady <- err
		if err != nil {
			return
		}
		for {
			select {
			case msg := <-h.replies:
				if _, err := pub.SendBytes(msg, 0); err != nil {
					return
				}
			case <-quit:
				return
			}
		}
	}()

	for name, ready := range map[string]chan error{"PULL": pullReady, "XPUB": pubReady} {
		if err := <-ready; err != nil {
			t.Fatalf("handler %s socket: %v", name, err)
		}
	}
	return h
}

// waitHandshake connects sock to addr and waits for the ZMTP handshake.
func waitHandshake(zctx *zmq.Context, sock *zmq.Socket, addr string) error {
	monAddr := fmt.Sprintf("inproc://monitor-%p", sock)
	if err := sock.Monitor(monAddr, zmq.EVENT_HANDSHAKE_SUCCEEDED); err != nil {
		return err
	}
	mon, err := zctx.NewSocket(zmq.PAIR)
	if err != nil {
		return err
	}
	defer mon.Close()
	if err := mon.SetLinger(0); err != nil {
		return err
	}
	if err := mon.SetRcvtimeo(wait); err != nil {
		return err
	}
	if err := mon.Connect(monAddr); err != nil {
		return err
	}
	if err := sock.Connect(addr); err != nil {
		return err
	}
	if _, _, _, err := mon.RecvEvent(0); err != nil {
		return fmt.Errorf("handshake with %s: %w", addr, err)
	}
	return sock.Monitor("", 0)
}

func (h *handler) next(t *testing.T) request {
	t.Helper()
	select {
	case msg := <-h.requests:
		req, err := parseRequest(msg)
		if err != nil {
			t.Fatalf("handler got %q: %v", msg, err)
		}
		return req
	case <-time.After(wait):
		t.Fatal("handler got no request")
		return request{}
	}
}

// request is one message Mongrel2 pushed to the handler.
type request struct {
	sender, connID, path string
	headers, body        []byte
	headersEnd           byte // ',' (netstring) or '}' (tnetstring dict)
}

// parseRequest splits `SENDER CONN_ID PATH LEN:HEADERS,LEN:BODY,`.
func parseRequest(msg []byte) (request, error) {
	parts := bytes.SplitN(msg, []byte(" "), 4)
	if len(parts) != 4 {
		return request{}, errors.New("fewer than four fields")
	}
	r := request{sender: string(parts[0]), connID: string(parts[1]), path: string(parts[2])}
	rest := parts[3]
	var err error
	if r.headers, r.headersEnd, rest, err = netstring(rest); err != nil {
		return r, fmt.Errorf("headers: %w", err)
	}
	var bodyEnd byte
	if r.body, bodyEnd, rest, err = netstring(rest); err != nil || bodyEnd != ',' {
		return r, fmt.Errorf("body: %v", err)
	}
	if len(rest) != 0 {
		return r, fmt.Errorf("trailing %q", rest)
	}
	return r, nil
}

// netstring splits `LEN:PAYLOAD,` off b. With protocol='tnetstring' the
// headers end in '}' (a tnetstring dict) instead of ','.
func netstring(b []byte) (payload []byte, end byte, rest []byte, err error) {
	lenText, after, ok := bytes.Cut(b, []byte(":"))
	if !ok {
		return nil, 0, nil, errors.New("no ':'")
	}
	n, err := strconv.Atoi(string(lenText))
	if err != nil || n < 0 || n+1 > len(after) || (after[n] != ',' && after[n] != '}') {
		return nil, 0, nil, fmt.Errorf("bad netstring %q", b)
	}
	return after[:n], after[n], after[n+1:], nil
}

// TestRoundTrip runs the PROTOCOL.md exchange against a real Mongrel2 with
// each handler protocol: caller request in, handler reply out, hang-up
// notice, clean stop.
func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		protocol string
		headers  func(t *testing.T, r request, method string)
	}{
		{ProtocolJSON, func(t *testing.T, r request, method string) {
			h := r.headers
			var m map[string]string
			if r.headersEnd != ',' {
				t.Errorf("headers end in %q, want ','", r.headersEnd)
			}
			if err := json.Unmarshal(h, &m); err != nil {
				t.Fatalf("headers %q: %v", h, err)
			}
			if m["METHOD"] != method {
				t.Errorf("METHOD = %q, want %q in %s", m["METHOD"], method, h)
			}
		}},
		{ProtocolTNetstring, func(t *testing.T, r request, method string) {
			want := fmt.Sprintf("6:METHOD,%d:%s,", len(method), method)
			if r.headersEnd != '}' || !bytes.Contains(r.headers, []byte(want)) {
				t.Errorf("headers %q%c: want a tnetstring dict with %q", r.headers, r.headersEnd, want)
			}
		}},
	} {
		t.Run(tc.protocol, func(t *testing.T) {
			s := startServer(t, Config{SenderID: "test-handler", Protocol: tc.protocol})
			h := connectHandler(t, s.Cfg)

			caller, err := net.DialTimeout("tcp", s.Addr(), wait)
			if err != nil {
				t.Fatal(err)
			}
			defer caller.Close()
			if _, err := caller.Write([]byte(`@bbs {"type":"msg","msg":"connect"}` + "\x00")); err != nil {
				t.Fatal(err)
			}

			req := h.next(t)
			if req.sender != "test-handler" || req.path != "@bbs" || string(req.body) != `{"type":"msg","msg":"connect"}` {
				t.Errorf("request = %q %q %q body %q, want test-handler ID @bbs body {...connect}",
					req.sender, req.connID, req.path, req.body)
			}
			if _, err := strconv.Atoi(req.connID); err != nil {
				t.Errorf("conn id %q is not a number", req.connID)
			}
			tc.headers(t, req, "JSON")

			want := `{"type": "prompt", "msg": "hello", "pchar": "> "}`
			h.replies <- fmt.Appendf(nil, "test-handler %d:%s, %s\x00",
				len(req.connID), req.connID, base64.StdEncoding.EncodeToString([]byte(want)))
			if err := caller.SetReadDeadline(time.Now().Add(wait)); err != nil {
				t.Fatal(err)
			}
			frame, err := bufio.NewReader(caller).ReadBytes(0)
			if err != nil {
				t.Fatalf("caller read: %v (got %q)", err, frame)
			}
			got, err := base64.StdEncoding.DecodeString(string(bytes.TrimSuffix(frame, []byte{0})))
			if err != nil || string(got) != want {
				t.Errorf("caller got %q (%v), want base64 of %s", frame, err, want)
			}

			caller.Close()
			bye := h.next(t)
			if bye.connID != req.connID || bye.path != "@*" || string(bye.body) != `{"type":"disconnect"}` {
				t.Errorf("hang-up notice = %q %q %q, want %s @* {\"type\":\"disconnect\"}", bye.connID, bye.path, bye.body, req.connID)
			}
			tc.headers(t, bye, "JSON")

			stopAndCheckGone(t, s)
		})
	}
}

// stopAndCheckGone stops s and checks that neither mongrel2 nor m2sh is
// left, not even as a zombie.
func stopAndCheckGone(t *testing.T, s *Server) {
	t.Helper()
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	select {
	case <-s.Done():
	default:
		t.Error("Done not closed after Stop")
	}
	for name, pid := range map[string]int{"mongrel2": s.PID, "m2sh": s.m2sh.Process.Pid} {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s pid %d still exists after Stop (kill 0: %v)", name, pid, err)
		}
	}
	if _, err := os.Stat(filepath.Join(s.Cfg.Dir, pidFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pid file left behind: %v", err)
	}
}

// TestMongrel2InM2shGroup checks what Stop's SIGKILL relies on: mongrel2
// stays in the process group of the m2sh that started it.
func TestMongrel2InM2shGroup(t *testing.T) {
	s := startServer(t, Config{})
	pgid, err := syscall.Getpgid(s.PID)
	if err != nil {
		t.Fatal(err)
	}
	if pgid != s.m2sh.Process.Pid {
		t.Errorf("mongrel2 pgid = %d, want m2sh's pid %d", pgid, s.m2sh.Process.Pid)
	}
	stopAndCheckGone(t, s)
}

// TestStopAfterM2shDied kills m2sh alone, orphaning mongrel2: Stop must
// still end mongrel2.
func TestStopAfterM2shDied(t *testing.T) {
	s := startServer(t, Config{})
	if err := s.m2sh.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.Done()
	if !alive(s.PID) {
		t.Fatalf("mongrel2 (pid %d) died with m2sh; the test no longer covers orphans", s.PID)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if alive(s.PID) { // a zombie awaiting init counts as gone
		t.Errorf("orphaned mongrel2 pid %d still running after Stop", s.PID)
	}
}

func TestStartRefusesTakenPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = Start(t.Context(), Config{Dir: t.TempDir(), Port: l.Addr().(*net.TCPAddr).Port})
	if !errors.Is(err, ErrPortInUse) {
		t.Fatalf("Start on a taken port: err = %v, want ErrPortInUse", err)
	}
}

func TestStartRefusesLivePIDFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Our own PID stands in for a live mongrel2.
	if err := os.WriteFile(filepath.Join(dir, pidFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Start(t.Context(), Config{Dir: dir})
	if !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("err = %v, want ErrAlreadyRunning", err)
	}
}

func TestStartClearsStalePIDFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, pidFile), []byte("999999999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{Dir: dir})
	if s.PID == 999999999 {
		t.Fatal("Start read the stale pid file")
	}
	stopAndCheckGone(t, s)
}

func TestStartRefusesTakenHandlerAddress(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, err = Start(t.Context(), Config{Dir: t.TempDir(), RecvSpec: "tcp://" + l.Addr().String()})
	if !errors.Is(err, ErrPortInUse) || !strings.Contains(err.Error(), l.Addr().String()) {
		t.Fatalf("err = %v, want ErrPortInUse naming %s", err, l.Addr())
	}
}

// TestStartReportsMongrel2Failure makes Mongrel2 exit at start-up (its
// error log cannot be opened) and expects an error quoting its output.
func TestStartReportsMongrel2Failure(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, errorLog, "in-the-way"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	s, err := Start(ctx, Config{Dir: dir})
	if err == nil {
		s.Stop()
		t.Fatal("Start succeeded without an error log")
	}
	if !errors.Is(err, ErrStartFailed) || !strings.Contains(err.Error(), "--- "+m2shLog) {
		t.Fatalf("err = %v, want ErrStartFailed quoting %s", err, m2shLog)
	}
	t.Logf("the error reads:\n%v", err)
}

func TestStartRejectsBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no dir":       {},
		"route":        {Dir: t.TempDir(), Route: "bbs"},
		"http route":   {Dir: t.TempDir(), HTTPRoutes: []string{"status"}},
		"protocol":     {Dir: t.TempDir(), Protocol: "xml"},
		"quote":        {Dir: t.TempDir(), SenderID: "a'b"},
		"same specs":   {Dir: t.TempDir(), SendSpec: "tcp://127.0.0.1:1", RecvSpec: "tcp://127.0.0.1:1"},
		"port too big": {Dir: t.TempDir(), Port: 70000},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Start(t.Context(), cfg); !errors.Is(err, ErrBadConfig) {
				t.Errorf("err = %v, want ErrBadConfig", err)
			}
		})
	}
}

func TestRender(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string
	}{
		{"defaults", Config{}, []string{
			"send_spec='tcp://127.0.0.1:9997'", "send_ident='m2bbs'", "recv_spec='tcp://127.0.0.1:9996'",
			"raw_payload=1", "protocol='json'", "bind_addr='127.0.0.1'", "port=6767",
			"routes={'@bbs': bbs}", "'server.daemonize': 0", "'limits.min_ping': 960",
		}},
		{"custom", Config{Port: 2323, ListenAll: true, Route: "@chat", SenderID: "h1",
			SendSpec: "tcp://127.0.0.1:1", RecvSpec: "tcp://127.0.0.1:2", Base64Payload: true, Protocol: ProtocolTNetstring},
			[]string{
				"send_spec='tcp://127.0.0.1:1'", "send_ident='h1'", "recv_spec='tcp://127.0.0.1:2'",
				"raw_payload=0", "protocol='tnetstring'", "bind_addr='0.0.0.0'", "port=2323",
				"routes={'@chat': bbs}", "Callers connect to 0.0.0.0:2323",
			}},
		{"web root", Config{WebRoot: "web"}, []string{
			"web = Dir(base='web/', index_file='index.html', default_ctype='text/plain')", "'/': web",
		}},
		{"http routes", Config{HTTPRoutes: []string{"/status", "/who"}}, []string{
			"routes={'@bbs': bbs, '/status': bbs, '/who': bbs}",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(Render(tc.cfg))
			if !strings.HasPrefix(got, "# ") {
				t.Errorf("no comment header:\n%s", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
		})
	}
}

// openLoaded opens, read-only, the config.sqlite m2sh loaded into dir.
func openLoaded(t *testing.T, dir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, dbFile)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestRenderLoads checks that m2sh accepts Render's output and stores what
// it says, bind address included.
func TestRenderLoads(t *testing.T) {
	cfg := Config{Dir: t.TempDir(), Port: 2323, ListenAll: true, Route: "@chat", SenderID: "h1",
		SendSpec: "tcp://127.0.0.1:1", RecvSpec: "tcp://127.0.0.1:2", Protocol: ProtocolTNetstring}
	if err := load(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	db := openLoaded(t, cfg.Dir)
	var got [9]string
	err := db.QueryRow(`SELECT s.bind_addr, s.port, s.chroot, s.pid_file, r.path,
		h.send_spec, h.send_ident, h.recv_spec, h.raw_payload || '/' || h.protocol
		FROM server s JOIN host ON host.server_id = s.id JOIN route r ON r.host_id = host.id
		JOIN handler h ON h.id = r.target_id`).
		Scan(&got[0], &got[1], &got[2], &got[3], &got[4], &got[5], &got[6], &got[7], &got[8])
	if err != nil {
		t.Fatal(err)
	}
	want := [9]string{"0.0.0.0", "2323", "./", "/run/mongrel2.pid", "@chat",
		"tcp://127.0.0.1:1", "h1", "tcp://127.0.0.1:2", "1/tnetstring"}
	if got != want {
		t.Errorf("loaded config = %q, want %q", got, want)
	}
	var daemonize string
	if err := db.QueryRow(`SELECT value FROM setting WHERE key = 'server.daemonize'`).Scan(&daemonize); err != nil || daemonize != "0" {
		t.Errorf("server.daemonize = %q (%v), want 0", daemonize, err)
	}
}

func TestFreePort(t *testing.T) {
	p, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
	if err != nil {
		t.Fatalf("port %d from FreePort is not free: %v", p, err)
	}
	l.Close()
}
