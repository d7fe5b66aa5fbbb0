package telnet

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/binstream"
)

// binReq is the binary request the gateway should send for bytes p from
// a caller whose terminal is js.
func binReq(p, js string) string {
	return withTerminal(string(classic.WithANSI(classic.AppendBinary(nil, "@bbs", binstream.Encode([]byte(p))))), js)
}

// TestTelnetBinaryMode: a bin message asks for BINARY both ways, and its
// bytes wait for the answer; once BINARY is on they go with IAC doubled
// and CR bare, and the caller's IAC IAC arrives as one 0xff and their CR
// NUL as the two bytes it is. The board's binend ends the mode.
func TestTelnetBinaryMode(t *testing.T) {
	bbs := newFakeBBS(false,
		[]message.Message{message.Binary(binstream.Encode([]byte("\xff\r\x00A\r\n")))},
		[]message.Message{message.Binary(binstream.Encode([]byte("\r")))},
		[]message.Message{{Type: message.TypeBinaryEnd}, message.Prompt("done", "> ")},
		[]message.Message{message.Exit("Bye.")},
	)
	_, addr := startGateway(t, bbs, Config{})
	c := dialGateway(t, addr)
	c.write("\xff\xfd\x01", false)              // DO ECHO
	c.readUntil("\xff\xfb\x00\xff\xfd\x00")     // WILL BINARY, DO BINARY
	c.write("\xff\xfd\x00\xff\xfb\x00x", false) // DO BINARY, WILL BINARY, a byte
	if got := c.readUntil("A\r\n"); got != "\xff\xff\r\x00A\r\n" {
		t.Fatalf("first piece %q, want it in binary", got)
	}
	if got := c.readUntil("\r"); got != "\r" {
		t.Fatalf("second piece %q, want a bare CR", got)
	}
	c.write("\xff\xffB\r\x00C", false)
	c.readUntil("done\r\n> ")
	time.Sleep(2 * AfterBinaryQuiet) // a person answers later than a transfer's tail (TestTelnetBinaryTailDropped)
	c.write("ok\r", false)
	c.readUntil("Bye.\r\n")
	reqs := bbs.receivedRequests()
	want := []string{binReq("x", echoedTelnet), binReq("\xffB\r\x00C", echoedTelnet), withTerminal(req("ok"), echoedTelnet)}
	if len(reqs) != 4 || reqs[1] != want[0] || reqs[2] != want[1] || reqs[3] != want[2] {
		t.Errorf("the board got %q, want after the connect %q", reqs, want)
	}
}

// TestTelnetBinaryWithoutAnAnswer: a client that never answers BINARY
// gets the bytes after BinaryWait in NVT form (IAC doubled, CR as CR NUL),
// and its own CR NUL is read as CR.
func TestTelnetBinaryWithoutAnAnswer(t *testing.T) {
	bbs := newFakeBBS(false,
		[]message.Message{message.Binary(binstream.Encode([]byte("\xff\rZ")))},
		[]message.Message{message.Exit("Bye.")},
	)
	_, addr := startGateway(t, bbs, Config{})
	c := dialGateway(t, addr)
	c.write("\xff\xfd\x01", false) // DO ECHO
	if got := c.readUntil("Z"); !strings.HasSuffix(got, "\xff\xfb\x00\xff\xfd\x00\xff\xff\r\x00Z") {
		t.Fatalf("got %q, want the offers then the bytes in NVT form", got)
	}
	c.write("\r\x00", false)
	c.readUntil("Bye.\r\n")
	if reqs := bbs.receivedRequests(); len(reqs) != 2 || reqs[1] != binReq("\r", echoedTelnet) {
		t.Errorf("the board got %q", reqs)
	}
}

// TestTelnetBinaryTailDropped: what the caller sends right after binary
// stream mode ends, while their program's bytes still flow (the tail of
// a cancelled transfer, a Ctrl-C in it), is dropped until they have been
// quiet for AfterBinaryQuiet; then their lines count again.
func TestTelnetBinaryTailDropped(t *testing.T) {
	bbs := newFakeBBS(false,
		[]message.Message{message.Binary("")},
		[]message.Message{{Type: message.TypeBinaryEnd}, message.Prompt("done", "> ")},
		[]message.Message{message.Exit("Bye.")},
	)
	_, addr := startGateway(t, bbs, Config{})
	c := dialGateway(t, addr)
	c.write("\xff\xfd\x01", false) // DO ECHO
	c.readUntil("\xff\xfb\x00\xff\xfd\x00")
	c.write("\xff\xfd\x00\xff\xfb\x00x", false) // the transfer's last byte
	c.readUntil("done\r\n> ")
	c.write("\x03junk\r", false)     // the program's tail: dropped
	time.Sleep(2 * AfterBinaryQuiet) // the quiet the gateway waits for is what is tested
	c.write("ok\r", false)
	c.readUntil("Bye.\r\n")
	if reqs := bbs.receivedRequests(); len(reqs) != 3 || reqs[2] != withTerminal(req("ok"), echoedTelnet) {
		t.Errorf("the board got %q", reqs)
	}
}

// TestTelnetBinaryBurstLosesNothing: a caller who sends far faster than
// the gateway's pace (a LAN upload) loses no byte: the gateway stops
// reading instead. (Found by the review: a read past the batch's room
// was cut.)
func TestTelnetBinaryBurstLosesNothing(t *testing.T) {
	bbs := newFakeBBS(false, []message.Message{message.Binary(binstream.Encode([]byte("go")))})
	c := inBinaryMode(t, bbs)
	const total = 90 * 1024
	go c.write(strings.Repeat("a", total), false)
	got := 0
	for deadline := time.After(waitLimit); got < total; {
		select {
		case r := <-bbs.requests:
			i := strings.IndexByte(r, ' ')
			var m struct{ Type, Msg string }
			if i < 0 || json.Unmarshal([]byte(strings.TrimSuffix(r[i+1:], "\x00")), &m) != nil || m.Type != message.TypeBinary {
				continue
			}
			p, err := binstream.Decode(m.Msg, binstream.MaxRequestBytes)
			if err != nil {
				t.Fatal(err)
			}
			got += len(p)
		case <-deadline:
			t.Fatalf("the caller sent %d bytes; the board got %d", total, got)
		}
	}
	if got != total {
		t.Fatalf("the caller sent %d bytes; the board got %d", total, got)
	}
}

// TestTelnetBinaryHoldsOtherMessages: a screen that comes during a
// transfer (the sysop's watch notice, a page) is held, not written into
// the transfer, and shown once the board ends the mode. (Found by the
// review.)
func TestTelnetBinaryHoldsOtherMessages(t *testing.T) {
	bbs := newFakeBBS(false,
		[]message.Message{message.Binary(binstream.Encode([]byte("go")))},
		[]message.Message{message.Screen("The sysop is watching your session."), message.Binary(binstream.Encode([]byte("more")))},
		[]message.Message{{Type: message.TypeBinaryEnd}, message.Exit("Bye.")},
	)
	c := inBinaryMode(t, bbs)
	c.write("a", false)
	if got := c.readUntil("more"); got != "more" {
		t.Fatalf("the caller's transfer program got %q between two binary pieces, want only \"more\"", got)
	}
	c.write("b", false)
	if got := c.readUntil("Bye.\r\n"); !strings.Contains(got, "The sysop is watching your session.") {
		t.Fatalf("after the transfer the caller saw %q, without the held screen", got)
	}
}

// inBinaryMode dials a gateway for bbs, whose first reply is a bin
// message "go", and agrees BINARY both ways as a terminal program does.
func inBinaryMode(t *testing.T, bbs *fakeBBS) *telnetClient {
	t.Helper()
	_, addr := startGateway(t, bbs, Config{})
	c := dialGateway(t, addr)
	c.write("\xff\xfd\x01", false)             // DO ECHO
	c.readUntil("\xff\xfb\x00\xff\xfd\x00")    // WILL BINARY, DO BINARY
	c.write("\xff\xfd\x00\xff\xfb\x00", false) // DO BINARY, WILL BINARY
	c.readUntil("go")
	return c
}
