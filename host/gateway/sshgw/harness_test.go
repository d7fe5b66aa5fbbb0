package sshgw

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/m2bbs/m2bbs/host/gateway/telnet"
	"github.com/m2bbs/m2bbs/host/message"
)

// waitLimit bounds every wait in these tests; nothing waits for it to pass.
const waitLimit = 10 * time.Second

// fakeBoard plays the BBS behind the calls' Dial: its first prompt asks
// a name, its second (a secret) a password, then it answers each line
// with "echo: LINE" and a prompt, and says goodbye to "bye".
func fakeBoard(ctx context.Context, remote net.Addr) (net.Conn, error) {
	gateway, board := net.Pipe()
	go func() {
		defer board.Close()
		r := bufio.NewReader(board)
		send := func(m message.Message) bool {
			js, _ := json.Marshal(m)
			_, err := io.WriteString(board, base64.StdEncoding.EncodeToString(js)+"\x00")
			return err == nil
		}
		for i := 0; ; i++ {
			req, err := r.ReadString(0)
			if err != nil {
				return
			}
			var body struct{ Msg string }
			_, js, _ := strings.Cut(strings.TrimSuffix(req, "\x00"), " ")
			_ = json.Unmarshal([]byte(js), &body)
			var m message.Message
			switch {
			case i == 0:
				m = message.Message{Type: message.TypePrompt, Msg: "Name?", PChar: "> "}
			case i == 1:
				m = message.Message{Type: message.TypePrompt, Msg: "Password?", PChar: "> ", Secret: true}
			case body.Msg == "bye":
				send(message.Message{Type: message.TypeExit, Msg: "Bye."})
				return
			default:
				m = message.Message{Type: message.TypePrompt, Msg: "echo: " + body.Msg, PChar: "> "}
			}
			if !send(m) {
				return
			}
		}
	}()
	return gateway, nil
}

// fakeAuth knows the accounts in users (name → password); each check
// takes hashTime, and the most run at once is recorded.
type fakeAuth struct {
	users    map[string]string
	hashTime time.Duration

	checks, running, most atomic.Int32

	// flooded, if set, is closed by the floodAt-th check.
	flooded chan struct{}
	floodAt int32
	// entered, if set, gets a value as each check starts; hold, if set,
	// keeps every check running until it is closed (instead of hashTime).
	entered chan struct{}
	hold    chan struct{}
}

func (a *fakeAuth) Exists(ctx context.Context, name string) (bool, error) {
	_, ok := a.users[name]
	return ok, nil
}

func (a *fakeAuth) CheckPassword(ctx context.Context, name, password, peer string) (string, Verdict, error) {
	if a.checks.Add(1) == a.floodAt && a.flooded != nil {
		close(a.flooded)
	}
	n := a.running.Add(1)
	defer a.running.Add(-1)
	for {
		m := a.most.Load()
		if n <= m || a.most.CompareAndSwap(m, n) {
			break
		}
	}
	if a.entered != nil {
		a.entered <- struct{}{}
	}
	if a.hold != nil {
		<-a.hold
	} else {
		time.Sleep(a.hashTime) // stands for bcrypt's CPU time
	}
	if a.users[name] == password {
		return name, Member, nil
	}
	return "", Refused, nil
}

// testWriter sends log lines to t.Log until the test ends (the log-flood
// limiter may still write a summary after it).
type testWriter struct {
	t    *testing.T
	done *atomic.Bool
}

func (w testWriter) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

// testLog is a logger writing to t.Log.
func testLog(t *testing.T) *slog.Logger {
	done := new(atomic.Bool)
	t.Cleanup(func() { done.Store(true) })
	return slog.New(slog.NewTextHandler(testWriter{t, done}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// startServer serves cfg (Calls, HostKeys, Auth and Log filled in when
// empty) on 127.0.0.1 and returns the server, the calls' server and the
// address; both stop at the end of the test.
func startServer(t *testing.T, cfg Config) (*Server, *telnet.Server, string) {
	t.Helper()
	srv, calls, addr, _ := startStoppableServer(t, cfg)
	return srv, calls, addr
}

// startStoppableServer is startServer, and also returns stop, which stops
// the server and returns once every connection it served has ended (the
// end of the test calls it too).
func startStoppableServer(t *testing.T, cfg Config) (*Server, *telnet.Server, string, func()) {
	t.Helper()
	log := testLog(t)
	if cfg.Calls == nil {
		calls, err := telnet.New(telnet.Config{Dial: fakeBoard, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Calls = calls
	}
	if cfg.HostKeys == nil {
		keys, err := LoadHostKeys(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		cfg.HostKeys = keys
	}
	if cfg.Auth == nil {
		cfg.Auth = &fakeAuth{users: map[string]string{"tess": "hunter22"}}
	}
	cfg.Log = log
	srv, err := New(cfg)
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
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	t.Cleanup(stop)
	return srv, cfg.Calls, ln.Addr().String(), stop
}

// legacyClient is a client that offers only what an older BBS terminal
// does: diffie-hellman-group14-sha1, aes128-ctr, hmac-sha1, ssh-rsa.
func legacyClient(user string, auth ...ssh.AuthMethod) *ssh.ClientConfig {
	return &ssh.ClientConfig{
		User: user, Auth: auth,
		Config: ssh.Config{
			KeyExchanges: []string{ssh.InsecureKeyExchangeDH14SHA1},
			Ciphers:      []string{ssh.CipherAES128CTR},
			MACs:         []string{ssh.HMACSHA1},
		},
		HostKeyAlgorithms: []string{ssh.KeyAlgoRSA},
		HostKeyCallback:   ssh.InsecureIgnoreHostKey(),
		Timeout:           waitLimit,
	}
}

// terminal is one SSH session with a pty: what it reads is buffered for
// readUntil.
type terminal struct {
	t      *testing.T
	client *ssh.Client
	sess   *ssh.Session
	in     io.WriteCloser
	mu     sync.Mutex
	buf    bytes.Buffer
	more   chan struct{} // a signal each time output arrives
	closed chan struct{} // closed when the output ends
}

// call dials addr with cfg and opens a shell on a pty of w×h.
func call(t *testing.T, addr string, cfg *ssh.ClientConfig, w, h int) *terminal {
	t.Helper()
	client, err := ssh.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatalf("ssh: %v", err)
	}
	t.Cleanup(func() { client.Close() })
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", h, w, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	in, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, client: client, sess: sess, in: in, more: make(chan struct{}, 1), closed: make(chan struct{})}
	go func() {
		defer close(term.closed)
		chunk := make([]byte, 4096)
		for {
			n, err := out.Read(chunk)
			term.mu.Lock()
			term.buf.Write(chunk[:n])
			term.mu.Unlock()
			select {
			case term.more <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	return term
}

// readUntil waits until mark has arrived and returns the output up to its
// end; what follows stays buffered.
func (term *terminal) readUntil(mark string) string {
	term.t.Helper()
	timeout := time.NewTimer(waitLimit)
	defer timeout.Stop()
	for {
		term.mu.Lock()
		b := term.buf.Bytes()
		if i := bytes.Index(b, []byte(mark)); i >= 0 {
			out := string(b[:i+len(mark)])
			term.buf.Next(i + len(mark))
			term.mu.Unlock()
			return out
		}
		term.mu.Unlock()
		select {
		case <-term.more:
		case <-term.closed:
			term.mu.Lock()
			defer term.mu.Unlock()
			if !bytes.Contains(term.buf.Bytes(), []byte(mark)) {
				term.t.Fatalf("the call ended waiting for %q; got %q", mark, term.buf.String())
			}
		case <-timeout.C:
			term.t.Fatalf("waiting for %q: got %q", mark, term.buf.String())
		}
	}
}

// send types s.
func (term *terminal) send(s string) {
	term.t.Helper()
	if _, err := io.WriteString(term.in, s); err != nil {
		term.t.Fatalf("send %q: %v", s, err)
	}
}
