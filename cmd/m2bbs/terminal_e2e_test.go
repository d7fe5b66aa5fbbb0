package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/m2bbs/m2bbs/host/shared/freeport"
)

// boxScript shows a box and, at every prompt, the caller's terminal.
const boxScript = `require 'ui'
function m2bbs(conn, req)
    ui.display(conn, req, '┌──┐\n│ok│\n└──┘ café')
    repeat
        local t = conn:terminal()
        req = ui.ask(conn, req, string.format('%dx%d %s %s', t.width, t.height, t.encoding, t.type))
    until req.data.msg == 'Q'
end
`

// telnetTerminal is a telnet caller written in Go: it answers the
// gateway's opening with a window size and a terminal type.
type telnetTerminal struct {
	t    *testing.T
	conn net.Conn
	buf  []byte
}

func dialTerminal(t *testing.T, port int, ttype string, width, height int) *telnetTerminal {
	t.Helper()
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &telnetTerminal{t: t, conn: conn}
	c.readUntil("\xff\xfd\x18") // the opening ends with DO TERMINAL-TYPE
	c.write("\xff\xfd\x01\xff\xfd\x03\xff\xfb\x03\xff\xfb\x1f" + naws(width, height) + "\xff\xfb\x18")
	c.readUntil("\xff\xfa\x18\x01\xff\xf0") // SEND your terminal type
	c.write("\xff\xfa\x18\x00" + ttype + "\xff\xf0")
	return c
}

// naws is the window size subnegotiation.
func naws(width, height int) string {
	return string([]byte{0xff, 0xfa, 0x1f, byte(width >> 8), byte(width), byte(height >> 8), byte(height), 0xff, 0xf0})
}

func (c *telnetTerminal) write(s string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

// readUntil reads until mark and returns what came up to its end.
func (c *telnetTerminal) readUntil(mark string) string {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(readTimeout))
	chunk := make([]byte, 4096)
	for {
		if i := bytes.Index(c.buf, []byte(mark)); i >= 0 {
			out := string(c.buf[:i+len(mark)])
			c.buf = c.buf[i+len(mark):]
			return out
		}
		n, err := c.conn.Read(chunk)
		c.buf = append(c.buf, chunk[:n]...)
		if err != nil {
			c.t.Fatalf("waiting for %q: %v; got %q", mark, err, c.buf)
		}
	}
}

// TestTelnetTerminalsGetTheirEncoding: through "m2bbs run"'s telnet port,
// a caller whose terminal says ANSI (CP437) and one whose terminal says
// xterm-256color (UTF-8) get the same box, each in their own bytes; the
// script's conn:terminal() has the size NAWS gave, and the new size after
// the window changes.
func TestTelnetTerminalsGetTheirEncoding(t *testing.T) {
	scripts := t.TempDir()
	if err := os.WriteFile(filepath.Join(scripts, "box.lua"), []byte(boxScript), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, telnetPort, _ := startTelnetBBS(t, "-scripts", scripts, "-main", "box.lua")

	for _, tc := range []struct {
		ttype, box, prompt, resized string
	}{
		{"ANSI", "\xda\xc4\xc4\xbf\r\n\xb3ok\xb3\r\n\xc0\xc4\xc4\xd9 caf\x82\r\n",
			"80x25 cp437 ANSI\r\n> ", "132x50 cp437 ANSI\r\n> "},
		{"xterm-256color", "┌──┐\r\n│ok│\r\n└──┘ café\r\n",
			"80x25 utf-8 xterm-256color\r\n> ", "132x50 utf-8 xterm-256color\r\n> "},
	} {
		c := dialTerminal(t, telnetPort, tc.ttype, 80, 25)
		if got, want := c.readUntil("> "), tc.box+tc.prompt; got != want {
			t.Errorf("%s: the box and prompt came as %q, want %q", tc.ttype, got, want)
		}
		c.write(naws(132, 50) + "x\r\n")
		if got, want := c.readUntil("> "), "x\r\n"+tc.resized; got != want {
			t.Errorf("%s: after the window changed: %q, want %q", tc.ttype, got, want)
		}
		c.write("Q\r\n")
	}
}

// TestTelnetCallerIsAskedTheirEncodingOnce: on the shipped board, a
// telnet caller whose terminal says VT100 (a type that tells no encoding)
// is asked once whether a box shows: in UTF-8 first, then, after "n", in
// CP437 bytes; the answer is kept, so their next call is not asked.
func TestTelnetCallerIsAskedTheirEncodingOnce(t *testing.T) {
	_, _, telnetPort, _ := startTelnetBBS(t)
	const question = "Does this look like a box: "
	c := dialTerminal(t, telnetPort, "VT100", 80, 24)
	c.readUntil("What's your name?") // in colour: the welcome is art
	c.readUntil("> ")
	c.write("tess\r\n")
	c.readUntil("> ")
	c.write("hunter2\r\n")
	c.readUntil("> ")
	c.write("hunter2\r\n")
	if got := c.readUntil("(Y/n)\r\n> "); !strings.Contains(got, question+"┌─┐ ?") {
		t.Fatalf("no box question in UTF-8 after registering: %q", got)
	}
	c.write("n\r\n")
	if got := c.readUntil("(Y/n)\r\n> "); !strings.Contains(got, question+"\xda\xc4\xbf ?") {
		t.Fatalf("no box question in CP437 after n: %q", got)
	}
	c.write("y\r\n")
	c.readUntil("Do you want to continue? (Y/n)\r\n> ")
	c.write("Q\r\n") // not y: says goodbye
	c.conn.Close()

	again := dialTerminal(t, telnetPort, "VT100", 80, 24)
	again.readUntil("What's your name?")
	again.readUntil("> ")
	again.write("tess\r\n")
	again.readUntil("> ")
	again.write("hunter2\r\n")
	if got := again.readUntil("Do you want to continue? (Y/n)\r\n> "); strings.Contains(got, question) {
		t.Errorf("asked again on the second call: %q", got)
	}
}

// TestCP437TelnetAndUTF8SSHGetTheSameBox: through one "m2bbs run", a
// telnet caller whose terminal says ANSI and an SSH caller on an
// xterm-256color pty get the same box screen, each in their own bytes
// (CP437 and UTF-8), and the script sees each one's window.
func TestCP437TelnetAndUTF8SSHGetTheSameBox(t *testing.T) {
	scripts := t.TempDir()
	if err := os.WriteFile(filepath.Join(scripts, "box.lua"), []byte(boxScript), 0o644); err != nil {
		t.Fatal(err)
	}
	telnetPort, err := freeport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	_, sshPort := startSSHBBS(t, "-telnet-port", fmt.Sprint(telnetPort), "-scripts", scripts, "-main", "box.lua")

	tn := dialTerminal(t, telnetPort, "ANSI", 80, 25)
	if got, want := tn.readUntil("> "), "\xda\xc4\xc4\xbf\r\n\xb3ok\xb3\r\n\xc0\xc4\xc4\xd9 caf\x82\r\n80x25 cp437 ANSI\r\n> "; got != want {
		t.Errorf("the CP437 telnet caller got %q, want %q", got, want)
	}
	sh := dialSSHTerminal(t, fmt.Sprintf("127.0.0.1:%d", sshPort), legacySSH("new", ssh.Password("x")), "xterm-256color", 100, 40)
	if got, want := sh.expect("> "), "┌──┐\r\n│ok│\r\n└──┘ café\r\n100x40 utf-8 xterm-256color\r\n> "; got != want {
		t.Errorf("the UTF-8 SSH caller got %q, want %q", got, want)
	}
}
