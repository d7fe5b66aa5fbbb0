package telnet

import (
	"slices"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/message"
)

// answersANSI is a BBS terminal's answer to the opening: echo and
// suppress-go-ahead, the window (80x25) and terminal type offered.
const answersANSI = "\xff\xfd\x01\xff\xfd\x03\xff\xfb\x03\xff\xfb\x1f\xff\xfa\x1f\x00\x50\x00\x19\xff\xf0\xff\xfb\x18"

// TestCP437Caller: a caller whose terminal says ANSI gets the BBS's box in
// CP437, types CP437 that reaches the BBS as UTF-8 and is echoed in CP437,
// and a resized window is told with the next line.
func TestCP437Caller(t *testing.T) {
	box := []message.Message{
		{Type: message.TypeScreen, Msg: "┌─┐\n└─┘ café"},
		{Type: message.TypePrompt, Msg: "Name?", PChar: "» "},
	}
	bbs := newFakeBBS(true, box, menu, goodbye)
	_, addr := startGateway(t, bbs, Config{})
	c := dialGateway(t, addr)
	c.readUntil(gatewayOpening)
	c.write(answersANSI, false)
	c.readUntil(ttypeSend)
	c.write("\xff\xfa\x18\x00ANSI\xff\xf0", false)

	if got, want := c.readUntil("\xaf "), "\xda\xc4\xbf\r\n\xc0\xc4\xd9 caf\x82\r\nName?\r\n\xaf "; got != want {
		t.Fatalf("the box: % x, want % x", got, want)
	}
	c.write("Ren\x82e\r\n", false) // Renée, typed in CP437
	if got, want := c.readUntil("> "), "Ren\x82e\r\nHello, zed\r\nCommand\r\n> "; got != want {
		t.Fatalf("after the name: %q, want %q", got, want)
	}
	c.write("\xff\xfa\x1f\x00\x84\x00\x32\xff\xf0Q\r", false) // 132x50, then Q
	c.readToEOF()
	bbs.waitGone(t)

	term := `{"type":"ANSI","width":80,"height":25,"encoding":"cp437","ansi":true,"keys":true,"bin":true}`
	resized := `{"type":"ANSI","width":132,"height":50,"encoding":"cp437","ansi":true,"keys":true,"bin":true}`
	want := []string{withTerminal(connectReq, term), withTerminal(req("Renée"), term), withTerminal(req("Q"), resized)}
	if got := bbs.receivedRequests(); !slices.Equal(got, want) {
		t.Errorf("BBS received %q, want %q", got, want)
	}
}

// TestDumbCaller: a dumb terminal gets ASCII stand-ins and no colour.
func TestDumbCaller(t *testing.T) {
	box := []message.Message{{Type: message.TypePrompt, Msg: "╔═╗ “hi”", PChar: "> "}}
	bbs := newFakeBBS(true, box, goodbye)
	_, addr := startGateway(t, bbs, Config{})
	c := dialGateway(t, addr)
	c.readUntil(gatewayOpening)
	c.write("\xff\xfc\x1f\xff\xfb\x18", false) // no window size; a terminal type
	c.readUntil(ttypeSend)
	c.write("\xff\xfa\x18\x00dumb\xff\xf0", false)
	if got, want := c.readUntil("> "), "+=+ \"hi\"\r\n> "; got != want {
		t.Fatalf("dumb terminal got %q, want %q", got, want)
	}
	c.write("Q\r", false)
	c.readToEOF()
	bbs.waitGone(t)
	got := bbs.receivedRequests()
	// No "ansi": true: a dumb terminal gets no art.
	want := withTerminal(string(classic.AppendConnect(nil, "@bbs", true)), `{"type":"dumb","encoding":"ascii","ansi":false}`)
	want = withMember(want, "color", "false")
	if len(got) == 0 || got[0] != want {
		t.Errorf("connect = %q, want %q", got, want)
	}
}

// TestSilentClientIsWaitedForBriefly: a client that negotiates nothing
// is not kept waiting for the terminal the full NegotiationWait.
func TestSilentClientIsWaitedForBriefly(t *testing.T) {
	bbs := newFakeBBS(true, welcome, goodbye)
	_, addr := startGateway(t, bbs, Config{NegotiationWait: time.Minute})
	start := time.Now()
	dialGateway(t, addr).readUntil("> ")
	if waited := time.Since(start); waited > 10*silentClientWait {
		t.Errorf("the welcome came after %v", waited)
	}
}

// TestEncodingChosenByTheBBS: a terminal type that tells no encoding
// (VT100) gets UTF-8 until the BBS says otherwise; from the message that
// says CP437 on, output is CP437, typed CP437 comes back as UTF-8, and
// the requests say cp437.
func TestEncodingChosenByTheBBS(t *testing.T) {
	ask := []message.Message{{Type: message.TypePrompt, Msg: "┌─┐ ?", PChar: "> "}}
	askCP437 := []message.Message{{Type: message.TypePrompt, Msg: "┌─┐ ?", PChar: "> ", Encoding: "cp437"}}
	bbs := newFakeBBS(true, ask, askCP437, goodbye)
	_, addr := startGateway(t, bbs, Config{})
	c := dialGateway(t, addr)
	c.readUntil(gatewayOpening)
	c.write("\xff\xfc\x1f\xff\xfb\x18", false)
	c.readUntil(ttypeSend)
	c.write("\xff\xfa\x18\x00VT100\xff\xf0", false)
	if got, want := c.readUntil("> "), "┌─┐ ?\r\n> "; got != want {
		t.Fatalf("before the BBS chose: %q, want %q", got, want)
	}
	c.write("n\r", false)
	if got, want := c.readUntil("> "), "\xda\xc4\xbf ?\r\n> "; got != want {
		t.Fatalf("after the BBS chose CP437: %q, want %q", got, want)
	}
	c.write("\x82\r", false)
	c.readToEOF()
	bbs.waitGone(t)
	got := bbs.receivedRequests()
	if want := withTerminal(req("é"), `{"type":"VT100","encoding":"cp437","ansi":true}`); len(got) != 3 || got[2] != want {
		t.Errorf("requests %q, want the last %q", got, want)
	}
}
