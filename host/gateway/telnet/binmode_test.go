package telnet

import (
	"testing"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/binstream"
)

// binReq is the binary request the gateway should send for bytes p from
// a caller whose terminal is js.
func binReq(p, js string) string {
	return withTerminal(string(classic.WithANSI(classic.AppendBinary(nil, "@bbs", binstream.Encode([]byte(p))))), js)
}

// TestTelnetBinaryMode: a bin message asks for BINARY both ways and is
// written with IAC doubled and, until the caller agreed, CR as CR NUL;
// once BINARY is on, CR goes bare, and the caller's IAC IAC arrives as one
// 0xff and their CR NUL as the two bytes it is. A prompt ends the mode.
func TestTelnetBinaryMode(t *testing.T) {
	bbs := newFakeBBS(false,
		[]message.Message{message.Binary(binstream.Encode([]byte("\xff\r\x00A\r\n")))},
		[]message.Message{message.Binary(binstream.Encode([]byte("\r")))},
		[]message.Message{message.Prompt("done", "> ")},
		[]message.Message{message.Exit("Bye.")},
	)
	_, addr := startGateway(t, bbs, Config{})
	c := dialGateway(t, addr)
	c.write("\xff\xfd\x01", false) // DO ECHO
	got := c.readUntil("A\r\x00\n")
	if want := "\xff\xfb\x00\xff\xfd\x00\xff\xff\r\x00\x00A\r\x00\n"; len(got) < len(want) || got[len(got)-len(want):] != want {
		t.Fatalf("first piece %q, want it to end %q", got, want)
	}
	c.write("\xff\xfd\x00\xff\xfb\x00x", false) // DO BINARY, WILL BINARY, a byte
	if got := c.readUntil("\r"); got != "\r" {
		t.Fatalf("second piece %q, want a bare CR", got)
	}
	c.write("\xff\xffB\r\x00C", false)
	c.readUntil("done\r\n> ")
	c.write("ok\r", false)
	c.readUntil("Bye.\r\n")
	reqs := bbs.receivedRequests()
	want := []string{binReq("x", echoedTelnet), binReq("\xffB\r\x00C", echoedTelnet), withTerminal(req("ok"), echoedTelnet)}
	if len(reqs) != 4 || reqs[1] != want[0] || reqs[2] != want[1] || reqs[3] != want[2] {
		t.Errorf("the board got %q, want after the connect %q", reqs, want)
	}
}
