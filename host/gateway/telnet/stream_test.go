package telnet

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/message"
)

// serveStream serves one Stream call over a pipe and returns the
// caller's end, wrapped for reading, and the Call.
func serveStream(t *testing.T, bbs *fakeBBS, st Stream) (*telnetClient, *Call) {
	t.Helper()
	srv, _ := startGateway(t, bbs, Config{})
	near, far := net.Pipe()
	call := srv.NewCall(near, st)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); call.Serve(ctx) }()
	t.Cleanup(func() { cancel(); far.Close(); <-done })
	return &telnetClient{t: t, conn: far}, call
}

// TestStreamTypesTheLogin: a Stream caller with a Login has the name
// typed into the first prompt and the password into the secret one
// after it, then plays on; nothing of telnet (IAC) reaches them, LF
// becomes CR LF, and the password is never shown.
func TestStreamTypesTheLogin(t *testing.T) {
	bbs := newFakeBBS(false,
		[]message.Message{{Type: message.TypePrompt, Msg: "Name?", PChar: "> "}},
		[]message.Message{{Type: message.TypePrompt, Msg: "Password?", PChar: "> ", Secret: true}},
		[]message.Message{{Type: message.TypePrompt, Msg: "Menu\nQ) quit", PChar: "> "}},
		[]message.Message{{Type: message.TypeExit, Msg: "Bye."}},
	)
	c, call := serveStream(t, bbs, Stream{Echo: true, Login: &Login{Name: "tess", Password: "hunter22"},
		Terminal: Terminal{Type: "xterm", Width: 80, Height: 24}})
	got := c.readUntil("Q) quit\r\n> ")
	if want := "Name?\r\n> tess\r\nPassword?\r\n> \r\nMenu\r\nQ) quit\r\n> "; got != want {
		t.Errorf("the caller saw %q, want %q", got, want)
	}
	call.SetTerminal(Terminal{Type: "xterm", Width: 100, Height: 30})
	if term := call.Terminal(); term.Width != 100 || term.Height != 30 {
		t.Errorf("after a resize the terminal is %+v", term)
	}
	c.write("q\r", false)
	if got := c.readUntil("q\r\n", "Bye.\r\n"); strings.IndexByte(got, IAC) >= 0 {
		t.Errorf("telnet bytes reached a stream caller: %q", got)
	}
	reqs := bbs.receivedRequests()
	// Every line says the terminal; the resize goes with the next one.
	term := `{"type":"xterm","width":80,"height":24,"encoding":"utf-8","ansi":true,"keys":true}`
	resized := `{"type":"xterm","width":100,"height":30,"encoding":"utf-8","ansi":true,"keys":true}`
	if len(reqs) < 4 || reqs[1] != withTerminal(req("tess"), term) || reqs[2] != withTerminal(req("hunter22"), term) ||
		reqs[3] != withTerminal(req("q"), resized) {
		t.Errorf("the board got %q", reqs)
	}
}

// TestStreamLoginStopsAtAnUnexpectedPrompt: when the second prompt is not
// a secret one, the password is not typed into it: the caller answers.
func TestStreamLoginStopsAtAnUnexpectedPrompt(t *testing.T) {
	bbs := newFakeBBS(false,
		[]message.Message{{Type: message.TypePrompt, Msg: "Name?", PChar: "> "}},
		[]message.Message{{Type: message.TypePrompt, Msg: "Favourite colour?", PChar: "> "}},
		[]message.Message{{Type: message.TypeExit, Msg: "Bye."}},
	)
	c, _ := serveStream(t, bbs, Stream{Login: &Login{Name: "tess", Password: "hunter22"}})
	c.readUntil("Favourite colour?\r\n> ")
	c.write("blue\n", false)
	c.readUntil("Bye.\r\n")
	reqs := bbs.receivedRequests()
	if len(reqs) < 3 || reqs[2] != req("blue") {
		t.Errorf("the board got %q", reqs)
	}
	for _, r := range reqs {
		if strings.Contains(r, "hunter22") {
			t.Errorf("the password went to a prompt that is not secret: %q", reqs)
		}
	}
}
