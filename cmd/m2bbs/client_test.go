package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/message"
)

// clientWait bounds every wait in the client tests.
const clientWait = 10 * time.Second

// pythonClientPath is the Python classic client, relative to this package.
var pythonClientPath = filepath.Join("..", "classic-client", "client.py")

// bbsTurn is one turn of a fake BBS: the msg the caller must send, then
// the messages the BBS answers with.
type bbsTurn struct {
	expect string
	send   []message.Message
}

// fakeBBS is the server side of the classic protocol (Mongrel2 and the
// host in one), playing turns to one caller.
type fakeBBS struct {
	addr     string
	received chan string    // each msg the caller sent, as it arrives
	done     chan fakeVisit // when the caller is gone
}

// fakeVisit is what a caller sent: each request's bytes, and the first
// protocol error.
type fakeVisit struct {
	requests []string
	err      error
}

// serveBBS accepts one caller on a free port and plays turns to it,
// framing messages as base64 + NUL (bare JSON + NUL if raw). After the
// last turn it hangs up if hangUp, else it reads until the caller hangs
// up, recording what else it sends.
func serveBBS(t *testing.T, route string, raw bool, turns []bbsTurn, hangUp bool) *fakeBBS {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	b := &fakeBBS{addr: l.Addr().String(), received: make(chan string, 64), done: make(chan fakeVisit, 1)}
	go func() {
		var v fakeVisit
		defer func() { b.done <- v }()
		conn, err := l.Accept()
		if err != nil {
			v.err = err
			return
		}
		defer conn.Close()
		if err := conn.SetDeadline(time.Now().Add(clientWait)); err != nil {
			v.err = err
			return
		}
		r := bufio.NewReader(conn)
		read := func() (string, error) {
			req, err := r.ReadBytes(0)
			if err != nil {
				return "", err
			}
			v.requests = append(v.requests, string(req))
			msg, err := requestMsgOf(req, route)
			if err != nil {
				return "", err
			}
			b.received <- msg
			return msg, nil
		}
		for i, turn := range turns {
			msg, err := read()
			if err != nil {
				v.err = fmt.Errorf("turn %d: %w", i, err)
				return
			}
			if msg != turn.expect {
				v.err = fmt.Errorf("turn %d: caller sent %q, want %q", i, msg, turn.expect)
				return
			}
			for _, m := range turn.send {
				if _, err := conn.Write(frameOf(m, raw)); err != nil {
					v.err = fmt.Errorf("turn %d: write: %w", i, err)
					return
				}
			}
		}
		if hangUp {
			return
		}
		for {
			if _, err := read(); err != nil {
				if !errors.Is(err, io.EOF) {
					v.err = fmt.Errorf("after the last turn: %w", err)
				}
				return
			}
		}
	}()
	return b
}

// visit waits for the caller to be gone and returns what it sent.
func (b *fakeBBS) visit(t *testing.T) fakeVisit {
	t.Helper()
	select {
	case v := <-b.done:
		return v
	case <-time.After(clientWait):
		t.Fatal("the fake BBS's caller did not hang up")
		return fakeVisit{}
	}
}

// options returns the client options that call b.
func (b *fakeBBS) options(t *testing.T, route string, raw bool) clientOptions {
	t.Helper()
	host, port, err := net.SplitHostPort(b.addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return clientOptions{host: host, port: n, route: route, raw: raw, timeout: clientWait}
}

// hostPort returns b's address as the client's HOST and PORT arguments.
func (b *fakeBBS) hostPort() []string {
	host, port, _ := net.SplitHostPort(b.addr)
	return []string{host, port}
}

// requestMsgOf checks a request's framing, ROUTE + " " + a msg object +
// NUL, and returns its msg.
func requestMsgOf(req []byte, route string) (string, error) {
	body, ok := bytes.CutPrefix(req, []byte(route+" "))
	if !ok || !bytes.HasSuffix(body, []byte{0}) {
		return "", fmt.Errorf("request %q is not %q + JSON + NUL", req, route+" ")
	}
	var m struct{ Type, Msg string }
	if err := json.Unmarshal(body[:len(body)-1], &m); err != nil || m.Type != "msg" {
		return "", fmt.Errorf("request %q: want a msg JSON object (%v)", req, err)
	}
	return m.Msg, nil
}

// frameOf frames m as the host does.
func frameOf(m message.Message, raw bool) []byte {
	data, _ := json.Marshal(m) // three strings: cannot fail
	if !raw {
		data = []byte(base64.StdEncoding.EncodeToString(data))
	}
	return append(data, 0)
}

// goRequest is the exact request the Go client sends for msg on @bbs.
func goRequest(msg string) string {
	return string(classic.AppendRequest(nil, "@bbs", msg))
}

// login is a short conversation: a screen, a prompt with a message, a
// prompt without one, an exit.
var login = []bbsTurn{
	{"connect", []message.Message{
		{Type: message.TypeScreen, Msg: "Welcome to the test BBS."},
		{Type: message.TypePrompt, Msg: "What's your name?", PChar: "> "},
	}},
	{"zed", []message.Message{{Type: message.TypePrompt, PChar: "password: "}}},
	{`s3cr"t é`, []message.Message{{Type: message.TypeExit, Msg: "Bye, zed."}}},
}

func TestClientScriptedTranscript(t *testing.T) {
	for _, tc := range []struct {
		name     string
		route    string
		raw      bool
		turns    []bbsTurn
		hangUp   bool
		stdin    string
		wantOut  string // after "Connecting to ADDR\n"
		wantSent []string
		wantErr  error
	}{{
		name:    "login until the exit message",
		route:   "@bbs",
		turns:   login,
		stdin:   "zed\ns3cr\"t é\nnever read\n",
		wantOut: "Welcome to the test BBS.\nWhat's your name?\n> zed\npassword: s3cr\"t é\nBye, zed.\n",
		wantSent: []string{
			`@bbs {"type":"msg","msg":"connect"}` + "\x00",
			`@bbs {"type":"msg","msg":"zed"}` + "\x00",
			`@bbs {"type":"msg","msg":"s3cr\"t é"}` + "\x00",
		},
	}, {
		name:    "raw frames on another route",
		route:   "@chat",
		raw:     true,
		turns:   login,
		stdin:   "zed\ns3cr\"t é\n",
		wantOut: "Welcome to the test BBS.\nWhat's your name?\n> zed\npassword: s3cr\"t é\nBye, zed.\n",
		wantSent: []string{
			`@chat {"type":"msg","msg":"connect"}` + "\x00",
			`@chat {"type":"msg","msg":"zed"}` + "\x00",
			`@chat {"type":"msg","msg":"s3cr\"t é"}` + "\x00",
		},
	}, {
		name:     "end of input at a prompt says Bye",
		route:    "@bbs",
		turns:    login[:2],
		stdin:    "zed\n",
		wantOut:  "Welcome to the test BBS.\nWhat's your name?\n> zed\npassword: \nBye.\n",
		wantSent: []string{goRequest("connect"), goRequest("zed")},
	}, {
		name:  "a last line without newline counts, a CR stays",
		route: "@bbs",
		turns: []bbsTurn{
			{"connect", []message.Message{{Type: message.TypePrompt, PChar: "1> "}}},
			{"a\r", []message.Message{{Type: message.TypePrompt, PChar: "2> "}}},
			{"", []message.Message{{Type: message.TypePrompt, PChar: "3> "}}},
			{"last", []message.Message{{Type: message.TypePrompt, PChar: "4> "}}},
		},
		stdin:    "a\r\n\nlast",
		wantOut:  "1> a\r\n2> \n3> last\n4> \nBye.\n",
		wantSent: []string{goRequest("connect"), goRequest("a\r"), goRequest(""), goRequest("last")},
	}, {
		name:  "a hostile board cannot talk to the caller's terminal",
		route: "@bbs",
		turns: []bbsTurn{
			{"connect", []message.Message{
				{Type: message.TypeScreen, Msg: "\x1b[1;31mred\x1b[0m \x1b]0;owned\a\x1b]52;c;ZWNobyBoaQ==\a\u009b2J"},
				{Type: message.TypePrompt, PChar: "\x1b]0;title\x07> "},
			}},
			{"x", []message.Message{{Type: message.TypeExit, Msg: "bye"}}},
		},
		stdin:    "x\n",
		wantOut:  "\x1b[1;31mred\x1b[0m 2J\n> x\nbye\n",
		wantSent: []string{goRequest("connect"), goRequest("x")},
	}, {
		name:    "the server hangs up",
		route:   "@bbs",
		turns:   login[:1],
		hangUp:  true,
		stdin:   "zed\n",
		wantOut: "Welcome to the test BBS.\nWhat's your name?\n> zed\n",
		// zed may or may not reach the closed connection
		wantErr: errServerHungUp,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			fake := serveBBS(t, tc.route, tc.raw, tc.turns, tc.hangUp)
			var out bytes.Buffer
			err := callScripted(t.Context(), fake.options(t, tc.route, tc.raw), strings.NewReader(tc.stdin), &out)
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
			want := "Connecting to " + fake.addr + "\n" + tc.wantOut
			if out.String() != want {
				t.Errorf("printed:\n%q\nwant:\n%q", out.String(), want)
			}
			v := fake.visit(t)
			if v.err != nil {
				t.Errorf("fake BBS: %v", v.err)
			}
			if tc.wantSent != nil && !slices.Equal(v.requests, tc.wantSent) {
				t.Errorf("sent %q, want %q", v.requests, tc.wantSent)
			}
		})
	}
}

func TestClientScriptedReportsBadFrame(t *testing.T) {
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
		conn.Write([]byte("not base64!\x00"))
		io.Copy(io.Discard, conn)
	}()
	fake := &fakeBBS{addr: l.Addr().String()}
	err = callScripted(t.Context(), fake.options(t, "@bbs", false), strings.NewReader(""), io.Discard)
	if !errors.Is(err, classic.ErrBadBase64) {
		t.Errorf("error %v, want classic.ErrBadBase64", err)
	}
}

func TestClientScriptedTimeout(t *testing.T) {
	fake := serveBBS(t, "@bbs", false, []bbsTurn{{expect: "connect"}}, false)
	o := fake.options(t, "@bbs", false)
	o.timeout = 50 * time.Millisecond
	err := callScripted(t.Context(), o, strings.NewReader("zed\n"), io.Discard)
	if !errors.Is(err, os.ErrDeadlineExceeded) || !strings.Contains(err.Error(), "no message from the BBS for 50ms") {
		t.Errorf("error %v, want a timeout after 50ms", err)
	}
	fake.visit(t)
}

// blockedInput is stdin that never has a line: it reports each read on
// reading and blocks until the test ends.
type blockedInput struct {
	reading chan struct{}
	end     <-chan struct{}
}

func (b blockedInput) Read([]byte) (int, error) {
	b.reading <- struct{}{}
	<-b.end
	return 0, io.EOF
}

// TestClientScriptedInterrupt: an interrupt (ctx cancelled by SIGINT)
// while the client waits for a line ends it with "Bye.", as Ctrl-C ends
// client.py.
func TestClientScriptedInterrupt(t *testing.T) {
	fake := serveBBS(t, "@bbs", false, login[:1], false)
	ctx, cancel := context.WithCancel(t.Context())
	in := blockedInput{reading: make(chan struct{}, 1), end: t.Context().Done()}
	go func() {
		<-in.reading
		cancel()
	}()
	var out bytes.Buffer
	if err := callScripted(ctx, fake.options(t, "@bbs", false), in, &out); err != nil {
		t.Errorf("error %v, want none", err)
	}
	if want := "What's your name?\n> \nBye.\n"; !strings.HasSuffix(out.String(), want) {
		t.Errorf("printed %q, want it to end with %q", out.String(), want)
	}
	fake.visit(t)
}

func TestClientScriptLines(t *testing.T) {
	long := strings.Repeat("x", maxScriptLineBytes)
	for _, tc := range []struct {
		in      string
		want    []string
		wantErr error
	}{
		{"", nil, io.EOF},
		{"a\nb\n", []string{"a", "b"}, io.EOF},
		{"a\r\n\rb", []string{"a\r", "\rb"}, io.EOF},
		{"\n\n", []string{"", ""}, io.EOF},
		{long[1:] + "\nnext\n", []string{long[1:], "next"}, io.EOF},
		{"ok\n" + long + "\n", []string{"ok"}, errLineTooLong},
	} {
		s := &scriptLines{r: bufio.NewReaderSize(strings.NewReader(tc.in), maxScriptLineBytes)}
		var got []string
		var err error
		for {
			var line string
			if line, err = s.next(); err != nil {
				break
			}
			got = append(got, line)
		}
		if !slices.Equal(got, tc.want) || !errors.Is(err, tc.wantErr) {
			t.Errorf("lines of %.20q: %.40q, %v; want %.40q, %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestClientArgs(t *testing.T) {
	def := clientOptions{host: "127.0.0.1", port: 6767, route: "@bbs", timeout: 30 * time.Second}
	for _, tc := range []struct {
		args    []string
		want    clientOptions
		wantErr string
	}{
		{nil, def, ""},
		{[]string{"bbs.example"}, clientOptions{host: "bbs.example", port: 6767, route: "@bbs", timeout: 30 * time.Second}, ""},
		{[]string{"-raw", "-route", "@chat", "-timeout", "2s", "::1", "80"},
			clientOptions{host: "::1", port: 80, route: "@chat", raw: true, timeout: 2 * time.Second}, ""},
		{[]string{"localhost", "7000", "--raw", "-script", "in.txt"},
			clientOptions{host: "localhost", port: 7000, route: "@bbs", raw: true, script: "in.txt", timeout: 30 * time.Second}, ""},
		{[]string{"--", "-odd-host"}, clientOptions{host: "-odd-host", port: 6767, route: "@bbs", timeout: 30 * time.Second}, ""},
		{[]string{"localhost", "http"}, def, `bad port "http"`},
		{[]string{"localhost", "70000"}, def, `bad port "70000"`},
		{[]string{"a", "1", "b"}, def, "too many arguments"},
		{[]string{"-nope"}, def, "flag provided but not defined"},
	} {
		got, err := parseClientArgs(tc.args, io.Discard)
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%q: error %v, want %q", tc.args, err, tc.wantErr)
			}
		case err != nil || got != tc.want:
			t.Errorf("%q: %+v, %v; want %+v", tc.args, got, err, tc.want)
		}
	}
	if _, err := parseClientArgs([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v, want flag.ErrHelp", err)
	}
}

// runProcess runs name with args and stdin, and returns its stdout,
// stderr and exit code.
func runProcess(t *testing.T, env []string, stdin string, name string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), clientWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", name, err)
	}
	return out.String(), errOut.String(), code
}

// runClientProcess runs "m2bbs client ARGS" as a process of its own.
func runClientProcess(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runProcess(t, []string{runMainEnv + "=1"}, stdin, os.Args[0], append([]string{"client"}, args...)...)
}

// runPythonClient runs cmd/classic-client/client.py.
func runPythonClient(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is needed to compare with client.py: %v", err)
	}
	return runProcess(t, nil, stdin, python, append([]string{pythonClientPath}, args...)...)
}

// TestClientMatchesPythonClient plays the same conversations to
// "m2bbs client" and to client.py, both reading a pipe: they print the
// same bytes and send the same lines.
func TestClientMatchesPythonClient(t *testing.T) {
	for _, tc := range []struct {
		name  string
		turns []bbsTurn
		stdin string
	}{
		{"login", login, "zed\ns3cr\"t é\n"},
		{"end of input", login[:2], "zed\n"},
		{"no input at all", login[:1], ""},
		{"CR, empty and unterminated lines", []bbsTurn{
			{"connect", []message.Message{{Type: message.TypePrompt, PChar: "1> "}}},
			{"a\r", []message.Message{{Type: message.TypePrompt, PChar: "2> "}}},
			{"", []message.Message{{Type: message.TypePrompt, PChar: "3> "}}},
			{"last", []message.Message{{Type: message.TypeExit}}},
		}, "a\r\n\nlast"},
		{"screens, empty and unknown messages", []bbsTurn{
			{"connect", []message.Message{
				{Type: message.TypeScreen, Msg: "line one\nline two\n\x1b[1mbold\x1b[0m"},
				{Type: message.TypeScreen},
				{Type: "beep", Msg: "unknown type, shown"},
				{Type: message.TypePrompt, Msg: "Ünïcode?", PChar: "» "},
			}},
			{"ja ☃", []message.Message{{Type: message.TypeExit, Msg: "Bye!\n"}}},
		}, "ja ☃\nextra line\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Each plays to a BBS of its own: the outputs differ in the port.
			fake := serveBBS(t, "@bbs", false, tc.turns, false)
			pyOut, pyErr, pyCode := runPythonClient(t, tc.stdin, fake.hostPort()...)
			pyOut = strings.ReplaceAll(pyOut, fake.addr, "ADDR")
			pyVisit := fake.visit(t)

			fake = serveBBS(t, "@bbs", false, tc.turns, false)
			goOut, goErr, goCode := runClientProcess(t, tc.stdin, fake.hostPort()...)
			goOut = strings.ReplaceAll(goOut, fake.addr, "ADDR")
			goVisit := fake.visit(t)

			if pyVisit.err != nil || goVisit.err != nil {
				t.Errorf("fake BBS: with client.py %v; with m2bbs client %v", pyVisit.err, goVisit.err)
			}
			if pyCode != 0 || goCode != 0 {
				t.Errorf("exit codes: client.py %d (%s), m2bbs client %d (%s); want 0", pyCode, pyErr, goCode, goErr)
			}
			if goOut != pyOut {
				t.Errorf("m2bbs client printed:\n%q\nclient.py printed:\n%q", goOut, pyOut)
			}
			if len(goVisit.requests) != len(pyVisit.requests) {
				t.Errorf("m2bbs client sent %q, client.py %q", goVisit.requests, pyVisit.requests)
			}
		})
	}
}

// TestClientProcessExits runs "m2bbs client" as a command: its exit
// status and what it prints to stdout and stderr.
func TestClientProcessExits(t *testing.T) {
	t.Run("script file, exit message", func(t *testing.T) {
		script := filepath.Join(t.TempDir(), "caller.txt")
		if err := os.WriteFile(script, []byte("zed\ns3cr\"t é\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		fake := serveBBS(t, "@bbs", false, login, false)
		out, errOut, code := runClientProcess(t, "not the script\n", append([]string{"-script", script}, fake.hostPort()...)...)
		want := "Connecting to " + fake.addr + "\nWelcome to the test BBS.\nWhat's your name?\n> zed\npassword: s3cr\"t é\nBye, zed.\n"
		if out != want || errOut != "" || code != 0 {
			t.Errorf("printed (exit %d):\n%q\nstderr %q\nwant (exit 0):\n%q", code, out, errOut, want)
		}
		fake.visit(t)
	})
	t.Run("end of input", func(t *testing.T) {
		fake := serveBBS(t, "@bbs", false, login[:1], false)
		out, errOut, code := runClientProcess(t, "", fake.hostPort()...)
		if !strings.HasSuffix(out, "> \nBye.\n") || errOut != "" || code != 0 {
			t.Errorf("printed (exit %d) %q, stderr %q; want Bye and exit 0", code, out, errOut)
		}
		fake.visit(t)
	})
	t.Run("server hangs up", func(t *testing.T) {
		fake := serveBBS(t, "@bbs", false, []bbsTurn{{"connect", []message.Message{{Type: message.TypeScreen, Msg: "going away"}}}}, true)
		out, errOut, code := runClientProcess(t, "zed\n", fake.hostPort()...)
		if out != "Connecting to "+fake.addr+"\ngoing away\n" || code == 0 ||
			errOut != "m2bbs: client: connection closed by the server\n" {
			t.Errorf("printed (exit %d) %q, stderr %q; want a hang-up error and a non-zero exit", code, out, errOut)
		}
		fake.visit(t)
	})
	t.Run("nobody listening", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().(*net.TCPAddr)
		l.Close()
		_, errOut, code := runClientProcess(t, "", "127.0.0.1", strconv.Itoa(addr.Port))
		if code == 0 || !strings.Contains(errOut, "connection refused") {
			t.Errorf("exit %d, stderr %q; want connection refused and a non-zero exit", code, errOut)
		}
	})
}

// ptyClient is "m2bbs client" running as a process on a pseudo-terminal.
type ptyClient struct {
	ptmx, tty *os.File
	before    *term.State // the terminal's state before the client ran
	exited    chan error

	mu      sync.Mutex
	out     []byte        // everything the client wrote to the terminal
	seen    int           // out[:seen] has been matched by waitFor
	changed chan struct{} // closed and replaced when out grows
}

// startClientOnPTY starts "m2bbs client ARGS" with a pseudo-terminal as
// its stdin, stdout, stderr and controlling terminal.
func startClientOnPTY(t *testing.T, args ...string) *ptyClient {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 80}); err != nil {
		t.Fatal(err)
	}
	before, err := term.GetState(int(tty.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	p := &ptyClient{ptmx: ptmx, tty: tty, before: before, exited: make(chan error, 1), changed: make(chan struct{})}
	cmd := exec.Command(os.Args[0], append([]string{"client"}, args...)...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1", "TERM=xterm-256color")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		buf := make([]byte, 4096)
		for {
			n, err := ptmx.Read(buf)
			p.mu.Lock()
			p.out = append(p.out, buf[:n]...)
			close(p.changed)
			p.changed = make(chan struct{})
			p.mu.Unlock()
			if err != nil {
				return // EIO once every copy of tty is closed
			}
		}
	}()
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case err := <-p.exited:
			p.exited <- err
		default:
			_ = cmd.Process.Kill()
			<-p.exited
		}
		tty.Close()
		select {
		case <-readDone:
		case <-time.After(clientWait):
			t.Error("the pseudo-terminal did not close")
		}
		ptmx.Close()
	})
	return p
}

// waitFor waits until the client has written text to the terminal, after
// what earlier calls matched.
func (p *ptyClient) waitFor(t *testing.T, text string) {
	t.Helper()
	deadline := time.After(clientWait)
	for {
		p.mu.Lock()
		i := bytes.Index(p.out[p.seen:], []byte(text))
		if i >= 0 {
			p.seen += i + len(text)
		}
		changed, out := p.changed, string(p.out)
		p.mu.Unlock()
		if i >= 0 {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("the terminal does not show %q; it shows:\n%q", text, out)
		}
	}
}

// typeKeys sends keys to the client as if typed.
func (p *ptyClient) typeKeys(t *testing.T, keys string) {
	t.Helper()
	if _, err := p.ptmx.Write([]byte(keys)); err != nil {
		t.Fatal(err)
	}
}

// exitCode waits for the client to exit and returns its status.
func (p *ptyClient) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case err := <-p.exited:
		p.exited <- err
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return exitErr.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(clientWait):
		p.mu.Lock()
		defer p.mu.Unlock()
		t.Fatalf("the client did not exit; the terminal shows:\n%q", p.out)
		return -1
	}
}

// checkRestored fails t unless the terminal is back in the state it was
// in before the client ran (raw mode undone).
func (p *ptyClient) checkRestored(t *testing.T) {
	t.Helper()
	after, err := term.GetState(int(p.tty.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if *after != *p.before {
		t.Errorf("the client left the terminal in another state: %+v, was %+v", *after, *p.before)
	}
}

const (
	keyUp    = "\x1b[A"
	keyEnter = "\r"
	keyCtrlC = "\x03"
	keyCtrlD = "\x04"
)

func TestClientInteractive(t *testing.T) {
	askTwice := []bbsTurn{
		{"connect", []message.Message{
			{Type: message.TypeScreen, Msg: "Welcome to the test BBS."},
			{Type: message.TypePrompt, Msg: "What's your name?", PChar: "name> "},
		}},
		{"zed", []message.Message{{Type: message.TypePrompt, PChar: "again> "}}},
		{"zed", []message.Message{{Type: message.TypePrompt, PChar: "last> "}}},
	}

	t.Run("history, then Ctrl-D says Bye", func(t *testing.T) {
		fake := serveBBS(t, "@bbs", false, askTwice, false)
		p := startClientOnPTY(t, fake.hostPort()...)
		p.waitFor(t, "Connecting to "+fake.addr+"\r\n")
		p.waitFor(t, "Welcome to the test BBS.\r\nWhat's your name?\r\n")
		p.waitFor(t, "name> ")
		p.typeKeys(t, "zed"+keyEnter)
		p.waitFor(t, "again> ")
		p.typeKeys(t, keyUp+keyEnter) // the line before: zed
		p.waitFor(t, "last> ")
		p.typeKeys(t, keyCtrlD)
		p.waitFor(t, "\r\nBye.\r\n")
		if code := p.exitCode(t); code != 0 {
			t.Errorf("exit status %d, want 0", code)
		}
		p.checkRestored(t)
		// On a terminal the client says what it is: $TERM and the pty's size.
		const tty = `{"type":"xterm-256color","width":80,"height":24,"encoding":"utf-8","ansi":true}`
		var want []string
		for _, line := range []string{"connect", "zed", "zed"} {
			want = append(want, string(classic.AppendMember([]byte(goRequest(line)), "terminal", []byte(tty))))
		}
		if v := fake.visit(t); v.err != nil || !slices.Equal(v.requests, want) {
			t.Errorf("sent %q (%v), want %q", v.requests, v.err, want)
		}
	})

	t.Run("line editing", func(t *testing.T) {
		fake := serveBBS(t, "@bbs", false, []bbsTurn{
			{"connect", []message.Message{{Type: message.TypePrompt, PChar: "name> "}}},
			{"zed", []message.Message{{Type: message.TypeExit, Msg: "Goodbye, zed."}}},
		}, false)
		p := startClientOnPTY(t, fake.hostPort()...)
		p.waitFor(t, "name> ")
		p.typeKeys(t, "zd\x1b[Dex\x7f"+keyEnter) // left arrow, insert e, type x, backspace
		p.waitFor(t, "Goodbye, zed.\r\n")
		if code := p.exitCode(t); code != 0 {
			t.Errorf("exit status %d, want 0", code)
		}
		p.checkRestored(t)
		if v := fake.visit(t); v.err != nil {
			t.Errorf("fake BBS: %v", v.err)
		}
	})

	t.Run("Ctrl-C at a prompt says Bye", func(t *testing.T) {
		fake := serveBBS(t, "@bbs", false, askTwice[:1], false)
		p := startClientOnPTY(t, fake.hostPort()...)
		p.waitFor(t, "name> ")
		p.typeKeys(t, "half a line"+keyCtrlC)
		p.waitFor(t, "\r\nBye.\r\n")
		if code := p.exitCode(t); code != 0 {
			t.Errorf("exit status %d, want 0", code)
		}
		p.checkRestored(t)
		if v := fake.visit(t); len(v.requests) != 1 {
			t.Errorf("sent %q, want only connect", v.requests)
		}
	})

	t.Run("Ctrl-C while waiting for the BBS says Bye", func(t *testing.T) {
		fake := serveBBS(t, "@bbs", false, []bbsTurn{{expect: "connect"}}, false)
		p := startClientOnPTY(t, fake.hostPort()...)
		select {
		case <-fake.received: // connected; now waiting for an answer
		case <-time.After(clientWait):
			t.Fatal("the client did not connect")
		}
		p.typeKeys(t, keyCtrlC)
		p.waitFor(t, "\r\nBye.\r\n")
		if code := p.exitCode(t); code != 0 {
			t.Errorf("exit status %d, want 0", code)
		}
		p.checkRestored(t)
		fake.visit(t)
	})

	t.Run("the server hangs up", func(t *testing.T) {
		fake := serveBBS(t, "@bbs", false, askTwice[:1], true)
		p := startClientOnPTY(t, fake.hostPort()...)
		p.waitFor(t, "name> ")
		p.typeKeys(t, "zed"+keyEnter)
		p.waitFor(t, "m2bbs: client: connection closed by the server")
		if code := p.exitCode(t); code == 0 {
			t.Error("exit status 0, want an error status")
		}
		p.checkRestored(t)
		fake.visit(t)
	})
}
