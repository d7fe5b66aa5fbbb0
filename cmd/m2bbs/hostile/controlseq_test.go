package hostile

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// controlLine is what a hostile caller types to take over other callers'
// terminals: a window title (OSC 0), a clear screen and cursor home, a
// clipboard write (OSC 52), a C1 CSI, a pipe code and a DCS request.
const controlLine = "A\x1b]0;pwned\x07B\x1b[2J\x1b[HC\x1b]52;c;ZXZpbA==\x07D\u009b2J|04E\x1bP+q544e\x1b\\F"

// controlShown is controlLine as everyone else must see it: its text.
const controlShown = "ABCD2J|04EF"

// obeyedByTerminal returns the first thing in text that a terminal would
// act on rather than print, other than newline, carriage return, tab and
// colour (SGR, ESC [ digits ; m), or "".
func obeyedByTerminal(text []byte) string {
	if !utf8.Valid(text) {
		return "invalid UTF-8"
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == 0x1b:
			j := i + 1
			if j < len(text) && text[j] == '[' {
				for j++; j < len(text) && (text[j] >= '0' && text[j] <= '9' || text[j] == ';'); j++ {
				}
				if j < len(text) && text[j] == 'm' {
					i = j
					continue
				}
			}
			return string(bytes.ToValidUTF8(text[i:min(len(text), i+8)], []byte("?")))
		case c == '\n', c == '\r', c == '\t':
		case c < 0x20, c == 0x7f:
			return string(rune(c))
		case c == 0xc2 && i+1 < len(text) && text[i+1] >= 0x80 && text[i+1] <= 0x9f:
			return string(text[i : i+2])
		}
	}
	return ""
}

// telnetCaller is a plain telnet client that negotiates nothing (like
// nc): the gateway then sends text only, apart from its opening offers.
type telnetCaller struct {
	conn net.Conn
	// all is every byte received; read is how much expect has consumed.
	all  []byte
	read int
}

// expect reads until want arrives and returns what came up to and
// including it.
func (c *telnetCaller) expect(t *testing.T, want string) []byte {
	t.Helper()
	buf := make([]byte, 4096)
	deadline := time.Now().Add(readTimeout)
	for {
		if i := bytes.Index(c.all[c.read:], []byte(want)); i >= 0 {
			got := c.all[c.read : c.read+i+len(want)]
			c.read += i + len(want)
			return got
		}
		_ = c.conn.SetReadDeadline(deadline)
		n, err := c.conn.Read(buf)
		c.all = append(c.all, buf[:n]...)
		if err != nil {
			t.Fatalf("telnet: waiting for %q: %v; received:\n%q", want, err, c.all)
		}
	}
}

// send types line and Enter.
func (c *telnetCaller) send(t *testing.T, line string) {
	t.Helper()
	if _, err := c.conn.Write([]byte(line + "\r\n")); err != nil {
		t.Fatal(err)
	}
}

// textAfterNegotiation is what the gateway sent after its opening telnet
// negotiation (IAC sequences), for checking as terminal text.
func (c *telnetCaller) textAfterNegotiation() []byte {
	text := c.all
	for len(text) > 2 && text[0] == 0xff {
		text = text[3:] // IAC WILL/DO x: the gateway's opening offers
	}
	return bytes.ReplaceAll(text, []byte{0xff, 0xfa, 0x18, 0x01, 0xff, 0xf0}, nil) // terminal type SEND
}

// TestHostileControlSequencesReachNobody: an attacker who puts escape
// sequences in a post, a one-liner and a page cannot make a
// classic caller's or a telnet caller's terminal do anything but print
// the text, and the board's own colour still reaches them.
func TestHostileControlSequencesReachNobody(t *testing.T) {
	b := startBoard(t, boardOptions{telnet: true})
	by := b.bystander(t, "ann")

	attacker := b.call(t, attackerIP)
	assertResponsive(t, by, func() {
		attacker.answer(t, "eve", bystanderPassword, bystanderPassword, "y",
			"1", controlLine, "second "+controlLine, ".", // a message
			"6", controlLine, // a one-liner
			"8", "ann", controlLine) // a page
	})

	// The page reached the bystander at once; then they read the message
	// and the wall and look at who is online.
	for _, line := range []string{"2", "", "6", "", "5"} {
		if err := by.c.Send(line); err != nil {
			t.Fatal(err)
		}
		if _, _, err := by.next(); err != nil {
			t.Fatalf("the bystander after %q: %v; they saw:\n%s", line, err, by.seen.String())
		}
	}
	seen := by.seen.String()
	for _, want := range []string{
		"Page from eve: " + controlShown,
		"From: eve\n" + controlShown + "\nsecond " + controlShown,
		"eve\x1b[0;37m: " + controlShown,
	} {
		if !strings.Contains(seen, want) {
			t.Errorf("the bystander was not shown %q; they saw:\n%q", want, seen)
		}
	}
	if bad := obeyedByTerminal([]byte(seen)); bad != "" {
		t.Errorf("the bystander's terminal would obey %q; they saw:\n%q", bad, seen)
	}

	// A telnet caller reads the same text off the wire.
	conn := dialFrom(t, bystanderIP, b.telnetAddr)
	tc := &telnetCaller{conn: conn}
	tc.expect(t, "> ")
	tc.send(t, "cy")
	tc.expect(t, "password")
	tc.send(t, bystanderPassword)
	tc.expect(t, "register")
	tc.send(t, bystanderPassword)
	tc.expect(t, "(Y/n)")
	tc.send(t, "y")
	const menuPrompt = "Q. Quit the BBS.\r\n> "
	tc.expect(t, menuPrompt)
	for _, step := range []struct{ key, prompt string }{
		{"2", "[Enter/Q] "}, {"", menuPrompt}, // the message
		{"6", "go back:\r\n> "}, {"", menuPrompt}, // the wall
	} {
		tc.send(t, step.key)
		tc.expect(t, step.prompt)
	}
	wire := tc.textAfterNegotiation()
	if n := bytes.Count(wire, []byte(controlShown)); n < 3 {
		t.Errorf("the telnet caller saw the attacker's text %d times, want 3 (two lines, the wall):\n%q", n, wire)
	}
	if bad := obeyedByTerminal(wire); bad != "" {
		t.Errorf("the telnet caller's terminal would obey %q; the wire held:\n%q", bad, wire)
	}
	if !bytes.Contains(wire, []byte("\x1b[1;37mThe wall")) {
		t.Errorf("the board's own colour did not reach the telnet caller:\n%q", wire)
	}
}
