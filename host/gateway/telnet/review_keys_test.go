package telnet

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/frontend"
	"github.com/m2bbs/m2bbs/host/message"
)

// Regression tests from the hostile review of keystroke mode (commit
// 3675614, /work/notes/reports/review_keys.md): each test is named and
// documented after the defect it found; they pass since the fixes.

// nextRequest waits up to d for the BBS's next request ("" if none).
func nextRequest(bbs *fakeBBS, d time.Duration) string {
	select {
	case r := <-bbs.requests:
		return r
	case <-time.After(d):
		return ""
	}
}

// TestReviewCRLFLeaksLFIntoKeystrokeMode: a telnet client that sends
// Enter as CR LF answers a menu; the editor CR ends the line and the LF
// stays in typeAhead (the line editor would have swallowed it at the next
// prompt, Editor.afterCR). showKeys hands typeAhead to a fresh Batcher
// (afterCR false): the board gets a spurious "\n" key as the first key of
// keystroke mode.
func TestReviewCRLFLeaksLFIntoKeystrokeMode(t *testing.T) {
	bbs := newFakeBBS(false,
		[]message.Message{message.Prompt("Menu?", "> ")},
		[]message.Message{message.Keys("EDIT")},
		[]message.Message{message.Keys("1")},
		[]message.Message{message.Keys("2")},
	)
	_, addr := startGateway(t, bbs, Config{})
	c := dialGateway(t, addr)
	c.write("\xff\xfd\x01", false) // DO ECHO
	c.readUntil("> ")
	c.write("e\r\n", false) // one packet, as PuTTY or Windows telnet send Enter
	c.readUntil("EDIT")
	c.write("x", false)
	var keys []string
	for range 4 {
		r := nextRequest(bbs, 2*time.Second)
		if r == "" {
			break
		}
		if strings.Contains(r, `"type":"keys"`) {
			keys = append(keys, r)
		}
		if strings.Contains(r, `"msg":"x"`) {
			break
		}
	}
	for _, k := range keys {
		if strings.Contains(k, `"msg":"\n`) {
			t.Errorf("a key the caller never typed reached the board: %q", k)
		}
	}
}

// TestReviewScreenInKeysModeStrandsCaller: any message of another type
// ends keystroke mode; a screen (a sysop broadcast, a time warning, a
// page from another caller, the dispatch's "busy" text) leaves the
// gateway in line mode with no prompt (showKeys cleared it), so what the
// caller types is kept as type-ahead and never sent, while the script
// waits in ui.keys.
func TestReviewScreenInKeysModeStrandsCaller(t *testing.T) {
	bbs := newFakeBBS(false,
		[]message.Message{message.Keys("EDIT"), message.Screen("Page from mallory: hi")},
	)
	_, addr := startGateway(t, bbs, Config{})
	c := dialGateway(t, addr)
	c.write("\xff\xfd\x01", false) // DO ECHO
	c.readUntil("mallory: hi")
	if r := nextRequest(bbs, 2*time.Second); !strings.Contains(r, `"connect"`) {
		t.Fatalf("first request %q", r)
	}
	c.write("x", false)
	c.write("y\r", false)
	if r := nextRequest(bbs, 1500*time.Millisecond); r == "" {
		t.Errorf("after a screen in keystroke mode the caller typed x, y and Enter and the board got nothing: stuck")
	}
}

// TestReviewKeysRequestOverFrameLimit: a 1,024-byte burst of control
// keys (here Ctrl-A; ESC, or invalid UTF-8 written as \ufffd, do the
// same) becomes a request of ~6 KiB once JSON-escaped: over the front
// end's (and Mongrel2's) 4 KiB frame limit, which refuses it and closes
// the caller's connection.
func TestReviewKeysRequestOverFrameLimit(t *testing.T) {
	bbs := newFakeBBS(false, []message.Message{message.Keys("GO")})
	c, _ := serveStream(t, bbs, Stream{Echo: true})
	c.readUntil("GO")
	if r := nextRequest(bbs, 2*time.Second); r == "" {
		t.Fatal("no connect")
	}
	c.write(strings.Repeat("\x01", 1024), false)
	r := nextRequest(bbs, 2*time.Second)
	if r == "" {
		t.Fatal("no keys request")
	}
	_, err := frontend.NewFrameReader(bytes.NewReader([]byte(r)), frontend.DefaultMaxFrameBytes).Next()
	if errors.Is(err, frontend.ErrFrameTooLarge) {
		t.Errorf("the gateway sent a keys request of %d bytes: the front end refuses it (%v) and hangs up", len(r), err)
	}
}
