package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
)

// The chat rooms (scripts/chat.lua) end to end, through the gateways
// callers use: a telnet caller, an SSH caller and a browser caller meet
// in the lobby of "m2bbs run" and see each other's lines as they are
// said, while typing lines of their own.

// chatter is a caller in a chat test, whatever their gateway.
type chatter interface {
	// keys types s ("\r" is Enter).
	keys(s string)
	// expect waits until the caller's terminal shows mark and returns
	// what it was sent up to it (for a browser: the whole screen).
	expect(mark string) string
}

// telnetChatter and sshChatter are the Go terminals of the telnet and
// SSH tests as chatters.
type telnetChatter struct{ *telnetTerminal }

func (c telnetChatter) keys(s string)             { c.write(s) }
func (c telnetChatter) expect(mark string) string { return c.readUntil(mark) }

type sshChatter struct{ *sshTerminal }

func (c sshChatter) keys(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.in, s); err != nil {
		c.t.Fatal(err)
	}
}

// browserChatter is the m2bbs page in headless Chromium, driven by
// host/gateway/web/e2e/chat.mjs one command at a time.
type browserChatter struct {
	t   *testing.T
	in  io.Writer
	out *bufio.Scanner
}

// chatReply is what chat.mjs answers to each command.
type chatReply struct {
	OK     bool   `json:"ok"`
	Error  string `json:"error"`
	Screen string `json:"screen"`
}

// openChatPage opens page in a browser of its own, until CONNECT.
func openChatPage(t *testing.T, page string) *browserChatter {
	t.Helper()
	webDir := needBrowser(t)
	ctx, cancel := context.WithTimeout(context.Background(), browserTimeout)
	cmd := exec.CommandContext(ctx, "node", filepath.Join(webDir, "e2e", "chat.mjs"), page)
	cmd.Dir = webDir
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close() // chat.mjs closes the browser and ends
		_ = cmd.Wait()
		cancel()
	})
	b := &browserChatter{t: t, in: in, out: bufio.NewScanner(out)}
	b.out.Buffer(make([]byte, 1<<20), 1<<20)
	b.reply("the page's CONNECT")
	return b
}

func (b *browserChatter) reply(what string) string {
	b.t.Helper()
	if !b.out.Scan() {
		b.t.Fatalf("the browser ended waiting for %s: %v", what, b.out.Err())
	}
	var r chatReply
	if err := json.Unmarshal(b.out.Bytes(), &r); err != nil {
		b.t.Fatalf("the browser said %q: %v", b.out.Text(), err)
	}
	if !r.OK {
		b.t.Fatalf("the browser, for %s: %s; its screen:\n%s", what, r.Error, r.Screen)
	}
	return r.Screen
}

func (b *browserChatter) command(op, text string) string {
	b.t.Helper()
	js, _ := json.Marshal(map[string]string{"op": op, "text": text})
	if _, err := b.in.Write(append(js, '\n')); err != nil {
		b.t.Fatal(err)
	}
	return b.reply(op + " " + fmt.Sprintf("%q", text))
}

func (b *browserChatter) keys(s string)             { b.command("type", s) }
func (b *browserChatter) expect(mark string) string { return b.command("wait", mark) }

// registerAndChat registers name at the shipped board's prompts and goes
// to the chat rooms from the main menu.
func registerAndChat(t *testing.T, c chatter, name string) {
	t.Helper()
	for _, step := range []struct{ mark, answer string }{
		{"What's your name?", name}, {"password?", "pw-" + name}, {"register:", "pw-" + name},
		{"(Y/n)", "y"}, {"Quit the BBS.", "C"},
	} {
		c.expect(step.mark)
		c.expect("> ")
		c.keys(step.answer + "\r")
	}
	c.expect("Chat> ")
}

// interrupted: typer (a telnet or SSH terminal) has typed half of a line
// when speaker's line, said, comes: their terminal clears the half line,
// writes said, then the prompt and the half line again; the line they
// finish reaches the speaker and other whole.
func interrupted(t *testing.T, typer chatter, half, rest string, speaker chatter, said string, other chatter) {
	t.Helper()
	typer.keys(half)
	typer.expect(half)
	_, text, _ := strings.Cut(said, ": ")
	speaker.keys(text + "\r")
	if got, want := typer.expect("Chat> "+half), "\r\x1b[K"+said+"\r\nChat> "+half; !strings.HasSuffix(got, want) {
		t.Errorf("a terminal typing %q when %q came: %q, want it to end %q", half, said, got, want)
	}
	typer.keys(rest + "\r")
	speaker.expect(": " + half + rest)
	other.expect(": " + half + rest)
}

// say sends line as c.
func say(t *testing.T, c *classic.Client, line string) {
	t.Helper()
	if err := c.Send(line); err != nil {
		t.Fatal(err)
	}
}

// lastLine is the last line of a browser's screen.
func lastLine(screen string) string {
	return screen[strings.LastIndex(screen, "\n")+1:]
}

// TestChatTelnetSSHAndBrowser: telly on telnet, shelly on SSH and webby
// in a browser chat in the lobby: each sees the others come in and what
// they say as they say it, while typing a line of their own, which is
// kept on their screen and sent whole; /me, a /msg only its target sees,
// /who, the notice when shelly hangs up, and webby's /quit.
func TestChatTelnetSSHAndBrowser(t *testing.T) {
	ports := freePorts(t, 2)
	sshPort, webPort := ports[0], ports[1]
	logs, _, telnetPort, _ := startTelnetBBS(t, "-ssh-port", fmt.Sprint(sshPort), "-web-port", fmt.Sprint(webPort),
		"-rate", "1000", "-burst", "1000")
	logs.WaitFor(t, readTimeout, "ssh listening")
	webby := openChatPage(t, fmt.Sprintf("http://127.0.0.1:%d/", webPort))

	telly := telnetChatter{dialTerminal(t, telnetPort, "xterm-256color", 100, 30)}
	registerAndChat(t, telly, "telly")
	cfg := &ssh.ClientConfig{User: "new", Auth: []ssh.AuthMethod{ssh.Password("")},
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: readTimeout}
	shelly := sshChatter{dialSSHTerminal(t, fmt.Sprintf("127.0.0.1:%d", sshPort), cfg, "xterm-256color", 100, 30)}
	registerAndChat(t, shelly, "shelly")
	telly.expect("* shelly comes in.")
	registerAndChat(t, webby, "webby")
	telly.expect("* webby comes in.")
	shelly.expect("* webby comes in.")

	// A line said reaches the others at their prompts.
	telly.keys("hello from telnet\r")
	shelly.expect("telly: hello from telnet")
	webby.expect("telly: hello from telnet")

	// Each, in turn, has half a line typed when another's line comes: the
	// line is shown above theirs, which stays on their screen and goes
	// out whole.
	webby.keys("half")
	webby.expect("Chat> half")
	shelly.keys("ssh speaks\r")
	screen := webby.expect("shelly: ssh speaks")
	if got := lastLine(screen); got != "Chat> half" {
		t.Errorf("webby's last line, after shelly spoke: %q, want %q; screen:\n%s", got, "Chat> half", screen)
	}
	webby.keys("way\r")
	telly.expect("webby: halfway")
	shelly.expect("webby: halfway")

	interrupted(t, telly, "par", "tial", webby, "webby: web speaks", shelly)
	interrupted(t, shelly, "mid", "dle", telly, "telly: telnet speaks", webby)

	shelly.keys("/me waves\r")
	telly.expect("* shelly waves")
	webby.expect("* shelly waves")

	// A private line: telly sees it, shelly does not.
	webby.keys("/msg telly psst, telly\r")
	webby.expect("(to telly) psst, telly")
	telly.expect("*webby* psst, telly")
	telly.keys("after the secret\r")
	if got := shelly.expect("telly: after the secret"); strings.Contains(got, "psst") {
		t.Errorf("shelly saw webby's private line to telly: %q", got)
	}
	webby.expect("telly: after the secret")

	telly.keys("/who\r")
	telly.expect("In lobby: shelly, telly, webby")

	// shelly hangs up in the room (Ctrl-D on an empty line).
	shelly.keys("\x04")
	telly.expect("* shelly hangs up.")
	webby.expect("* shelly hangs up.")
	webby.keys("/who\r") // telly's last list was less than a second ago
	webby.expect("In lobby: telly, webby")

	webby.keys("/quit\r")
	telly.expect("* webby leaves.")
	webby.expect("Quit the BBS.")
}

// TestChatHostileCommandsDoNotDelayOthers: mal, in the lobby with kim
// and lee, sends the room's commands as fast as the connection takes
// them (joins of ever new rooms, /rooms, /who, private lines, lines too
// long, control sequences); lee's own /help still comes back, and kim's
// line still reaches him, within floodBound each time, and what lee is
// shown of mal is text.
func TestChatHostileCommandsDoNotDelayOthers(t *testing.T) {
	b := startBBS(t, viaBuiltIn, "", "-workers", "2", "-bcrypt-cost", "4", "-rate", "1000", "-burst", "1000")
	kim := enterRoom(t, b, "kim")
	lee := enterRoom(t, b, "lee")
	waitLine(t, kim, "* lee comes in.", "")
	mal := enterRoom(t, b, "mal")
	waitLine(t, lee, "* mal comes in.", "")
	waitLine(t, kim, "* mal comes in.", "")

	go func() { // what mal is sent, read and dropped
		for {
			if _, err := mal.Next(readTimeout); err != nil {
				return
			}
		}
	}()
	hostile := []string{"/join r%d", "/rooms", "/who", "/msg lee spam %d", "/msg nobody%d x", "/me spams %d",
		strings.Repeat("x", 2000), "\x1b[2J\x1b]0;owned %d\x07", "/join lobby", "/nonsense %d"}
	var sent atomic.Int64
	underWay := make(chan struct{})
	go func() {
		for i := 0; ; i++ {
			sent.Store(int64(i))
			if i == 200 {
				close(underWay)
			}
			line := hostile[i%len(hostile)]
			if strings.Contains(line, "%d") {
				line = fmt.Sprintf(line, i)
			}
			if err := mal.Send(line); err != nil {
				return // hung up on at the end of the test
			}
		}
	}()

	select {
	case <-underWay:
	case <-time.After(readTimeout):
		t.Fatal("mal's flood never got going")
	}
	var worst time.Duration
	for i := range 5 {
		sent := time.Now()
		say(t, lee, "/help") // /who: one a second
		got, _ := waitLineText(t, lee, "Type to talk to the room.")
		worst = max(worst, got.Sub(sent))
		line := fmt.Sprintf("still there %d?", i)
		sent = time.Now()
		if err := kim.Send(line); err != nil {
			t.Fatal(err)
		}
		got, _ = waitLineText(t, lee, "kim: "+line)
		worst = max(worst, got.Sub(sent))
	}
	t.Logf("while mal flooded the room with commands (%d lines sent by the end), lee's /help and kim's lines took at most %v",
		sent.Load(), worst)
	if worst > floodBound {
		t.Errorf("the slowest took %v; the bound is %v", worst, floodBound)
	}
}

// waitLineText reads c's messages until a line that starts with line,
// and checks that nothing c is shown on the way carries an escape or a
// bell.
func waitLineText(t *testing.T, c *classic.Client, line string) (time.Time, int) {
	t.Helper()
	return waitMatch(t, c, line, func(l string) bool { return strings.HasPrefix(l, line) }, "", func(msg string) {
		if strings.ContainsAny(msg, "\x1b\x07") {
			t.Errorf("control sequences reached a caller: %q", msg)
		}
	})
}

// TestChatSurvivesAHostKilledAndRestarted: behind real Mongrel2, kim and
// lee are in the lobby when the host is killed with SIGKILL and started
// again: once each has typed a line their sessions are rebuilt in the
// room (from the main menu's C) and listening, seated again (a /who
// before lee's rebuild leaves him out), /who lists both, kim's
// lines reach lee, and
// when lee then hangs up kim hears it from the restarted host (the
// farewell was set again by the replay).
func TestChatSurvivesAHostKilledAndRestarted(t *testing.T) {
	server := startLinesMongrel2(t, 1)
	db := filepath.Join(t.TempDir(), "bbs.db")
	line := startLine(t, server, db, 1)
	kim, _ := callIn(t, server, "kim", "pw", "pw", "y", "C")
	lee, _ := callIn(t, server, "lee", "pw", "pw", "y", "C")
	waitLine(t, kim, "* lee comes in.", "")
	if err := kim.Send("before"); err != nil {
		t.Fatal(err)
	}
	waitLine(t, lee, "kim: before", "")
	waitPrompt(t, kim, "Chat> ")

	line.kill9(t)
	line = startLine(t, server, db, 1)
	// A session is rebuilt when its caller's next line comes (sessions.md):
	// until then the restarted host neither counts the caller online nor
	// has them listening. Both speak once.
	say(t, kim, "after")
	waitPrompt(t, kim, "Chat> ")
	// lee, not rebuilt yet, is offline: his seat is taken for one left
	// behind (and deleted); his next line rebuilds him, seat and all.
	say(t, kim, "/who")
	waitLine(t, kim, "In lobby: kim", "")
	say(t, lee, "/who")
	waitLine(t, lee, "In lobby: kim, lee", "")
	say(t, kim, "again")
	waitLine(t, lee, "kim: again", "")
	lee.Close()
	waitLine(t, kim, "* lee hangs up.", "")
	line.logs.WaitFor(t, readTimeout, "session replayed from its journal")
}

// TestChatSurvivesADrain: kim and lee are in the lobby on line 1 when the
// sysop drains it onto line 2; line 2's host rebuilds them in the room
// at once, listening: kim's next line reaches lee, /who lists both, and
// nobody is told that anyone hung up (they did not).
func TestChatSurvivesADrain(t *testing.T) {
	addr, logs := startTwoLines(t)
	b := &bbs{addr: addr, logs: logs}
	kim := b.call(t) // @bbs is line 1
	arrive(t, kim, "kim", "pw", "pw", "y", "C")
	lee := b.call(t)
	arrive(t, lee, "lee", "pw", "pw", "y", "C")
	waitLine(t, kim, "* lee comes in.", "")

	cmd := exec.Command(os.Args[0], "drain", "-addr", "http://"+addr, "-line", "1", "-to", "2")
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "2 callers moved") {
		t.Fatalf("m2bbs drain: %v\n%s", err, out)
	}
	noHangUp := func(msg string) {
		if strings.Contains(msg, "hangs up") {
			t.Errorf("a caller moved by the drain was announced as gone: %q", msg)
		}
	}
	say(t, kim, "on line 2 now")
	waitMatch(t, lee, "kim: on line 2 now", func(l string) bool { return l == "kim: on line 2 now" }, "", noHangUp)
	say(t, kim, "/who")
	waitMatch(t, kim, "In lobby: kim, lee", func(l string) bool { return l == "In lobby: kim, lee" }, "", noHangUp)
}
