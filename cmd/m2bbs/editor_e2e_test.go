package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/handler/lines"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/freeport"
	"github.com/m2bbs/m2bbs/host/shared/termprofile"
)

// editorExpect is what the editor tests' expect scripts start with:
// their window, expectPrelude, and posted_and_gone (the post is saved,
// the caller leaves).
const editorExpect = `
set timeout 10
set stty_init "rows 30 cols 90"
` + expectPrelude + `
proc posted_and_gone {} {
	step 23 "Posted."
	step 24 "Q)uit] "
	send "Q\r"
	step 25 "Q)uit] "
	send "Q\r"
	step 26 "Quit the BBS."
	step 27 "> "
	send "Q\r"
	step 28 "see ya later"
	expect eof
}
`

// runExpect runs an editor test's expect script (a minute at most) and
// returns the screen it saw, without CRs.
func runExpect(t *testing.T, script string) string {
	t.Helper()
	expectProg := needProgram(t, "expect")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	screen, err := expectRun(t, ctx, expectProg, editorExpect+script)
	if err != nil {
		t.Fatalf("expect: %v; the screen:\n%s", err, screen)
	}
	return screen
}

// needProgram returns the path of prog, skipping the test without it
// (failing in CI).
func needProgram(t *testing.T, prog string) string {
	t.Helper()
	path, err := exec.LookPath(prog)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing (make deps installs it): %v", prog, err)
		}
		t.Skip(prog + " missing (make deps installs it)")
	}
	return path
}

// TestEditorPostsAndQuotes: the full-screen editor writes a post over
// SSH (OpenSSH, driven by expect), a reply over telnet that quotes it
// with Ctrl-Q and moves about the text with the arrow keys, and a reply
// to the reply over SSH quoting that; a third caller, on the classic
// client, reads the replies as a reader sees them.
func TestEditorPostsAndQuotes(t *testing.T) {
	sshProg := needProgram(t, "ssh")
	telnetProg := needProgram(t, "telnet")
	sshPort, err := freeport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	_, port, telnetPort, _ := startTelnetBBS(t, "-ssh-port", fmt.Sprint(sshPort))

	ssh := fmt.Sprintf("%s -p %d -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o PubkeyAuthentication=no -o LogLevel=ERROR",
		sshProg, sshPort)
	// tess, by SSH: a new post in the first area, in the editor.
	screen := runExpect(t, fmt.Sprintf(`
spawn -noecho %s new@127.0.0.1
register tess hunter22
send "B\r"
step 12 "Q)uit] "
send "1\r"
step 13 "Q)uit] "
send "W\r"
step 14 "Subject of your post?"
step 15 "> "
send "Editors\r"
step 16 "^Z Save"
send "Full-screen editing\rover SSH works"
step 17 "2:15"
send "\032"
posted_and_gone
`, ssh))
	if !strings.Contains(screen, " Editors") {
		t.Errorf("the editor's title line did not show the subject:\n%s", screen)
	}

	// bob, by telnet: reads it and replies, quoting it; the arrow keys
	// take him above the quote to type a greeting there.
	screen = runExpect(t, fmt.Sprintf(`
spawn -noecho %s 127.0.0.1 %d
register bob bobspass
send "B\r"
step 12 "Q)uit] "
send "1\r"
step 13 "Q)uit] "
send "1\r"
step 14 "over SSH works"
step 15 "Enter] "
send "R\r"
step 16 "Subject of your reply?"
step 17 "> "
send "\r"
step 18 "^Z Save"
send "\021"
step 19 "3:1"
send "Agreed, by telnet."
step 20 "3:19"
send "\033\[A\033\[A\033\[A\033\[H"
step 21 "1:1"
send "Hi tess!\r"
step 22 "2:1"
send "\032"
posted_and_gone
`, telnetProg, telnetPort))
	if !strings.Contains(screen, "> Full-screen editing") {
		t.Errorf("the quote did not show in bob's editor:\n%s", screen)
	}

	// tess, by SSH again (her password as the SSH login), replies to
	// bob's reply, quoting it: a quote of a quote.
	screen = runExpect(t, fmt.Sprintf(`
spawn -noecho %s tess@127.0.0.1
step 2 "assword:"
send "hunter22\r"
step 3 "(Y/n)"
step 4 "> "
send "y\r"
step 10 "Quit the BBS."
step 11 "> "
send "B\r"
step 12 "Q)uit] "
send "1\r"
step 13 "Q)uit] "
send "1\r"
step 14 "Agreed, by telnet."
step 15 "Enter] "
send "R\r"
step 16 "Subject of your reply?"
step 17 "> "
send "\r"
step 18 "^Z Save"
send "\021"
step 19 "5:1"
send "Thanks, bob."
step 20 "5:13"
send "\032"
posted_and_gone
`, ssh))
	if !strings.Contains(screen, "> > Full-screen editing") {
		t.Errorf("the quote did not show in tess's editor:\n%s", screen)
	}

	// carol, on the classic client, reads the area: the replies first.
	cc, err := classic.Dial(t.Context(), fmt.Sprintf("127.0.0.1:%d", port), "@bbs", false)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	if err := cc.Connect(); err != nil {
		t.Fatal(err)
	}
	transcript, err := cc.Run([]string{"carol", "carolspass", "carolspass", "y", "B", "1", "2", "", "1", "", "Q", "Q", "Q"}, 20*time.Second)
	if err != nil {
		t.Fatalf("classic reader: %v\n%s", err, transcript)
	}
	for _, want := range []string{
		"From: bob", "Subject: Re: Editors",
		"Hi tess!\n> Full-screen editing\n> over SSH works\nAgreed, by telnet.",
		"From: tess", "> Hi tess!\n> > Full-screen editing\n> > over SSH works\n> Agreed, by telnet.\nThanks, bob.",
	} {
		if !strings.Contains(transcript, want) {
			t.Errorf("the reader did not see %q:\n%s", want, transcript)
		}
	}
}

// typeKeys sends keys from a caller in keystroke mode and returns the
// output of the board's answer (a keys message).
func typeKeys(t *testing.T, c *classic.Client, keys string) string {
	t.Helper()
	if err := c.SendKeys(keys); err != nil {
		t.Fatal(err)
	}
	m, err := c.Next(readTimeout)
	if err != nil || m.Type != message.TypeKeys {
		t.Fatalf("after keys %q: %v, a %s message %q", keys, err, m.Type, m.Msg)
	}
	return m.Msg
}

// TestEditorSurvivesAHostKilledAndRestarted: behind real Mongrel2, the
// host is killed with SIGKILL while a caller is in the full-screen
// editor; started again, it replays the caller's keys from the journal,
// and the caller types on: the message posted holds what they typed
// before and after.
func TestEditorSurvivesAHostKilledAndRestarted(t *testing.T) {
	server := startLinesMongrel2(t, 1)
	db := filepath.Join(t.TempDir(), "bbs.db")
	line := startLine(t, server, db, 1)
	ctx, cancel := context.WithTimeout(t.Context(), readTimeout)
	defer cancel()
	c, err := classic.Dial(ctx, server.Addr(), lines.Route(1), false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Terminal = func() termprofile.Profile { return termprofile.Profile{Width: 80, Height: 24, Keys: true} }
	if err := c.Connect(); err != nil {
		t.Fatal(err)
	}
	arrive(t, c, "ann", "pw", "pw", "y")
	if err := c.Send("1"); err != nil {
		t.Fatal(err)
	}
	if m, err := c.Next(readTimeout); err != nil || m.Type != message.TypeKeys || !strings.Contains(m.Msg, "^Z Save") {
		t.Fatalf("the editor did not open: %v %s %q", err, m.Type, m.Msg)
	}
	typeKeys(t, c, "line one\r")
	typeKeys(t, c, "line two")
	line.kill9(t)
	line = startLine(t, server, db, 1)
	if out := typeKeys(t, c, "\rline three"); !strings.Contains(out, "line three") || !strings.Contains(out, "3:11") {
		t.Errorf("after the restart the editor showed %q", out)
	}
	if err := c.SendKeys("\x1a"); err != nil {
		t.Fatal(err)
	}
	out := arrive(t, c, "2")
	if strings.Count(out, "Message posted") != 1 || !strings.Contains(out, "line one\nline two\nline three") {
		t.Errorf("ann's message after the restart:\n%s", out)
	}
	line.logs.WaitFor(t, readTimeout, "session replayed from its journal")
}
