package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/cmd/internal/proctest"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/gateway/rlogin"
)

// TestDoorServerAcrossTwoBoards: board A lists board B as a door server
// (door_servers, B's -rlogin-port, B's secret for A); a telnet caller of
// A picks it on A's Doors menu, plays B's Guess the Number through A and
// wins, and is back on A's Doors menu when B hangs up; B keeps the score
// under alpha:ann. A door server entry with a wrong secret is refused,
// and the caller told so on A.
func TestDoorServerAcrossTwoBoards(t *testing.T) {
	b := startRLoginBBS(t)

	a := startDoorServerClient(t, fmt.Sprintf(`door_servers = {
    {name = 'beta', title = "Beta's doors", address = %q, secret = 'env:M2BBS_E2E_ALPHA_SECRET', server_user = 'alpha:{user}'},
    {name = 'nope', title = 'Nope', address = %q, secret = 'not-the-secret', server_user = 'alpha:{user}'},
}
`, b.rloginAddr, b.rloginAddr))
	ann := a.register(t, "ann")
	ann.write("D\r")
	menu := ann.readUntil("Door? ")
	m := regexp.MustCompile(`(\d+)\. Beta's doors`).FindStringSubmatch(menu)
	n := regexp.MustCompile(`(\d+)\. Nope`).FindStringSubmatch(menu)
	if m == nil || n == nil {
		t.Fatalf("A's Doors menu does not list the door servers:\n%s", menu)
	}
	ann.write(m[1] + "\r")
	if out := ann.readUntil("Guess? "); !strings.Contains(out, "Welcome, ann of alpha.") {
		t.Fatalf("ann did not reach B's door:\n%s", out)
	}
	won := guessUntilWon(t, ann, 1, 100, nil)
	if !regexp.MustCompile(`alpha:ann +\d`).MatchString(won) {
		t.Errorf("B's hall of fame, seen through A:\n%s", won)
	}
	ann.write("n\r")
	if out := ann.readUntil("Door? "); !strings.Contains(out, "Back to alpha. Goodbye!") {
		t.Errorf("ann's way back to A's Doors menu:\n%s", out)
	}
	ann.write(n[1] + "\r")
	if out := ann.readUntil("Door? "); !strings.Contains(out, "Nope:") || !strings.Contains(out, `"alpha" is refused`) {
		t.Errorf("the door server with a wrong secret:\n%s", out)
	}
	ann.write("Q\r")
	ann.readUntil("Quit the BBS.")

	// On B, the score is alpha:ann's.
	zed := b.call(t, e2eRLoginSecret, "alpha:zed")
	zed.readUntil("Guess? ")
	zed.write("Q\r")
	if out := zed.readUntil("(y/N)"); !regexp.MustCompile(`1\. alpha:ann +\d`).MatchString(out) {
		t.Errorf("B's hall of fame does not keep alpha:ann's win:\n%s", out)
	}
	if strings.Contains(a.logs.String(), e2eRLoginSecret) || strings.Contains(b.logs.String(), e2eRLoginSecret) {
		t.Error("the secret is in a log")
	}
}

// TestFloodingDoorServerSlowsNoOne: a door server that pours out output
// as fast as it can, while a caller of A sits on it, does not slow
// another caller's menu on A beyond a second; when the caller hangs up,
// the call to the server ends.
func TestFloodingDoorServerSlowsNoOne(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	hungUp := make(chan struct{})
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		buf := make([]byte, rlogin.MaxHandshake)
		if _, err := nc.Read(buf); err != nil {
			return
		}
		flood := []byte(strings.Repeat("\x1b[31mFLOOD \x1b[0m", 300) + "\r\n")
		_, _ = nc.Write([]byte{0})
		for {
			if _, err := nc.Write(flood); err != nil {
				close(hungUp)
				return
			}
		}
	}()
	a := startDoorServerClient(t, fmt.Sprintf("door_servers = {{name = 'flood', title = 'Flood', address = %q}}\n", ln.Addr().String()))
	eve, bob := a.register(t, "eve"), a.register(t, "bob")
	eve.write("D\r")
	menu := eve.readUntil("Door? ")
	m := regexp.MustCompile(`(\d+)\. Flood`).FindStringSubmatch(menu)
	if m == nil {
		t.Fatalf("no Flood on the Doors menu:\n%s", menu)
	}
	eve.write(m[1] + "\r")
	eve.readUntil("FLOOD")
	drained := make(chan struct{})
	go func() { // eve reads all she is sent, as a terminal would
		defer close(drained)
		buf := make([]byte, 64<<10)
		for {
			if _, err := eve.conn.Read(buf); err != nil {
				return
			}
		}
	}()
	var worst time.Duration
	for range 20 {
		start := time.Now()
		bob.write("5\r") // who is online, and back to the menu
		bob.readUntil("Quit the BBS.")
		bob.readUntil("> ")
		worst = max(worst, time.Since(start))
	}
	if worst > time.Second {
		t.Errorf("bob's menu took up to %v while eve's door server flooded, want under 1s", worst)
	}
	eve.conn.Close()
	<-drained
	select {
	case <-hungUp:
	case <-time.After(readTimeout):
		t.Error("the call to the door server outlived the caller")
	}
	t.Logf("bob's slowest menu while the door server flooded: %v", worst)
}

// doorServerClient is a board ("m2bbs run" with telnet) whose settings
// list door servers.
type doorServerClient struct {
	logs       *proctest.Log
	telnetPort int
}

// startDoorServerClient starts a board whose config.lua says settings.
func startDoorServerClient(t *testing.T, settings string) *doorServerClient {
	t.Helper()
	dir := t.TempDir()
	config := filepath.Join(dir, "config.lua")
	if err := os.WriteFile(config, []byte(settings), 0o644); err != nil {
		t.Fatal(err)
	}
	port, err1 := mongrel2.FreePort()
	telnetPort, err2 := mongrel2.FreePort()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	logs := startM2BBS(t, "run", "-config", config, "-port", strconv.Itoa(port), "-telnet-port", strconv.Itoa(telnetPort),
		"-web-port", "-1", "-data", dir, "-db", filepath.Join(dir, "bbs.db"),
		"-scripts", "../../scripts", "-screens", "../../screens", "-bcrypt-cost", "4")
	logs.WaitFor(t, 30*time.Second, "m2bbs is ready")
	return &doorServerClient{logs: logs, telnetPort: telnetPort}
}

// register calls the board over telnet as a new user name and returns
// them at the main menu's prompt.
func (a *doorServerClient) register(t *testing.T, name string) *telnetTerminal {
	t.Helper()
	c := dialTerminal(t, a.telnetPort, "ANSI", 80, 25)
	c.readUntil("> ")
	for _, step := range [][2]string{{name, "> "}, {"pw", "> "}, {"pw", "(Y/n)"}, {"y", "Quit the BBS."}} {
		c.write(step[0] + "\r")
		c.readUntil(step[1])
	}
	c.readUntil("> ")
	return c
}

// TestTelnetDoorServer: a door server reached over telnet (another m2bbs's
// telnet port): its option negotiation is answered and kept off the
// caller's screen, the caller logs in at its own prompts, quits it, and
// is back on A's Doors menu.
func TestTelnetDoorServer(t *testing.T) {
	_, _, bTelnet, _ := startTelnetBBS(t)
	a := startDoorServerClient(t, fmt.Sprintf("door_servers = {{name = 'old', title = 'The old board', protocol = 'telnet', address = '127.0.0.1:%d'}}\n", bTelnet))
	cat := a.register(t, "cat")
	cat.write("D\r")
	m := regexp.MustCompile(`(\d+)\. The old board`).FindStringSubmatch(cat.readUntil("Door? "))
	if m == nil {
		t.Fatal("no telnet door server on the Doors menu")
	}
	cat.write(m[1] + "\r")
	if out := cat.readUntil("> "); !strings.Contains(out, "What's your name?") || strings.Contains(out, "\xff") {
		t.Fatalf("B's first prompt through A (no telnet commands wanted):\n%q", out)
	}
	for _, step := range [][2]string{{"dee", "> "}, {"pw", "> "}, {"pw", "(Y/n)"}, {"y", "Quit the BBS."}} {
		cat.write(step[0] + "\r")
		cat.readUntil(step[1])
	}
	cat.readUntil("> ")
	cat.write("Q\r")
	if out := cat.readUntil("Door? "); !strings.Contains(out, "see ya") {
		t.Errorf("leaving B for A's Doors menu:\n%s", out)
	}
}
