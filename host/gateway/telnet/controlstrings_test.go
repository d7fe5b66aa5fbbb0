package telnet

import (
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/message"
)

// TestGatewayDropsControlStrings: whatever text the BBS sends, a window
// title, a clipboard write (OSC 52), a DCS request and C1 controls never
// reach the telnet caller's terminal; the board's colour does.
func TestGatewayDropsControlStrings(t *testing.T) {
	hostile := []message.Message{
		{Type: message.TypeScreen, Msg: "\x1b[1;31mA\x1b]0;pwned\x07B\x1b]52;c;ZXZpbA==\x1b\\C\x1bP+q544e\x1b\\D\u009d0;t\u009cE"},
		{Type: message.TypePrompt, Msg: "Name?", PChar: "\x1b]0;t\x07> "},
	}
	bbs := newFakeBBS(false, hostile)
	_, addr := startGateway(t, bbs, Config{})
	c := dialGateway(t, addr)
	if got, want := c.readUntil("> "), gatewayOpening+"\x1b[1;31mABCD0;tE\r\nName?\r\n> "; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	c.conn.Close()
	bbs.waitGone(t)
}

// TestGatewayDropsControlStringsAfterEscapeAndAControl: as
// TestGatewayDropsControlStrings, with each OSC introduced as ESC, a C0
// control, then ']' (a terminal executes the control and stays in its
// ESCAPE state, so ']' opens the OSC): neither window title nor clipboard
// write reaches the caller's terminal.
func TestGatewayDropsControlStringsAfterEscapeAndAControl(t *testing.T) {
	hostile := []message.Message{
		{Type: message.TypePrompt, Msg: "A\x1b\r]0;pwned\x07B\x1b\x00]52;c;ZXZpbA==\x07C", PChar: "> "},
	}
	bbs := newFakeBBS(false, hostile)
	_, addr := startGateway(t, bbs, Config{})
	c := dialGateway(t, addr)
	got := c.readUntil("> ")
	for _, bad := range []string{"\x1b\r\x00]0;pwned\x07", "\x1b\x00]52;c;"} {
		if strings.Contains(got, bad) {
			t.Errorf("the caller's terminal got %q (ESC, C0 controls, ']': an OSC) in %q", bad, got)
		}
	}
	c.conn.Close()
	bbs.waitGone(t)
}
