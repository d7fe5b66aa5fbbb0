package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/handler/lines"
)

// survivors are the callers of the restart tests, each stopped somewhere
// in the middle of something when the host goes away.
type survivors struct {
	writer, reader, player *classic.Client
	hint                   string // what the door said of the player's guess of 50
}

// callIn connects a new caller to line 1 behind server and plays typed.
func callIn(t *testing.T, server *mongrel2.Server, typed ...string) (*classic.Client, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), readTimeout)
	defer cancel()
	c, err := classic.Dial(ctx, server.Addr(), lines.Route(1), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Connect(); err != nil {
		t.Fatal(err)
	}
	return c, arrive(t, c, typed...)
}

// leave answers the prompt a caller on c is at with the first line and the
// next prompts with the others, the last of which ends the call.
func leave(t *testing.T, c *classic.Client, lines ...string) string {
	t.Helper()
	if err := c.Send(lines[0]); err != nil {
		t.Fatal(err)
	}
	out, err := c.Run(lines[1:], readTimeout)
	if err != nil {
		t.Fatalf("call did not end (%v):\n%s", err, out)
	}
	return out
}

// strand puts three callers mid-task: one writing a message (two lines
// typed), one reading the first of two private messages, one playing Guess
// the Number (one guess made).
func strand(t *testing.T, server *mongrel2.Server) survivors {
	t.Helper()
	var s survivors
	s.reader, _ = callIn(t, server, "bob", "pw", "pw", "y")
	sender, _ := callIn(t, server, "cat", "pw", "pw", "y",
		"3", "bob", "first letter", ".",
		"3", "bob", "second letter", ".")
	if out := leave(t, sender, "Q"); !strings.Contains(out, "see ya") {
		t.Fatalf("cat could not quit:\n%s", out)
	}
	if out := visit(t, s.reader, "4"); !strings.Contains(out, "first letter") || strings.Contains(out, "second letter") {
		t.Fatalf("bob's inbox shows:\n%s", out)
	}
	var out string
	s.writer, out = callIn(t, server, "ann", "pw", "pw", "y", "1", "line one", "line two")
	if !strings.Contains(out, "Type your message") {
		t.Fatalf("ann is not writing:\n%s", out)
	}
	s.player, out = callIn(t, server, "dan", "pw", "pw", "y", "D", "1", "50")
	hint := regexp.MustCompile(`(Higher|Lower)! \(|Got it`).FindStringSubmatch(out)
	if hint == nil {
		t.Fatalf("dan's guess of 50 got no hint:\n%s", out)
	}
	s.hint = strings.ToLower(hint[1])
	if s.hint == "" {
		s.hint = "got it"
	}
	return s
}

// carryOn checks that each stranded caller goes on exactly where they were,
// and that nothing was lost or done twice.
func carryOn(t *testing.T, s survivors) {
	t.Helper()
	out := visit(t, s.writer, "line three", ".", "2")
	if strings.Count(out, "Message posted") != 1 || !strings.Contains(out, "line one\nline two\nline three") {
		t.Errorf("ann's message after the restart:\n%s", out)
	}
	out = visit(t, s.reader, "")
	if !strings.Contains(out, "second letter") || strings.Contains(out, "first letter") {
		t.Errorf("bob's next letter after the restart:\n%s", out)
	}
	if s.hint == "got it" {
		return
	}
	out = visit(t, s.player, "Q")
	m := regexp.MustCompile(`It was (\d+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("dan gave up and heard:\n%s", out)
	}
	secret, _ := strconv.Atoi(m[1])
	if (s.hint == "higher" && secret <= 50) || (s.hint == "lower" && secret >= 50) {
		t.Errorf("the door said %q of 50 before the restart, and the number was %d after it", s.hint, secret)
	}
	if !strings.Contains(out, "Games played on this board: 1.") {
		t.Errorf("the door's play count was lost or doubled:\n%s", out)
	}
}

// TestCallersSurviveAHostKilledAndRestarted: behind real Mongrel2, the host
// is killed with SIGKILL while callers are mid-task and started again; each
// caller goes on where they were.
func TestCallersSurviveAHostKilledAndRestarted(t *testing.T) {
	server := startLinesMongrel2(t, 1)
	db := filepath.Join(t.TempDir(), "bbs.db")
	line := startLine(t, server, db, 1)
	s := strand(t, server)
	line.kill9(t)
	line = startLine(t, server, db, 1)
	carryOn(t, s)
	if out := leave(t, s.writer, "Q", "Q"); !strings.Contains(out, "see ya") {
		t.Errorf("ann could not quit:\n%s", out)
	}
	line.logs.WaitFor(t, readTimeout, "session replayed from its journal")
}

// TestCallersSurviveAScriptEdit: the sysop edits the scripts and restarts
// the host: callers whose part of the script did not change go on where
// they were (replay); the caller whose part changed is told the board was
// upgraded and lands at the main menu, still logged in (divergence).
func TestCallersSurviveAScriptEdit(t *testing.T) {
	server := startLinesMongrel2(t, 1)
	db := filepath.Join(t.TempDir(), "bbs.db")
	scripts := t.TempDir()
	copyDir(t, "../../scripts", scripts)
	line := startLine(t, server, db, 1, "-scripts", scripts, "-main", filepath.Join(scripts, "bbs.lua"))
	s := strand(t, server)
	writer2, _ := callIn(t, server, "eve", "pw", "pw", "y", "1", "draft")

	// The edit: the Guess door now asks for a bet first.
	path := filepath.Join(scripts, "doors", "guess.lua")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), "local secret = door.random(LOW, HIGH)",
		"req = ui.ask(conn, req, 'Your bet?', 'Bet? ')\n    local secret = door.random(LOW, HIGH)", 1)
	if edited == string(src) {
		t.Fatal("guess.lua changed: the test's edit no longer applies")
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	line.kill9(t)
	line = startLine(t, server, db, 1, "-scripts", scripts, "-main", filepath.Join(scripts, "bbs.lua"))

	// Ann and Bob are in parts that did not change.
	out := visit(t, s.writer, "line three", ".", "2")
	if strings.Count(out, "Message posted") != 1 || !strings.Contains(out, "line one\nline two\nline three") {
		t.Errorf("ann's message after the upgrade:\n%s", out)
	}
	if out := visit(t, s.reader, ""); !strings.Contains(out, "second letter") {
		t.Errorf("bob's next letter after the upgrade:\n%s", out)
	}
	// Dan's door changed under him: told, and at the main menu, logged in.
	out = visit(t, s.player, "Q")
	if !strings.Contains(out, "upgraded") || !strings.Contains(out, "MAIN MENU") || strings.Contains(out, "It was") {
		t.Errorf("dan after the upgrade:\n%s", out)
	}
	out = visit(t, s.player, "D", "1", "")
	if !strings.Contains(out, "Your bet?") {
		t.Errorf("dan's door after the upgrade does not run the new code:\n%s", out)
	}
	// Eve, unchanged part, finishes her message: one post each.
	if out := visit(t, writer2, "."); !strings.Contains(out, "Message posted") {
		t.Errorf("eve after the upgrade:\n%s", out)
	}
	board := leave(t, s.writer, "Q", "2", "", "", "Q")
	for _, text := range []string{"line three", "draft"} {
		if n := strings.Count(board, text); n != 1 {
			t.Errorf("%q shows %d times on the board:\n%s", text, n, board)
		}
	}
	line.logs.WaitFor(t, readTimeout, "replay diverged")
}

// TestUpgradeMovesCallersOnline: the sysop edits the scripts and runs
// "m2bbs upgrade": a caller at the main menu gets the new menu item at
// once, a caller writing a message goes on writing it, and nothing is
// sent to either twice.
func TestUpgradeMovesCallersOnline(t *testing.T) {
	dir := t.TempDir()
	scripts := filepath.Join(dir, "scripts")
	copyDir(t, "../../scripts", scripts)
	copyDir(t, "../../screens", filepath.Join(dir, "screens"))
	port, err := mongrel2.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	logs := startM2BBS(t, "run", "-port", strconv.Itoa(port), "-data", dir, "-db", filepath.Join(dir, "bbs.db"),
		"-scripts", scripts, "-screens", filepath.Join(dir, "screens"), "-bcrypt-cost", "4")
	logs.WaitFor(t, 30*time.Second, "host ready")
	b := &bbs{addr: "127.0.0.1:" + strconv.Itoa(port), logs: logs}
	b.awaitRoute(t)

	atMenu := b.call(t)
	arrive(t, atMenu, "gus", "pw", "pw", "y")
	writing := b.call(t)
	arrive(t, writing, "hal", "pw", "pw", "y", "1", "before the upgrade")

	path := filepath.Join(scripts, "bbs.lua")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	quitItem := "        {key = 'Q', label = 'Quit the BBS.'"
	edited := strings.Replace(string(src), quitItem,
		"        {key = '9', label = 'What time is it?', action = function(conn, req) ui.display(conn, req, 'Upgrade time!') end},\n"+quitItem, 1)
	if edited == string(src) {
		t.Fatal("bbs.lua no longer has the MAIN_MENU line this test edits")
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "upgrade", "-addr", "http://"+b.addr)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "2 callers moved, 0 lost") {
		t.Fatalf("m2bbs upgrade: %v\n%s\n%s", err, out, logs)
	}
	if got := visit(t, atMenu, "9"); !strings.Contains(got, "Upgrade time!") {
		t.Errorf("the caller at the menu does not run the new scripts:\n%s", got)
	}
	got := visit(t, writing, "after the upgrade", ".", "2")
	if strings.Count(got, "Message posted") != 1 || !strings.Contains(got, "before the upgrade\nafter the upgrade") {
		t.Errorf("the caller writing a message after the upgrade:\n%s", got)
	}
}

// TestDrainMovesALinesCallers: two lines in one "m2bbs run"; the sysop
// drains line 1 onto line 2 while a caller on line 1 is writing a message
// and another is at the menu; both carry on, now served by line 2's host.
func TestDrainMovesALinesCallers(t *testing.T) {
	port, err := mongrel2.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	logs := startM2BBS(t, "run", "-lines", "2", "-port", strconv.Itoa(port), "-data", t.TempDir(),
		"-db", filepath.Join(t.TempDir(), "bbs.db"), "-scripts", "../../scripts", "-screens", "../../screens",
		"-main", e2eMain(t), "-bcrypt-cost", "4", "-rate", "1000", "-burst", "1000")
	logs.WaitFor(t, 30*time.Second, "m2bbs is ready")
	addr := "127.0.0.1:" + strconv.Itoa(port)
	awaitLines(t, addr, 10*time.Second, "lines 1 and 2 up", upLines(1, 2))
	b := &bbs{addr: addr, logs: logs}
	writer := b.call(t) // @bbs is line 1
	arrive(t, writer, "ivy", "pw", "pw", "y", "1", "written on line 1")
	reader := b.call(t)
	arrive(t, reader, "jon", "pw", "pw", "y")

	cmd := exec.Command(os.Args[0], "drain", "-addr", "http://"+addr, "-line", "1", "-to", "2")
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "line 1 drained onto line 2: 2 callers moved") {
		t.Fatalf("m2bbs drain: %v\n%s\n%s", err, out, logs)
	}
	got := visit(t, writer, "and finished on line 2", ".", "5")
	if strings.Count(got, "Message posted") != 1 || !strings.Contains(got, "Online now:\n  ivy\n  jon\n") {
		t.Errorf("the writer after the drain:\n%s", got)
	}
	if got := visit(t, reader, "2"); !strings.Contains(got, "written on line 1\nand finished on line 2") {
		t.Errorf("the reader after the drain:\n%s", got)
	}
	logs.WaitFor(t, readTimeout, "session replayed from its journal", "line=2")
	// /status now reaches line 2's host, which serves them both.
	var names []string
	for _, c := range b.status(t).Online {
		names = append(names, c.User)
	}
	if strings.Join(names, ",") != "ivy,jon" {
		t.Errorf("line 2's host serves %v after the drain, want ivy and jon", names)
	}
}
