package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/message"
)

// telnetCaller is a telnet caller that negotiates nothing and keeps what
// it reads.
type telnetCaller struct {
	t   *testing.T
	nc  net.Conn
	got []byte
}

func dialTelnet(t *testing.T, port int) *telnetCaller {
	return dialTelnetWith(t, port, &net.Dialer{})
}

// dialSlowTelnet dials with a small receive buffer, so that what the
// caller does not read soon holds up the gateway's writes to it.
func dialSlowTelnet(t *testing.T, port int) *telnetCaller {
	return dialTelnetWith(t, port, &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		if cerr := rc.Control(func(fd uintptr) {
			err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		}); cerr != nil {
			return cerr
		}
		return err
	}})
}

func dialTelnetWith(t *testing.T, port int, d *net.Dialer) *telnetCaller {
	t.Helper()
	nc, err := d.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &telnetCaller{t: t, nc: nc}
}

// readUntil reads until want has come, and returns everything read since
// the last call.
func (c *telnetCaller) readUntil(want string, timeout time.Duration) string {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(timeout))
	buf := make([]byte, 64<<10)
	for !bytes.Contains(c.got, []byte(want)) {
		n, err := c.nc.Read(buf)
		c.got = append(c.got, buf[:n]...)
		if err != nil {
			c.t.Fatalf("waiting for %q: %v; got %d bytes ending %q", want, err, len(c.got), c.got[max(0, len(c.got)-200):])
		}
	}
	i := bytes.Index(c.got, []byte(want)) + len(want)
	out := string(c.got[:i])
	c.got = append(c.got[:0], c.got[i:]...)
	return out
}

func (c *telnetCaller) line(s string) {
	c.t.Helper()
	if _, err := c.nc.Write([]byte(s + "\r\n")); err != nil {
		c.t.Fatal(err)
	}
}

// checkArt fails unless screen shows ANSI art decoded to UTF-8 with its
// SAUCE record stripped.
func checkArt(t *testing.T, who, screen, glyph string) {
	t.Helper()
	if !strings.Contains(screen, "\x1b[") || !strings.Contains(screen, glyph) {
		t.Errorf("%s: no escape codes or no %q in the art:\n%q", who, glyph, screen[:min(len(screen), 400)])
	}
	for _, leak := range []string{"SAUCE", "COMNT", "\x1a"} {
		if strings.Contains(screen, leak) {
			t.Errorf("%s: the art's SAUCE record reached the caller (%q)", who, leak)
		}
	}
}

// TestArtScreensByCaller: the shipped board's welcome.ans (CP437 with a
// SAUCE record) reaches a telnet caller as UTF-8 art with its escape
// codes and without its SAUCE record, while the classic client gets
// welcome.txt; the main menu's header art reaches the telnet caller only.
func TestArtScreensByCaller(t *testing.T) {
	_, port, telnetPort, _ := startTelnetBBS(t)

	tc := dialTelnet(t, telnetPort)
	welcome := tc.readUntil("What's your name?", 20*time.Second)
	checkArt(t, "telnet", welcome, "╔═══")
	if !strings.Contains(welcome, "█▄ ▄█") {
		t.Errorf("telnet: the welcome art's banner is missing:\n%q", welcome)
	}

	cc, err := classic.Dial(t.Context(), fmt.Sprintf("127.0.0.1:%d", port), "@bbs", false)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if err := cc.Connect(); err != nil {
		t.Fatal(err)
	}
	m, err := cc.Next(20 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	txt, err := os.ReadFile("../../screens/welcome.txt")
	if err != nil {
		t.Fatal(err)
	}
	if m.Type != message.TypePrompt || m.Msg != strings.TrimSuffix(string(txt), "\n") {
		t.Errorf("classic client got %s %q, want the prompt of welcome.txt", m.Type, m.Msg)
	}

	// The telnet caller registers and reaches the main menu: its header
	// art comes before the menu; the goodbye art ends the call.
	tc.line("artful")
	tc.readUntil("> ", 10*time.Second)
	tc.line("a long passphrase")
	tc.readUntil("> ", 10*time.Second)
	tc.line("a long passphrase")
	tc.readUntil("(Y/n)", 10*time.Second)
	tc.line("y")
	menu := tc.readUntil("Q. Quit the BBS.", 10*time.Second)
	checkArt(t, "telnet main menu", menu, "M A I N   M E N U")
	tc.readUntil("> ", 10*time.Second)
	tc.line("Q")
	bye := tc.readUntil("see ya later.", 10*time.Second)
	checkArt(t, "telnet goodbye", bye, "░░░▒▒▒▓▓▓")
}

// bigArt is a .ans file of about size bytes: rows of 80 shaded, coloured
// cells without line breaks (the art relies on the 80-column wrap), each
// 20th row ending in its number, then a SAUCE record of 80 columns.
func bigArt(size int) []byte {
	var art []byte
	for row := 0; len(art) < size; row++ {
		art = fmt.Appendf(art, "\x1b[%d;3%dm", row%2, row%8)
		cells := bytes.Repeat([]byte{0xB0, 0xB1, 0xB2, 0xDB}, 20)
		if row%20 == 0 {
			copy(cells[70:], fmt.Sprintf("row%05d", row))
		}
		art = append(art, cells...)
	}
	record := make([]byte, 128)
	copy(record, "SAUCE00")
	copy(record[7:], "Big art for a pacing test")
	record[94], record[95] = 1, 1 // character, ANSI
	binary.LittleEndian.PutUint16(record[96:], 80)
	art = append(art, 0x1A)
	return append(art, record...)
}

// TestBigArtDoesNotDelayOthers: one telnet caller asks for a 100 KB ANSI
// screen again and again without reading it, while a second telnet caller
// talks to the board: the second caller's round trips stay quick. Then
// the first caller reads what was sent, art rows broken at 80 columns,
// and the classic client gets the same screen without escape codes.
func TestBigArtDoesNotDelayOthers(t *testing.T) {
	dir := t.TempDir()
	scripts, screensDir := filepath.Join(dir, "scripts"), filepath.Join(dir, "screens")
	for _, d := range []string{scripts, screensDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := `require 'ui'
function m2bbs(conn, req)
    req = ui.ask(conn, req, 'art or echo?')
    if req.data.msg == 'art' then
        while true do req = ui.prompt(conn, req, 'big') end
    end
    while true do req = ui.ask(conn, req, 'you said ' .. req.data.msg) end
end
`
	if err := os.WriteFile(filepath.Join(scripts, "bbs.lua"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(screensDir, "big.ans"), bigArt(100<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	port, err := mongrel2.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	telnetPort, err := mongrel2.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	logs := startM2BBS(t, "run", "-port", fmt.Sprint(port), "-telnet-port", fmt.Sprint(telnetPort), "-web-port", "-1",
		"-data", dir, "-db", filepath.Join(dir, "bbs.db"), "-scripts", scripts, "-screens", screensDir,
		"-rate", "1000", "-burst", "1000") // the talker types faster than a person
	logs.WaitFor(t, 30*time.Second, "m2bbs is ready")

	// The art caller asks for the screen several times and reads nothing.
	const screens = 5
	art := dialSlowTelnet(t, telnetPort)
	art.readUntil("art or echo?", 20*time.Second)
	art.line("art")
	for range screens - 1 {
		art.line("again")
	}

	talker := dialTelnet(t, telnetPort)
	talker.readUntil("art or echo?", 20*time.Second)
	talker.line("echo")
	talker.readUntil("you said echo", 10*time.Second)
	var trips []time.Duration
	for i := range 40 {
		start := time.Now()
		talker.line(fmt.Sprint("line", i))
		talker.readUntil(fmt.Sprint("you said line", i), 10*time.Second)
		trips = append(trips, time.Since(start))
	}
	slices.Sort(trips)
	median, p90 := trips[len(trips)/2], trips[len(trips)*9/10]
	t.Logf("talker's round trips while %d screens of 100 KB wait for the art caller: median %v, 90th percentile %v, slowest %v", screens, median, p90, trips[len(trips)-1])
	if p90 > time.Second {
		t.Errorf("the talker's round trips were slowed by the art: 90th percentile %v", p90)
	}

	// Now the art caller reads: every screen arrives whole.
	for i := range screens {
		screen := art.readUntil("\x1b[0m\r\n> ", 30*time.Second)
		if i == 0 {
			t.Logf("one art screen is %d bytes on the telnet caller's line", len(screen))
		}
		checkArt(t, fmt.Sprint("art screen ", i+1), screen, "░▒▓█")
		if !strings.Contains(screen, "row00000") || !strings.Contains(screen, "row00380") {
			t.Errorf("art screen %d is missing rows", i+1)
		}
		// Rows were broken at the SAUCE width: 80 cells, the next row's
		// colour, a line break, its first cell.
		if n := strings.Count(screen, "m\r\n░"); n < 1000 {
			t.Errorf("art screen %d: %d rows broken at 80 cells, want more than 1,000", i+1, n)
		}
	}

	cc, err := classic.Dial(t.Context(), fmt.Sprintf("127.0.0.1:%d", port), "@bbs", false)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if err := cc.Connect(); err != nil {
		t.Fatal(err)
	}
	if _, err := cc.Next(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := cc.Send("art"); err != nil {
		t.Fatal(err)
	}
	m, err := cc.Next(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.Msg, "\x1b") || !strings.Contains(m.Msg, "░▒▓█") || !strings.Contains(m.Msg, "row00380") {
		t.Errorf("classic client: want the art without escape codes, got %q...", m.Msg[:min(len(m.Msg), 300)])
	}
	if rows := strings.Split(m.Msg, "\n"); len(rows) < 100 || len([]rune(rows[0])) != 80 {
		t.Errorf("classic client: %d rows, the first of %d cells; want rows of 80", len(rows), len([]rune(rows[0])))
	}
}
