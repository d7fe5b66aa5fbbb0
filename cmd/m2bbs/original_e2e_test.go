package main

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
)

// originalExamples is where Debian's mongrel2-core installs the 2010
// board (Mongrel2's examples/bbs). The project carries no copy of it:
// these tests copy the files from there when they run.
const originalExamples = "/usr/share/doc/mongrel2-core/examples/bbs"

// originalScripts are the 2010 board's files a sysop copies into the
// scripts folder, as they are. db.lua (Redis) stays out: the host's db
// module serves its calls.
var originalScripts = []string{"bbs.lua", "ui.lua", "strict.lua", "engine.lua", "config.lua"}

// copyOriginal copies the 2010 board's files, unchanged (bbs.lua
// unzipped), into a new folder and returns it: a scripts folder with no
// screens folder beside it. It skips the test when they are not
// installed.
func copyOriginal(t *testing.T) (scripts, screens string) {
	t.Helper()
	if _, err := os.Stat(originalExamples); err != nil {
		t.Skipf("the 2010 board's files are not installed (%v): Debian's mongrel2-core installs them (make deps)", err)
	}
	dir := t.TempDir()
	scripts, screens = filepath.Join(dir, "scripts"), filepath.Join(dir, "screens")
	if err := os.Mkdir(scripts, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range originalScripts {
		b, err := readOriginal(filepath.Join(originalExamples, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(scripts, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return scripts, screens
}

// readOriginal reads path, or path.gz unzipped.
func readOriginal(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if !errors.Is(err, os.ErrNotExist) {
		return b, err
	}
	f, err := os.Open(path + ".gz")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// originalFlags point m2bbs at the copied 2010 board, and let a test
// type as fast as it likes.
func originalFlags(scripts, screens string) []string {
	return []string{"-scripts", scripts, "-screens", screens, "-main", "bbs.lua",
		"-bcrypt-cost", "4", "-rate", "1000", "-burst", "1000"}
}

// TestTheOriginalBoardUnchanged runs the 2010 board's files as they are,
// behind real Mongrel2 and behind the built-in front end: a new user
// registers, another posts, reads the board, sends mail and quits, and
// the first reads the mail.
func TestTheOriginalBoardUnchanged(t *testing.T) {
	for _, frontEnd := range []string{viaMongrel2, viaBuiltIn} {
		t.Run(frontEnd, func(t *testing.T) {
			scripts, screens := copyOriginal(t)
			db := filepath.Join(t.TempDir(), "bbs.db")
			b := startBBS(t, frontEnd, mongrel2.ProtocolJSON, append(originalFlags(scripts, screens), "-db", db)...)
			b.logs.WaitFor(t, readTimeout, "engine.lua is a Mongrel2 receive loop")
			playOriginal(t, b)
			passwordsNotInClear(t, b, db)
			if st := b.quiet(t); st.Sessions.Errored != 0 || st.Sessions.Started != 3 {
				t.Errorf("sessions %+v, want 3 calls and no errors", st.Sessions)
			}
			hotEditOriginal(t, b, scripts)
		})
	}
}

// hotEditOriginal edits the welcome text in the original's ui.lua, with
// no screens folder to watch: the next caller sees the edit.
func hotEditOriginal(t *testing.T, b *bbs, scripts string) {
	t.Helper()
	path := filepath.Join(scripts, "ui.lua")
	ui, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(ui), "Welcome to the Mongrel2 BBS.", "Welcome back to the Mongrel2 BBS.", 1)
	if edited == string(ui) {
		t.Fatal("ui.lua no longer has the welcome text this test edits")
	}
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	b.logs.WaitFor(t, 10*time.Second, "scripts reloaded", "version=2")
	if out := b.play(t, "bob", originalPassword, "", "Q"); !strings.Contains(out, "Welcome back to the Mongrel2 BBS.") {
		t.Errorf("the caller after the edit saw:\n%s", out)
	}
}

// originalPassword is the password of every caller of playOriginal, one
// that appears nowhere else.
const originalPassword = "plum-tree-4711"

// passwordsNotInClear fails if originalPassword is in the host's log or in
// the database's files: the 2010 board asks for it at its own prompts (no
// secret = true) and prints it ("login attempt"), and the host still
// keeps it out of both.
func passwordsNotInClear(t *testing.T, b *bbs, db string) {
	t.Helper()
	logs := b.logs.String()
	if !strings.Contains(logs, "login attempt") {
		t.Fatalf("the original's print of each login is not in the log:\n%s", logs)
	}
	if strings.Contains(logs, originalPassword) {
		t.Errorf("a password is in the host's log in clear")
	}
	files, _ := filepath.Glob(db + "*")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(originalPassword)) {
			t.Errorf("a password is in %s in clear", filepath.Base(f))
		}
	}
}

// playOriginal plays the 2010 board's menus through b.
func playOriginal(t *testing.T, b *bbs) {
	t.Helper()
	pw := originalPassword
	out := b.play(t, "bob", pw, pw, "", "Q")
	for _, want := range []string{"Welcome to the Mongrel2 BBS.", "What's your name?", "Looks like you're new here.",
		"Awesome! Welcome to our little BBS.", "MOTD: ", "---(((MAIN MENU))---", "Alright, see ya later."} {
		if !strings.Contains(out, want) {
			t.Fatalf("bob's first call lacks %q:\n%s", want, out)
		}
	}
	out = b.play(t, "ann", pw, pw, "",
		"1", "Hello from ann.", "Second line.", ".",
		"2", "",
		"3", "bob", "Psst, bob.", ".",
		"Q")
	for _, want := range []string{"Enter your message, up to 20 lines", "From: ann\n---", "Message posted.",
		"These are left by different users:", "---- #0 -----\nFrom: ann\nHello from ann.\nSecond line.\n",
		"No more messages; Enter for MAIN MENU.", "Who do you want to send it to?", "Message sent to bob",
		"Alright, see ya later."} {
		if !strings.Contains(out, want) {
			t.Fatalf("ann's call lacks %q:\n%s", want, out)
		}
	}
	out = b.play(t, "bob", pw, "", "4", "", "4", "Q")
	for _, want := range []string{"From: ann\nPsst, bob.\nEnter to continue.", "No messages for you. Try back later.", "Alright, see ya later."} {
		if !strings.Contains(out, want) {
			t.Fatalf("bob's second call lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Looks like you're new here.") {
		t.Errorf("bob was not known the second time:\n%s", out)
	}
}

// TestTheOriginalSurvivesAHostKilledAndRestarted: a caller of the
// unchanged 2010 board is writing a message when the host is killed with
// SIGKILL; on the restarted host they finish it, and it is posted once.
// They registered on an earlier call: a registration under way when the
// host dies cannot be finished (a password typed before the restart is
// only a placeholder after it; see host/handler/session/secrets.go).
func TestTheOriginalSurvivesAHostKilledAndRestarted(t *testing.T) {
	scripts, screens := copyOriginal(t)
	server := startLinesMongrel2(t, 1)
	db := filepath.Join(t.TempDir(), "bbs.db")
	line := startLine(t, server, db, 1, originalFlags(scripts, screens)...)
	first, _ := callIn(t, server, "ann", "pw", "pw", "")
	if out := leave(t, first, "Q"); !strings.Contains(out, "see ya") {
		t.Fatalf("ann could not quit:\n%s", out)
	}
	ann, out := callIn(t, server, "ann", "pw", "", "1", "line one", "line two")
	if !strings.Contains(out, "From: ann\n---") {
		t.Fatalf("ann is not writing:\n%s", out)
	}
	line.kill9(t)
	line = startLine(t, server, db, 1, originalFlags(scripts, screens)...)
	out = leave(t, ann, "line three", ".", "2", "", "Q")
	if strings.Count(out, "Message posted.") != 1 || !strings.Contains(out, "From: ann\nline one\nline two\nline three\n") {
		t.Errorf("ann's message after the restart:\n%s", out)
	}
	if strings.Contains(out, "---- #1 -----") {
		t.Errorf("the message was posted twice:\n%s", out)
	}
	line.logs.WaitFor(t, readTimeout, "session replayed from its journal")
}

// TestThe2010ClientOnTheOriginal: the unchanged 2010 client.py (Python 2)
// calls the unchanged 2010 board. It needs a python2 that runs.
func TestThe2010ClientOnTheOriginal(t *testing.T) {
	python2, err := exec.LookPath("python2")
	if err == nil {
		err = exec.Command(python2, "-c", "print 'ok'").Run()
	}
	if err != nil {
		t.Skipf("no python2 to run the 2010 client.py with (%v)", err)
	}
	scripts, screens := copyOriginal(t)
	b := startBBS(t, viaBuiltIn, "", originalFlags(scripts, screens)...)
	host, port, _ := strings.Cut(b.addr, ":")
	cmd := exec.Command(python2, filepath.Join(originalExamples, "client.py"), host, port)
	cmd.Stdin = strings.NewReader("zed\npw\npw\n\n1\nFrom the 2010 client.\n.\n2\n\nQ\n")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("client.py: %v\n%s\n%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"Welcome to the Mongrel2 BBS.", "Message posted.", "From: zed\nFrom the 2010 client.", "Alright, see ya later."} {
		if !strings.Contains(out, want) {
			t.Errorf("client.py printed no %q:\n%s", want, out)
		}
	}
}
