package telnet

import (
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/keystroke"
)

// keysReq is the keys request the gateway should send for keys typed by
// a caller whose terminal is js.
func keysReq(keys, js string) string {
	return withTerminal(string(classic.WithANSI(classic.AppendKeys(nil, "@bbs", keys))), js)
}

// TestStreamKeystrokeMode: a keys message is written as it is and puts
// the caller in keystroke mode: keys go to the board as typed (an arrow
// key whole, Enter as one CR), nothing is echoed; a screen (a page) is
// shown and the mode goes on; the next prompt ends the mode and lines
// are edited again.
func TestStreamKeystrokeMode(t *testing.T) {
	bbs := newFakeBBS(false,
		[]message.Message{message.Keys("\x1b[2J\x1b[HEDIT"), message.Screen("A page!")},
		[]message.Message{message.Keys("\x1b[1;1Hab")},
		[]message.Message{message.Prompt("Done?", "> ")},
		[]message.Message{message.Exit("Bye.")},
	)
	c, _ := serveStream(t, bbs, Stream{Echo: true, Terminal: Terminal{Type: "xterm", Width: 80, Height: 24}})
	if got := c.readUntil("A page!\r\n"); got != "\x1b[2J\x1b[HEDITA page!\r\n" {
		t.Fatalf("the caller saw %q", got)
	}
	c.write("ab", false)
	if got := c.readUntil("ab"); got != "\x1b[1;1Hab" {
		t.Fatalf("after typing the caller saw %q (an echo?)", got)
	}
	c.write("\x1b[A\r\n", false)
	c.readUntil("Done?\r\n> ")
	c.write("yes\r", false)
	c.readUntil("yes\r\n", "Bye.\r\n")
	term := `{"type":"xterm","width":80,"height":24,"encoding":"utf-8","ansi":true,"keys":true}`
	reqs := bbs.receivedRequests()
	want := []string{keysReq("ab", term), keysReq("\x1b[A\r", term), withTerminal(req("yes"), term)}
	if len(reqs) != 4 || reqs[1] != want[0] || reqs[2] != want[1] || reqs[3] != want[2] {
		t.Errorf("the board got %q, want after the connect %q", reqs, want)
	}
}

// TestStreamWithoutEchoHasNoKeystrokeMode: a stream whose caller's own
// terminal echoes (ssh -T) is not offered keystroke mode.
func TestStreamWithoutEchoHasNoKeystrokeMode(t *testing.T) {
	bbs := newFakeBBS(false, []message.Message{message.Prompt("Hi", "> ")})
	c, _ := serveStream(t, bbs, Stream{Terminal: Terminal{Type: "xterm"}})
	c.readUntil("> ")
	if reqs := bbs.receivedRequests(); len(reqs) != 1 || strings.Contains(reqs[0], `"keys"`) {
		t.Errorf("the board got %q", reqs)
	}
}

// TestKeystrokeFloodIsPacedAndBounded: a caller typing a flood of single
// keys in keystroke mode reaches the board as at most RequestsPerSecond
// requests a second, each at most MaxRequestBytes, the keys merged, none
// lost below MaxPendingBytes.
func TestKeystrokeFloodIsPacedAndBounded(t *testing.T) {
	bbs := newFakeBBS(false, []message.Message{message.Keys("GO")})
	c, _ := serveStream(t, bbs, Stream{Echo: true})
	c.readUntil("GO")
	began := time.Now()
	const n = 3000
	for range n {
		c.write("k", false)
	}
	got := 0
	requests := 0
	deadline := time.After(waitLimit)
	for got < n {
		select {
		case r := <-bbs.requests:
			if !strings.Contains(r, `"type":"keys"`) {
				continue
			}
			requests++
			keys := strings.Count(r, "k") - strings.Count(r, `"keys"`)
			if keys > keystroke.MaxRequestBytes {
				t.Fatalf("a request of %d keys", keys)
			}
			got += keys
		case <-deadline:
			t.Fatalf("%d keys of %d reached the board", got, n)
		}
	}
	elapsed := time.Since(began)
	if limit := int(elapsed.Seconds()*keystroke.RequestsPerSecond) + 2; requests > limit {
		t.Errorf("%d requests in %v: more than %d", requests, elapsed, limit)
	}
	if got != n {
		t.Errorf("%d keys reached the board, want %d", got, n)
	}
}

// TestTelnetKeystrokeMode: over telnet, keys come to the board as typed
// (CR NUL as one CR, IAC IP as Ctrl-C), without
// echo, and a prompt goes back to line editing.
func TestTelnetKeystrokeMode(t *testing.T) {
	bbs := newFakeBBS(false,
		[]message.Message{message.Keys("EDIT")},
		[]message.Message{message.Keys("1")},
		[]message.Message{message.Prompt("Line?", "> ")},
		[]message.Message{message.Exit("Bye.")},
	)
	_, addr := startGateway(t, bbs, Config{})
	c := dialGateway(t, addr)
	c.write("\xff\xfd\x01", false) // DO ECHO
	c.readUntil("EDIT")
	c.write("x\r\x00", false)
	c.readUntil("1")
	c.write("\xff\xf4", false) // IAC IP
	c.readUntil("Line?\r\n> ")
	c.write("ok\r", false)
	c.readUntil("ok\r\n", "Bye.\r\n")
	reqs := bbs.receivedRequests()
	want := []string{keysReq("x\r", echoedTelnet), keysReq("\x03", echoedTelnet), withTerminal(req("ok"), echoedTelnet)}
	if len(reqs) != 4 || reqs[1] != want[0] || reqs[2] != want[1] || reqs[3] != want[2] {
		t.Errorf("the board got %q, want after the connect %q", reqs, want)
	}
}

// TestCP437KeystrokeMode: a CP437 caller in keystroke mode gets the
// output in CP437 with its escape codes intact, and their keys reach the
// board in UTF-8.
func TestCP437KeystrokeMode(t *testing.T) {
	bbs := newFakeBBS(false,
		[]message.Message{message.Keys("\x1b[7m─ café ─\x1b[0m")},
		[]message.Message{message.Keys("ok")},
	)
	_, addr := startGateway(t, bbs, Config{})
	c := dialGateway(t, addr)
	c.readUntil(gatewayOpening)
	c.write(answersANSI, false)
	c.readUntil(ttypeSend)
	c.write("\xff\xfa\x18\x00ANSI\xff\xf0", false)
	if got, want := c.readUntil("\x1b[0m"), "\x1b[7m\xc4 caf\x82 \xc4\x1b[0m"; got != want {
		t.Fatalf("the output: %q, want %q", got, want)
	}
	c.write("\x82\x1b[D", false) // é, left arrow
	c.readUntil("ok")
	term := `{"type":"ANSI","width":80,"height":25,"encoding":"cp437","ansi":true,"keys":true,"bin":true}`
	if reqs := bbs.receivedRequests(); len(reqs) != 2 || reqs[1] != keysReq("é\x1b[D", term) {
		t.Errorf("the board got %q", reqs)
	}
}

// TestCRLFAcrossLeavingKeystrokeMode: Enter as CR LF, its CR a key that
// ends the editor and its LF read after the prompt came, is one Enter:
// the LF answers no prompt with an empty line.
func TestCRLFAcrossLeavingKeystrokeMode(t *testing.T) {
	bbs := newFakeBBS(false,
		[]message.Message{message.Keys("EDIT")},
		[]message.Message{message.Prompt("Next?", "> ")},
		[]message.Message{message.Exit("Bye.")},
	)
	c, _ := serveStream(t, bbs, Stream{Echo: true})
	c.readUntil("EDIT")
	c.write("\r", false)
	c.readUntil("Next?\r\n> ")
	c.write("\nok\r", false)
	c.readUntil("Bye.\r\n")
	reqs := bbs.receivedRequests()
	if len(reqs) != 3 || reqs[1] != keysReq("\r", echoed) || reqs[2] != withTerminal(req("ok"), echoed) {
		t.Errorf("the board got %q", reqs)
	}
}
