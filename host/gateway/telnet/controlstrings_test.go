package telnet

import (
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
