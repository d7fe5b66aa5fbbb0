package telnet

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRealTelnetClient drives the telnet program (inetutils) through
// expect against the gateway and the fake BBS, the way a person would:
// answer the name and password prompts, read the menu, quit.
func TestRealTelnetClient(t *testing.T) {
	telnet, err := exec.LookPath("telnet")
	if err != nil {
		t.Skip("no telnet program")
	}
	expect, err := exec.LookPath("expect")
	if err != nil {
		t.Skip("no expect program")
	}
	bbs := newFakeBBS(true, welcome, askPassword, menu, goodbye)
	_, addr := startGateway(t, bbs, Config{})
	host, port, _ := net.SplitHostPort(addr)

	// Each expect waits at most 10 s; a timeout exits with the step's
	// number, so a failure says where it stopped.
	script := fmt.Sprintf(`
set timeout 10
set stty_init "rows 30 cols 100"
spawn -noecho %s %s %s
proc step {n pattern} {
	expect {
		timeout { puts "\nEXPECT TIMEOUT at step $n"; exit $n }
		eof { puts "\nEXPECT EOF at step $n"; exit $n }
		-ex $pattern
	}
}
step 2 "What is your name?"
step 3 "> "
send "zed\r"
step 4 ": "
send "s3cret\r"
step 5 "Command"
step 6 "> "
send "Q\r"
step 7 "Bye!"
expect {
	timeout { puts "\nEXPECT TIMEOUT at the end"; exit 8 }
	eof
}
lassign [wait] pid spawnid oserr status
exit $status
`, telnet, host, port)
	path := filepath.Join(t.TempDir(), "call.exp")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit*3)
	defer cancel()
	cmd := exec.CommandContext(ctx, expect, path)
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	out, err := cmd.CombinedOutput()
	screen := strings.ReplaceAll(string(out), "\r", "")
	t.Logf("the telnet screen:\n%s", screen)
	if err != nil {
		t.Fatalf("expect: %v", err)
	}

	for _, want := range []string{
		"\x1b[1;32mWelcome\x1b[0m", // in colour
		"to m2bbs\nWhat is your name?\n> zed\nPassword:\n: \nHello, zed\nCommand\n> Q\nBye!\n",
		"Connection closed by foreign host.",
	} {
		if !strings.Contains(screen, want) {
			t.Errorf("the screen lacks %q", want)
		}
	}
	if strings.Contains(screen, "s3cret") {
		t.Error("the password was shown")
	}
	bbs.waitGone(t)
	// The gateway waited for the terminal type and size before it dialled.
	// Every request says what the terminal is.
	term := `{"type":"XTERM-256COLOR","width":100,"height":30,"encoding":"utf-8","ansi":true,"keys":true,"bin":true}`
	want := []string{withTerminal(connectReq, term), withTerminal(req("zed"), term), withTerminal(req("s3cret"), term), withTerminal(req("Q"), term)}
	if got := bbs.receivedRequests(); !slices.Equal(got, want) {
		t.Errorf("BBS received %q, want %q", got, want)
	}
	<-bbs.callers
	<-bbs.callers
	info := <-bbs.callers // at the password
	if len(info) != 1 || info[0].TerminalType != "XTERM-256COLOR" || info[0].Width != 100 || info[0].Height != 30 {
		t.Errorf("Callers at the password = %+v, want XTERM-256COLOR 100x30", info)
	}
}
