package telnet

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/message"
)

// pushBBS is a BBS the test drives by hand: it writes messages when the
// test says, not only in answer to a line (a chat room's lines arrive
// while the caller types).
type pushBBS struct {
	conns chan net.Conn
}

func (b *pushBBS) dial(context.Context, net.Addr) (net.Conn, error) {
	gateway, bbs := net.Pipe()
	b.conns <- bbs
	return gateway, nil
}

// answer waits for the gateway's call and reads its "connect"; it
// returns the BBS's side of the call and a reader of the lines sent.
func (b *pushBBS) answer(t *testing.T) (net.Conn, *bufio.Reader) {
	t.Helper()
	var side net.Conn
	select {
	case side = <-b.conns:
	case <-time.After(waitLimit):
		t.Fatal("the gateway never dialled")
	}
	t.Cleanup(func() { side.Close() })
	lines := bufio.NewReader(side)
	if _, err := lines.ReadString(0); err != nil { // connect
		t.Fatal(err)
	}
	return side, lines
}

func pushFrame(t *testing.T, w io.Writer, m message.Message) {
	t.Helper()
	js, _ := json.Marshal(m)
	if _, err := io.WriteString(w, base64.StdEncoding.EncodeToString(js)+"\x00"); err != nil {
		t.Fatal(err)
	}
}

// TestMessagesWhileTypingKeepTheAnswer: a chat line, then a notice,
// arrive while the caller has typed half an answer: each is written on
// a line of its own above the prompt, the prompt and the half answer are
// written again, and the answer the caller finishes is all of it.
func TestMessagesWhileTypingKeepTheAnswer(t *testing.T) {
	bbs := &pushBBS{conns: make(chan net.Conn, 1)}
	_, addr := startGateway(t, nil, Config{Dial: bbs.dial, NegotiationWait: 200 * time.Millisecond})
	c := dialGateway(t, addr)
	c.readUntil(gatewayOpening)
	c.write(inetutilsAnswers, false) // the window is 100 columns wide

	side, lines := bbs.answer(t)
	pushFrame(t, side, message.Message{Type: message.TypePrompt, Msg: "Welcome to the lobby.", PChar: "Chat> "})
	c.readUntil("Chat> ")
	c.write("hel", true)
	if got := c.readUntil("hel"); got != "hel" {
		t.Fatalf("echo %q", got)
	}

	pushFrame(t, side, message.Message{Type: message.TypePrompt, Msg: "lee: hi", PChar: "Chat> "})
	if got, want := c.readUntil("Chat> hel"), "\r\x1b[Klee: hi\r\nChat> hel"; got != want {
		t.Errorf("a new prompt while typing: %q, want %q", got, want)
	}
	pushFrame(t, side, message.Message{Type: message.TypeScreen, Msg: "* max comes in."})
	if got, want := c.readUntil("Chat> hel"), "\r\x1b[K* max comes in.\r\nChat> hel"; got != want {
		t.Errorf("a screen while typing: %q, want %q", got, want)
	}
	c.write("lo\r\n", true)
	line, err := lines.ReadString(0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(line, `"msg":"hello"`) {
		t.Errorf("the BBS got %q; want the whole line, hello", line)
	}
}

// TestMessagesWhileTypingOnAClientThatEchoes: a client that negotiates
// nothing echoes by itself; what its caller typed is left on its line,
// and the message starts on the next.
func TestMessagesWhileTypingOnAClientThatEchoes(t *testing.T) {
	bbs := &pushBBS{conns: make(chan net.Conn, 1)}
	_, addr := startGateway(t, nil, Config{Dial: bbs.dial, NegotiationWait: 200 * time.Millisecond})
	c := dialGateway(t, addr)
	c.readUntil(gatewayOpening)
	side, lines := bbs.answer(t)
	pushFrame(t, side, message.Message{Type: message.TypePrompt, PChar: "Chat> "})
	c.readUntil("Chat> ")
	c.write("hel", false)
	pushFrame(t, side, message.Message{Type: message.TypePrompt, Msg: "lee: hi", PChar: "Chat> "})
	if got, want := c.readUntil("lee: hi\r\nChat> "), "\r\nlee: hi\r\nChat> "; got != want {
		t.Errorf("a new prompt while typing: %q, want %q", got, want)
	}
	c.write("lo\r\n", false)
	if line, err := lines.ReadString(0); err != nil || !strings.Contains(line, `"msg":"hello"`) {
		t.Errorf("the BBS got %q, %v; want the whole line, hello", line, err)
	}
}
