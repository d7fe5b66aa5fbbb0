package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/cmd/internal/proctest"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/gateway/rlogin"
	"github.com/m2bbs/m2bbs/host/shared/keylogin"
)

// e2eRLoginSecret is board alpha's shared secret in the RLogin tests,
// given to m2bbs in the environment (secret = 'env:...').
const e2eRLoginSecret = "alpha-s3cret-for-the-e2e-test"

// e2eRLoginBoards is the rlogin_boards of the RLogin tests: alpha by secret,
// straight into Guess the Number; beta by address, to the Doors menu;
// gamma from an address the tests never call from.
const e2eRLoginBoards = `rlogin_boards = {
    {name = 'alpha', secret = 'env:M2BBS_E2E_ALPHA_SECRET', door = 'guess'},
    {name = 'beta', allow = '127.0.0.1', door = 'doors'},
    {name = 'gamma', allow = '192.0.2.1', door = 'guess'},
}
`

// rloginBBS is "m2bbs run" serving doors over RLogin.
type rloginBBS struct {
	logs       *proctest.Log
	rloginAddr string
	boardAddr  string // the board's own port (classic callers, /status)
	scriptsDir string
}

// startRLoginBBS starts "m2bbs run" with -rlogin-port on a free port, the
// settings file saying e2eRLoginBoards, and scripts copied into a folder of
// its own (the upgrade test edits them).
func startRLoginBBS(t *testing.T, extra ...string) *rloginBBS {
	t.Helper()
	t.Setenv("M2BBS_E2E_ALPHA_SECRET", e2eRLoginSecret)
	dir := t.TempDir()
	scripts := filepath.Join(dir, "scripts")
	copyDir(t, "../../scripts", scripts)
	config := filepath.Join(dir, "config.lua")
	if err := os.WriteFile(config, []byte(e2eRLoginBoards), 0o644); err != nil {
		t.Fatal(err)
	}
	port, err1 := mongrel2.FreePort()
	rport, err2 := mongrel2.FreePort()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	args := append([]string{"run", "-config", config, "-port", strconv.Itoa(port), "-rlogin-port", strconv.Itoa(rport),
		"-telnet-port", "-1", "-web-port", "-1", "-data", dir, "-db", filepath.Join(dir, "bbs.db"),
		"-scripts", scripts, "-screens", "../../screens", "-bcrypt-cost", "4"}, extra...)
	logs := startM2BBS(t, args...)
	ready := logs.WaitFor(t, 30*time.Second, "m2bbs is ready")
	b := &rloginBBS{logs: logs, rloginAddr: "127.0.0.1:" + strconv.Itoa(rport), boardAddr: "127.0.0.1:" + strconv.Itoa(port), scriptsDir: scripts}
	if !strings.Contains(ready, "rlogin (door server): "+b.rloginAddr) {
		t.Errorf("the ready line does not name the RLogin port:\n%s", ready)
	}
	return b
}

// call dials the RLogin port as a remote board would for its caller.
func (b *rloginBBS) call(t *testing.T, secret, user string) *telnetTerminal {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), readTimeout)
	defer cancel()
	nc, err := rlogin.Dial(ctx, b.rloginAddr, rlogin.Handshake{ClientUser: secret, ServerUser: user, Terminal: "xterm", Speed: 38400})
	if err != nil {
		t.Fatalf("%s: %v", user, err)
	}
	t.Cleanup(func() { nc.Close() })
	return &telnetTerminal{t: t, conn: nc}
}

// refused dials as user with secret and returns the refusal's words.
func (b *rloginBBS) refused(t *testing.T, secret, user string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), readTimeout)
	defer cancel()
	nc, err := rlogin.Dial(ctx, b.rloginAddr, rlogin.Handshake{ClientUser: secret, ServerUser: user, Terminal: "xterm"})
	if err == nil {
		nc.Close()
		t.Fatalf("%s was let in", user)
	}
	var r *rlogin.RefusedError
	if !errors.As(err, &r) {
		t.Fatalf("%s: %v, want a refusal", user, err)
	}
	return r.Message
}

// readUntilAny reads until one of marks comes and returns what came up
// to its end, and which mark it was.
func (c *telnetTerminal) readUntilAny(marks ...string) (string, string) {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(readTimeout))
	chunk := make([]byte, 4096)
	for {
		first, end := "", -1
		for _, m := range marks {
			if i := bytes.Index(c.buf, []byte(m)); i >= 0 && (end < 0 || i+len(m) < end) {
				first, end = m, i+len(m)
			}
		}
		if end >= 0 {
			out := string(c.buf[:end])
			c.buf = c.buf[end:]
			return out, first
		}
		n, err := c.conn.Read(chunk)
		c.buf = append(c.buf, chunk[:n]...)
		if err != nil {
			c.t.Fatalf("waiting for %q: %v; got %q", marks, err, c.buf)
		}
	}
}

// hintRange reads a Guess the Number hint's range ("Higher! (51-100").
var hintRange = regexp.MustCompile(`(?:Higher|Lower)! \((\d+)-(\d+)`)

// guessUntilWon plays Guess the Number by halving from low..high; each
// answer's wait goes to lat. It returns the text of the win.
func guessUntilWon(t *testing.T, c *telnetTerminal, low, high int, lat *[]time.Duration) string {
	t.Helper()
	for range 10 {
		guess := (low + high) / 2
		start := time.Now()
		c.write(strconv.Itoa(guess) + "\r")
		out, mark := c.readUntilAny("Guess? ", "(y/N)")
		if lat != nil {
			*lat = append(*lat, time.Since(start))
		}
		if mark == "(y/N)" {
			if !strings.Contains(out, "Got it in") {
				t.Fatalf("the game ended without a win:\n%s", out)
			}
			return out
		}
		m := hintRange.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no hint after guessing %d:\n%s", guess, out)
		}
		nl, _ := strconv.Atoi(m[1])
		nh, _ := strconv.Atoi(m[2])
		if nl < low || nh > high || nl > nh || (guess >= nl && guess <= nh) {
			t.Fatalf("after %d in %d-%d the hint says %d-%d", guess, low, high, nl, nh)
		}
		low, high = nl, nh
	}
	t.Fatal("no win in ten halvings")
	return ""
}

// TestRLoginDoorServer: m2bbs as a door server. Board alpha's caller bob
// (by shared secret) lands straight in Guess the Number, wins, and is
// on the hall of fame as alpha:bob; leaving the door ends the call.
// Board beta's bob (by address) gets the Doors menu and keeps no data of
// alpha:bob's. A wrong secret, an address not allowed, a board not
// listed are refused with words saying so; a classic caller forging the
// gateway's word is not believed; the secret is in no log line.
func TestRLoginDoorServer(t *testing.T) {
	b := startRLoginBBS(t)

	alpha := b.call(t, e2eRLoginSecret, "alpha:bob")
	if out := alpha.readUntil("Guess? "); !strings.Contains(out, "Welcome, bob of alpha.") || !strings.Contains(out, "G U E S S") {
		t.Fatalf("alpha:bob was not taken straight into the door:\n%s", out)
	}
	won := guessUntilWon(t, alpha, 1, 100, nil)
	if !regexp.MustCompile(`1\. alpha:bob +\d`).MatchString(won) || !strings.Contains(won, "Your best:") {
		t.Errorf("the hall of fame does not keep alpha:bob's win:\n%s", won)
	}
	alpha.write("n\r")
	if out := alpha.readUntil("Goodbye!"); !strings.Contains(out, "Back to alpha.") {
		t.Errorf("leaving the door:\n%s", out)
	}
	alpha.readToEOF()
	b.logs.WaitFor(t, readTimeout, "session ended", "user=alpha:bob")

	beta := b.call(t, "", "beta:bob")
	if out := beta.readUntil("Door? "); !strings.Contains(out, "Welcome, bob of beta.") || !strings.Contains(out, "Guess the Number") {
		t.Fatalf("beta:bob did not get the Doors menu:\n%s", out)
	}
	beta.write("1\r")
	beta.readUntil("Guess? ")
	beta.write("Q\r")
	if out := beta.readUntil("(y/N)"); !strings.Contains(out, "alpha:bob") || strings.Contains(out, "Your best:") {
		t.Errorf("beta:bob's hall of fame (alpha:bob's win, none of beta:bob's own):\n%s", out)
	}
	beta.write("n\r")
	beta.readUntil("Door? ")
	beta.write("Q\r")
	beta.readUntil("Back to beta. Goodbye!")

	for user, secret := range map[string]string{"alpha:eve": "wrong", "gamma:eve": "", "delta:eve": e2eRLoginSecret} {
		words := b.refused(t, secret, user)
		board, _, _ := strings.Cut(user, ":")
		if !strings.Contains(words, `"`+board+`"`) {
			t.Errorf("%s was refused with %q, which does not name the board", user, words)
		}
	}

	forged := keylogin.Sign(keylogin.NewKey(), "alpha:mallory", time.Now())
	if text := classicConnectWith(t, b.boardAddr, keylogin.RemoteCallerWire.AppendJSONMembers(nil, forged)); !strings.Contains(text, "name") || strings.Contains(text, "mallory") {
		t.Errorf("a classic caller forging a remote caller got:\n%s", text)
	}
	b.logs.WaitFor(t, readTimeout, "remote caller refused", "name=alpha:mallory")
	if strings.Contains(b.logs.String(), e2eRLoginSecret) {
		t.Error("the shared secret is in the log")
	}
}

// readToEOF reads until the gateway hangs up.
func (c *telnetTerminal) readToEOF() {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(readTimeout))
	buf := make([]byte, 4096)
	for {
		if _, err := c.conn.Read(buf); err != nil {
			if strings.Contains(err.Error(), "timeout") {
				c.t.Fatal("the call did not end")
			}
			return
		}
	}
}

// TestRLoginCallerSurvivesAnUpgrade: a remote board's caller mid-game
// when the sysop edits the scripts and runs "m2bbs upgrade" goes on with
// the same number, and the game is counted once; behind the built-in
// front end and behind real Mongrel2 (the gateway dialling its port).
func TestRLoginCallerSurvivesAnUpgrade(t *testing.T) {
	for _, behindMongrel2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("mongrel2=%v", behindMongrel2), func(t *testing.T) {
			var extra []string
			if behindMongrel2 {
				extra = append(extra, "-mongrel2")
			}
			rloginCallerSurvivesAnUpgrade(t, startRLoginBBS(t, extra...))
		})
	}
}

func rloginCallerSurvivesAnUpgrade(t *testing.T, b *rloginBBS) {
	c := b.call(t, e2eRLoginSecret, "alpha:dot")
	c.readUntil("Guess? ")
	c.write("50\r")
	out, mark := c.readUntilAny("Guess? ", "(y/N)")
	if mark == "(y/N)" {
		t.Skip("50 was the number: nothing left to play after the upgrade")
	}
	m := hintRange.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no hint:\n%s", out)
	}
	path := filepath.Join(b.scriptsDir, "bbs.lua")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(src, []byte("\n-- edited while alpha:dot plays\n")...), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "upgrade", "-addr", "http://"+b.boardAddr)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	if up, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(up), "1 callers moved, 0 lost") && !strings.Contains(string(up), "1 caller moved, 0 lost") {
		t.Fatalf("m2bbs upgrade: %v\n%s\n%s", err, up, b.logs)
	}
	low, _ := strconv.Atoi(m[1])
	high, _ := strconv.Atoi(m[2])
	won := guessUntilWon(t, c, low, high, nil)
	if !strings.Contains(won, "Games played on this board: 1.") {
		t.Errorf("the game was lost or counted twice:\n%s", won)
	}
	b.logs.WaitFor(t, readTimeout, "session replayed from its journal")
}

// TestRLoginHostileCallersDoNotSlowAPlayer: while other connections hold
// half handshakes, send junk and guess secrets as fast as they may, a
// remote caller playing a door gets every answer within a second, and no
// guess is let in.
func TestRLoginHostileCallersDoNotSlowAPlayer(t *testing.T) {
	b := startRLoginBBS(t)
	player := b.call(t, e2eRLoginSecret, "alpha:pat")
	player.readUntil("Guess? ")

	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted, tries, wrong := 0, 0, 0
	held := make(chan struct{}, 8)
	for i := range cap(held) { // half handshakes, held open
		wg.Go(func() {
			var d net.Dialer
			nc, err := d.DialContext(ctx, "tcp", b.rloginAddr)
			if err == nil {
				_, _ = nc.Write([]byte(fmt.Sprintf("\x00guess%d\x00alp", i)))
			}
			held <- struct{}{}
			if err == nil {
				<-ctx.Done()
				nc.Close()
			}
		})
	}
	for range cap(held) {
		<-held
	}
	attacking := make(chan struct{})
	var once sync.Once
	for range 2 { // secret guessers, as fast as they are answered
		wg.Go(func() {
			for n := 0; ctx.Err() == nil; n++ {
				dctx, dcancel := context.WithTimeout(ctx, time.Second)
				nc, err := rlogin.Dial(dctx, b.rloginAddr, rlogin.Handshake{ClientUser: fmt.Sprint("guess-", n), ServerUser: "alpha:mallory", Terminal: "ansi"})
				dcancel()
				var r *rlogin.RefusedError
				mu.Lock()
				tries++
				if err == nil {
					admitted++
					nc.Close()
				} else if errors.As(err, &r) && strings.Contains(r.Message, "is refused") {
					wrong++
				}
				if tries == 50 {
					once.Do(func() { close(attacking) })
				}
				mu.Unlock()
			}
		})
	}
	<-attacking
	var lat []time.Duration
	guessUntilWon(t, player, 1, 100, &lat)
	cancel()
	wg.Wait()
	for i, d := range lat {
		if d > time.Second {
			t.Errorf("answer %d took %v under attack, want under 1s (all: %v)", i+1, d, lat)
		}
	}
	if admitted > 0 {
		t.Errorf("%d of %d wrong secrets were let in", admitted, tries)
	}
	if wrong == 0 {
		t.Error("no wrong secret was ever answered as one")
	}
	t.Logf("the player's answers under attack: %v; %d calls of guessers, %d of them wrong secrets, the rest refused as too fast", lat, tries, wrong)
}

// TestRealRLoginClientPlaysADoor: Debian's rlogin (rsh-redone-client),
// driven by expect, calls as board beta's bob (let in by address: the
// program sends the local user as the client user, no secret) and is
// taken to the Doors menu, plays a round of Guess the Number and leaves.
func TestRealRLoginClientPlaysADoor(t *testing.T) {
	rloginProg, err1 := exec.LookPath("rlogin")
	expectProg, err2 := exec.LookPath("expect")
	if err1 != nil || err2 != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("rlogin or expect missing (make deps installs them): %v %v", err1, err2)
		}
		t.Skip("rlogin or expect missing (make deps installs them)")
	}
	b := startRLoginBBS(t)
	_, port, _ := net.SplitHostPort(b.rloginAddr)
	screen := expectDialogue(t, expectProg, []string{rloginProg, "-l", "beta:bob", "-p", port, "127.0.0.1"}, [][2]string{
		{"Door? ", "1"}, {"Guess? ", "fifty"}, {"Guess? ", "Q"}, {"(y/N)", "n"}, {"Door? ", "Q"}, {"Back to beta. Goodbye!", ""},
	})
	if !strings.Contains(screen, "Welcome, bob of beta.") || !strings.Contains(screen, "Guess? fifty\nA whole number from 1 to 100") {
		t.Errorf("the rlogin caller did not play:\n%s", screen)
	}
	b.logs.WaitFor(t, readTimeout, "session ended", "user=beta:bob")
}

// expectDialogue runs program (with its arguments) under expect, as a
// person would: for each step it waits for the text step[0], then types
// step[1] and Enter (nothing for ""), and at the end waits for the
// program to exit. It returns the screen, CRs dropped; a step not met
// within 10 seconds fails the test with the screen so far.
func expectDialogue(t *testing.T, expectProg string, program []string, steps [][2]string) string {
	t.Helper()
	var script strings.Builder
	script.WriteString("set timeout 10\nspawn -noecho")
	for _, arg := range program {
		fmt.Fprintf(&script, " {%s}", arg)
	}
	script.WriteString("\n")
	for i, step := range steps {
		fmt.Fprintf(&script, "expect {\n timeout { puts \"\\nSTEP %d TIMED OUT\"; exit %d }\n eof { puts \"\\nSTEP %d: EOF\"; exit %d }\n -ex {%s}\n}\n",
			i+1, i+2, i+1, i+2, step[0])
		if step[1] != "" {
			fmt.Fprintf(&script, "send {%s}\nsend \"\\r\"\n", step[1])
		}
	}
	script.WriteString("expect { timeout { puts \"\\nNO HANG-UP\"; exit 1 } eof }\n")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, expectProg, "-c", script.String())
	cmd.Env = append(os.Environ(), "TERM=xterm")
	out, err := cmd.CombinedOutput()
	screen := strings.ReplaceAll(string(out), "\r", "")
	if err != nil {
		t.Fatalf("%s under expect: %v; the screen:\n%s", program[0], err, screen)
	}
	return screen
}
