package classic

import (
	"bytes"
	"context"
	"errors"
	"github.com/m2bbs/m2bbs/host/message"
	"net"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pythonClient is cmd/classic-client/client.py, relative to this package.
var pythonClient = filepath.Join("..", "..", "..", "cmd", "classic-client", "client.py")

// loginScript is a short conversation: a screen, a prompt with a message,
// a prompt without one, an exit.
var loginScript = []step{
	{"connect", []message.Message{
		{Type: message.TypeScreen, Msg: "Welcome to the test BBS."},
		{Type: message.TypePrompt, Msg: "What's your name?", PChar: "> "},
	}},
	{"zed", []message.Message{{Type: message.TypePrompt, PChar: "password: "}}},
	{`s3cr"t é`, []message.Message{{Type: message.TypeExit, Msg: "Bye, zed."}}},
}

const loginTranscript = "Welcome to the test BBS.\n" +
	"What's your name?\n" +
	"> zed\n" +
	"password: s3cr\"t é\n" +
	"Bye, zed.\n"

// runPython runs client.py against addr with stdin and returns its
// stdout, stderr and exit code.
func runPython(t *testing.T, addr, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is needed to test client.py: %v", err)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, append([]string{pythonClient, host, port}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("client.py: %v", err)
	}
	return out.String(), errOut.String(), code
}

func TestPythonClient(t *testing.T) {
	for _, tc := range []struct {
		name         string
		args         []string
		route        string
		raw          bool
		script       []step
		stdin        string
		wantOut      string
		wantRequests []string
		wantCode     int
	}{{
		name:    "base64 login",
		route:   "@bbs",
		script:  loginScript,
		stdin:   "zed\ns3cr\"t é\n",
		wantOut: loginTranscript,
		wantRequests: []string{
			`@bbs {"type": "msg", "msg": "connect"}` + "\x00",
			`@bbs {"type": "msg", "msg": "zed"}` + "\x00",
			`@bbs {"type": "msg", "msg": "s3cr\"t \u00e9"}` + "\x00",
		},
	}, {
		name:    "raw frames on another route",
		args:    []string{"--raw", "--route", "@chat"},
		route:   "@chat",
		raw:     true,
		script:  loginScript,
		stdin:   "zed\ns3cr\"t é\n",
		wantOut: loginTranscript,
		wantRequests: []string{
			`@chat {"type": "msg", "msg": "connect"}` + "\x00",
			`@chat {"type": "msg", "msg": "zed"}` + "\x00",
			`@chat {"type": "msg", "msg": "s3cr\"t \u00e9"}` + "\x00",
		},
	}, {
		name:    "end of input says Bye",
		route:   "@bbs",
		script:  loginScript[:1],
		stdin:   "",
		wantOut: "Welcome to the test BBS.\nWhat's your name?\n> \nBye.\n",
		wantRequests: []string{
			`@bbs {"type": "msg", "msg": "connect"}` + "\x00",
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serveScript(t, tc.route, tc.raw, tc.script)
			out, errOut, code := runPython(t, srv.addr, tc.stdin, tc.args...)
			res := srv.result(t)
			if res.err != nil {
				t.Errorf("server: %v", res.err)
			}
			wantOut := "Connecting to " + srv.addr + "\n" + tc.wantOut
			if out != wantOut || code != tc.wantCode {
				t.Errorf("client.py printed (exit %d):\n%s\nwant (exit %d):\n%s\nstderr: %s", code, out, tc.wantCode, wantOut, errOut)
			}
			if got := stringsOf(res.requests); !slices.Equal(got, tc.wantRequests) {
				t.Errorf("client.py sent %q, want %q", got, tc.wantRequests)
			}
		})
	}
}

func TestPythonClientReportsBadFrame(t *testing.T) {
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
	}()
	_, errOut, code := runPython(t, l.Addr().String(), "")
	if code != 1 || !strings.Contains(errOut, "bad frame") {
		t.Errorf("exit %d, stderr %q: want exit 1 and a bad frame error", code, errOut)
	}
}

// TestGoAndPythonTranscriptsAgree plays the same script to Client.Run and
// to client.py: a person sees the same conversation from both.
func TestGoAndPythonTranscriptsAgree(t *testing.T) {
	srv := serveScript(t, "@bbs", false, loginScript)
	out, _, _ := runPython(t, srv.addr, "zed\ns3cr\"t é\n")
	srv.result(t)

	srv = serveScript(t, "@bbs", false, loginScript)
	c, err := Dial(t.Context(), srv.addr, "@bbs", false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Connect(); err != nil {
		t.Fatal(err)
	}
	transcript, err := c.Run([]string{"zed", `s3cr"t é`}, wait)
	if err != nil {
		t.Fatal(err)
	}
	_, pythonTranscript, _ := strings.Cut(out, "\n") // drop "Connecting to ..."
	if transcript != pythonTranscript {
		t.Errorf("Client.Run:\n%s\nclient.py:\n%s", transcript, pythonTranscript)
	}
}

func stringsOf(bs [][]byte) []string {
	s := make([]string, len(bs))
	for i, b := range bs {
		s[i] = string(b)
	}
	return s
}
