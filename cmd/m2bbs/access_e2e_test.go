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

	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/message"
)

// fastCallers lets a test type faster than any caller.
var fastCallers = []string{"-bcrypt-cost", "4", "-rate", "1000", "-burst", "1000"}

// TestNewUserWaitsForApproval: with -new-users-wait, a new caller is
// told they wait and gets only the items for new users; the sysop lists
// the callers waiting in the sysop menu and approves one, who then gets
// the whole board on their next call.
func TestNewUserWaitsForApproval(t *testing.T) {
	b := startBBS(t, viaBuiltIn, "", append(fastCallers, "-new-users-wait")...)
	b.play(t, "zed", "pw", "pw", "y", "Q") // the first user: the sysop, never waits

	first := b.play(t, "ann", "pw", "pw", "y", "1", "Q")
	for _, want := range []string{"waiting for the sysop's approval", "2. Read messages left.", "That's not on the menu."} {
		if !strings.Contains(first, want) {
			t.Errorf("ann's first call lacks %q:\n%s", want, first)
		}
	}
	if strings.Contains(first, "1. Leave a message.") || strings.Contains(first, "Type your message") {
		t.Errorf("a waiting caller may post:\n%s", first)
	}

	sysop := b.play(t, "zed", "pw", "y", "S", "W", "ann", "Q", "Q")
	for _, want := range []string{"W. New users waiting for approval.", "Waiting for approval:", "  ann\n", "ann is approved.", "Nobody is waiting for approval."} {
		if !strings.Contains(sysop, want) {
			t.Errorf("the sysop's call lacks %q:\n%s", want, sysop)
		}
	}

	again := b.play(t, "ann", "pw", "y", "1", "approved at last", ".", "Q")
	if strings.Contains(again, "waiting for the sysop's approval") || !strings.Contains(again, "Message posted.") {
		t.Errorf("ann, approved, does not get the board:\n%s", again)
	}
}

// TestNewUsersDoNotWaitByDefault: without the setting, a new caller has
// the whole board at once.
func TestNewUsersDoNotWaitByDefault(t *testing.T) {
	b := startBBS(t, viaBuiltIn, "", fastCallers...)
	b.play(t, "zed", "pw", "pw", "y", "Q")
	out := b.play(t, "ann", "pw", "pw", "y", "Q")
	if strings.Contains(out, "approval") || !strings.Contains(out, "1. Leave a message.") {
		t.Errorf("ann waits without -new-users-wait:\n%s", out)
	}
}

// TestTimeLimitWarnsAndHangsUp: a caller with a 3-second limit (the
// e2e cannot move the host's clock: the session's fake-clock tests cover
// the minutes) is told their time at login and on the menu, warned
// while they sit at the menu, and hung up on with the goodbye screen;
// the sysop's level has no limit.
func TestTimeLimitWarnsAndHangsUp(t *testing.T) {
	b := startBBS(t, viaBuiltIn, "", append(fastCallers, "-time-limits", "0=3s/1h, 255=0/0", "-time-zone", "UTC")...)
	sysop := b.play(t, "zed", "pw", "pw", "y", "Q")
	if strings.Contains(sysop, "minute") {
		t.Errorf("the sysop has a time limit:\n%s", sysop)
	}

	ann := b.call(t)
	start := time.Now()
	login := arrive(t, ann, "ann", "pw", "pw", "y")
	for _, want := range []string{"You have 1 minute on the board this call.", "(1 minute left)"} {
		if !strings.Contains(login, want) {
			t.Errorf("ann is not told her time (%q):\n%s", want, login)
		}
	}
	var seen []message.Message
	for {
		m, err := ann.Next(readTimeout)
		if err != nil {
			t.Fatalf("after %v: %v; messages: %+v", time.Since(start), err, seen)
		}
		seen = append(seen, m)
		if m.Type == "exit" {
			break
		}
	}
	// The warning comes with the host's next look at the clock: while
	// she sits at the menu, or (on a slow machine) while she logs in.
	const warning = "Time check: you have 1 minute left"
	warnings := strings.Count(login, warning)
	for _, m := range seen[:len(seen)-1] {
		if m.Type == "screen" && strings.Contains(m.Msg, warning) {
			warnings++
		}
	}
	if warnings != 1 || !strings.Contains(seen[len(seen)-1].Msg, "Your time on the board is up") {
		t.Errorf("ann got %+v after logging in; want one warning, then the goodbye", seen)
	}
	if took := time.Since(start); took < 3*time.Second {
		t.Errorf("hung up after %v, before her 3 s", took)
	}
	if _, err := ann.Next(readTimeout); err == nil {
		t.Error("the line is still up after the goodbye")
	}
}

// TestAccessRuleOnMenuItem: a menu item whose rule is "level >= 20 and
// group('cosysop')" is shown to, and answered for, a caller the sysop put
// in the group, and neither shown nor answered for another.
func TestAccessRuleOnMenuItem(t *testing.T) {
	main, err := filepath.Abs("testdata/access_e2e.lua")
	if err != nil {
		t.Fatal(err)
	}
	b := startBBS(t, viaBuiltIn, "", append(fastCallers, "-main", main)...)
	b.play(t, "zed", "pw", "pw", "y", "Q")
	b.play(t, "bob", "pw", "pw", "y", "Q")
	b.play(t, "ann", "pw", "pw", "y", "Q")
	if out := b.play(t, "zed", "pw", "y", "S", "G", "ann", "cosysop", "F", "bob", "v", "Q", "Q"); strings.Count(out, "Done.") != 2 {
		t.Fatalf("the sysop could not put ann in cosysop and flag bob V:\n%s", out)
	}
	ann := b.play(t, "ann", "pw", "y", "J", "Q")
	if !strings.Contains(ann, "J. The co-sysops' corner.") || !strings.Contains(ann, "Welcome to the corner.") {
		t.Errorf("ann, in cosysop, is refused the corner:\n%s", ann)
	}
	if strings.Contains(ann, "lounge") {
		t.Errorf("ann, without flag V, sees the lounge:\n%s", ann)
	}
	bob := b.play(t, "bob", "pw", "y", "J", "V", "Q")
	if strings.Contains(bob, "corner") || !strings.Contains(bob, "That's not on the menu.") {
		t.Errorf("bob, in no group, gets the corner:\n%s", bob)
	}
	if !strings.Contains(bob, "V. The verified lounge.") || !strings.Contains(bob, "Welcome to the lounge.") {
		t.Errorf("bob, flagged V, is refused the lounge:\n%s", bob)
	}
}

// TestBrokenAccessRuleStopsTheScript: a rule that does not compile stops
// the board at start, and the sysop is told the item and the column.
func TestBrokenAccessRuleStopsTheScript(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile("testdata/access_e2e.lua")
	if err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "broken.lua")
	broken := strings.Replace(string(src), `group('cosysop')"`, `group('cosysop'"`, 1)
	if err := os.WriteFile(main, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	port, err := mongrel2.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "run", "-port", fmt.Sprint(port), "-data", dir, "-db", filepath.Join(dir, "bbs.db"),
		"-scripts", "../../scripts", "-screens", "../../screens", "-main", main)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil || ctx.Err() != nil {
		t.Fatalf("the board started with a broken rule (%v):\n%s", err, out)
	}
	if !strings.Contains(string(out), `item "J"`) || !strings.Contains(string(out), "column 32") {
		t.Errorf("the sysop is not told where the rule is wrong:\n%s", out)
	}
}

// TestApproveWithTheStatusCommand: "m2bbs status -waiting" lists the new
// users waiting, "-approve NAME" approves one, who then has the board.
func TestApproveWithTheStatusCommand(t *testing.T) {
	b := startBBS(t, viaBuiltIn, "", append(fastCallers, "-new-users-wait")...)
	for _, name := range []string{"zed", "ann", "bob"} {
		b.play(t, name, "pw", "pw", "y", "Q")
	}
	status := func(args ...string) (string, error) {
		cmd := exec.Command(os.Args[0], append([]string{"status", "-addr", "http://" + b.addr}, args...)...)
		cmd.Env = append(os.Environ(), runMainEnv+"=1")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := status("-waiting"); err != nil || !strings.Contains(out, " ann\n") || !strings.Contains(out, " bob\n") || strings.Contains(out, "zed") {
		t.Fatalf("status -waiting: %v\n%s", err, out)
	}
	if out, err := status("-approve", "bob"); err != nil || out != "approved bob\n" {
		t.Fatalf("status -approve bob: %v\n%s", err, out)
	}
	if out, err := status("-approve", "zed"); err == nil || !strings.Contains(out, "not waiting") {
		t.Errorf("approving the sysop: %v\n%s", err, out)
	}
	if out, err := status("-waiting"); err != nil || strings.Contains(out, "bob") || !strings.Contains(out, " ann\n") {
		t.Errorf("status -waiting after approving bob: %v\n%s", err, out)
	}
	if out := b.play(t, "bob", "pw", "y", "Q"); strings.Contains(out, "approval") || !strings.Contains(out, "1. Leave a message.") {
		t.Errorf("bob, approved, does not get the board:\n%s", out)
	}
}

// TestDayLimitHoldsAcrossCalls: a caller who used up their day (3
// seconds here) is hung up on, and told at once on their next call that
// their time is up: the day's time is in the store.
func TestDayLimitHoldsAcrossCalls(t *testing.T) {
	b := startBBS(t, viaBuiltIn, "", append(fastCallers, "-time-limits", "0=1h/3s, 255=0/0", "-time-zone", "UTC")...)
	b.play(t, "zed", "pw", "pw", "y", "Q")
	ann := b.call(t)
	arrive(t, ann, "ann", "pw", "pw", "y")
	for {
		m, err := ann.Next(readTimeout)
		if err != nil {
			t.Fatalf("ann was never hung up on: %v", err)
		}
		if m.Type == "exit" {
			break
		}
	}
	again := b.play(t, "ann", "pw")
	if !strings.Contains(again, "Your time on the board is up") || strings.Contains(again, "MAIN MENU") {
		t.Errorf("ann's next call the same day:\n%s", again)
	}
}
