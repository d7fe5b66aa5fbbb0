package telnet

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/message"
)

// TestInterruptOfAWrappedWideLine: in a 100-column window the caller has
// typed 50 wide (two-column) characters after "Chat> ": 106 columns, two
// rows. A message that comes meanwhile starts on a new line under them,
// instead of clearing only the last row and leaving the first on the
// screen as if it had been sent.
func TestInterruptOfAWrappedWideLine(t *testing.T) {
	bbs := &pushBBS{conns: make(chan net.Conn, 1)}
	_, addr := startGateway(t, nil, Config{Dial: bbs.dial, NegotiationWait: 200 * time.Millisecond})
	c := dialGateway(t, addr)
	c.readUntil(gatewayOpening)
	c.write(inetutilsAnswers, false) // 100 columns
	side, _ := bbs.answer(t)
	pushFrame(t, side, message.Message{Type: message.TypePrompt, PChar: "Chat> "})
	c.readUntil("Chat> ")
	typed := strings.Repeat("漢", 50)
	c.write(typed, false)
	c.readUntil(typed)
	pushFrame(t, side, message.Message{Type: message.TypeScreen, Msg: "lee: hi"})
	got := c.readUntil("lee: hi")
	if !strings.HasPrefix(got, "\r\n") {
		t.Errorf("the message after a 106-column line in a 100-column window came as %q: want it on a new line", got)
	}
	// Retyped under it, the line is kept.
	if rest := c.readUntil("Chat> " + typed); !strings.HasSuffix(rest, "Chat> "+typed) {
		t.Errorf("the line was not written again: %q", rest)
	}
}

// TestColumns: wide characters take two columns, the others one.
func TestColumns(t *testing.T) {
	for text, want := range map[string]int{"": 0, "Chat> ": 6, "漢字": 4, "ｗ": 2, "é": 1, "\xff": 1} {
		if got := columns([]byte(text)); got != want {
			t.Errorf("columns(%q) = %d, want %d", text, got, want)
		}
	}
}

// TestOpenPromptDropsHalfASecret: half a password is typed at a secret
// prompt, then a prompt that is not secret replaces it: the half
// password is neither written on the screen in clear nor the start of
// the next answer.
func TestOpenPromptDropsHalfASecret(t *testing.T) {
	bbs := &pushBBS{conns: make(chan net.Conn, 1)}
	_, addr := startGateway(t, nil, Config{Dial: bbs.dial, NegotiationWait: 200 * time.Millisecond})
	c := dialGateway(t, addr)
	c.readUntil(gatewayOpening)
	c.write(inetutilsAnswers, false)
	side, lines := bbs.answer(t)
	pushFrame(t, side, message.Message{Type: message.TypePrompt, PChar: "Password: ", Secret: true})
	c.readUntil("Password: ")
	c.write("hunter2\x04", false) // Ctrl-D on a line rings the bell: the gateway has the line
	c.readUntil("\a")
	pushFrame(t, side, message.Message{Type: message.TypePrompt, Msg: "Too slow.", PChar: "Name: "})
	got := c.readUntil("Name: ")
	c.write("kim\r\n", false)
	got += c.readUntil("kim")
	if strings.Contains(got, "hunter2") {
		t.Errorf("the half password was written in clear: %q", got)
	}
	if line, err := lines.ReadString(0); err != nil || strings.Contains(line, "hunter2") || !strings.Contains(line, "kim") {
		t.Errorf("the answer to Name: is %q, %v", line, err)
	}
}
