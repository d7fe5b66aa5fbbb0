package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/cmd/internal/proctest"
	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/handler/lines"
	"github.com/m2bbs/m2bbs/host/message"
)

// TestTelnetPlaysTheBoard calls "m2bbs run" with the telnet program
// (inetutils), driven by expect as a person would type: register, leave a
// three-line message in the full-screen editor (keystroke mode), read it back, quit. Behind the built-in front end
// and behind real Mongrel2, the gateway dialing Mongrel2's port.
func TestTelnetPlaysTheBoard(t *testing.T) {
	for _, behindMongrel2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("mongrel2=%v", behindMongrel2), func(t *testing.T) {
			telnetPlaysTheBoard(t, behindMongrel2)
		})
	}
}

// startTelnetBBS starts "m2bbs run" with telnet on a free port (and no
// web page) plus extra flags, and returns its log, the board's port, the
// telnet port and the ready line.
func startTelnetBBS(t *testing.T, extra ...string) (logs *proctest.Log, port, telnetPort int, ready string) {
	t.Helper()
	var err error
	if port, err = mongrel2.FreePort(); err != nil {
		t.Fatal(err)
	}
	if telnetPort, err = mongrel2.FreePort(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := append([]string{"run", "-port", fmt.Sprint(port), "-telnet-port", fmt.Sprint(telnetPort), "-web-port", "-1",
		"-data", dir, "-db", filepath.Join(dir, "bbs.db"), "-scripts", "../../scripts", "-screens", "../../screens",
		"-bcrypt-cost", "4"}, extra...)
	logs = startM2BBS(t, args...)
	ready = logs.WaitFor(t, 30*time.Second, "m2bbs is ready")
	return logs, port, telnetPort, ready
}

func telnetPlaysTheBoard(t *testing.T, behindMongrel2 bool) {
	telnetProg, err1 := exec.LookPath("telnet")
	expectProg, err2 := exec.LookPath("expect")
	if err1 != nil || err2 != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("telnet or expect missing (make deps installs them): %v %v", err1, err2)
		}
		t.Skip("telnet or expect missing (make deps installs them)")
	}
	var extra []string
	if behindMongrel2 {
		extra = append(extra, "-mongrel2")
	}
	logs, _, telnetPort, ready := startTelnetBBS(t, extra...)
	if want := fmt.Sprintf("telnet: telnet 127.0.0.1 %d", telnetPort); !strings.Contains(ready, want) {
		t.Errorf("the ready line does not say %q:\n%s", want, ready)
	}

	script := fmt.Sprintf(`
set timeout 10
set stty_init "rows 40 cols 100"
spawn -noecho %s 127.0.0.1 %d
proc step {n pattern} {
	expect {
		timeout { puts "\nEXPECT TIMEOUT at step $n"; exit $n }
		eof { puts "\nEXPECT EOF at step $n"; exit $n }
		-ex $pattern
	}
}
step 2 "What's your name?"
step 3 "> "
send "tess\r"
step 4 "password?"
step 5 "> "
send "hunter2\r"
step 6 "register:"
step 7 "> "
send "hunter2\r"
step 8 "(Y/n)"
step 9 "> "
send "y\r"
step 10 "Quit the BBS."
step 11 "> "
send "1\r"
step 12 "^Z Save"
send "over the wire\rby telnet\rin three lines"
step 13 "3:15"
send "\032"
step 15 "Message posted."
step 16 "Quit the BBS."
step 17 "> "
send "6\r"
step 30 "Enter to go back:"
step 31 "> "
send "\r"
step 32 "Quit the BBS."
step 33 "> "
send "2\r"
step 18 "in three lines"
step 19 {[Enter/Q] }
send "Q\r"
step 20 "Quit the BBS."
step 21 "> "
send "Q\r"
step 22 "see ya later"
expect {
	timeout { puts "\nEXPECT TIMEOUT at the end"; exit 23 }
	eof
}
`, telnetProg, telnetPort)
	path := filepath.Join(t.TempDir(), "call.exp")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, expectProg, path)
	cmd.Env = append(os.Environ(), "TERM=xterm")
	out, err := cmd.CombinedOutput()
	screen := strings.ReplaceAll(string(out), "\r", "")
	if err != nil {
		t.Fatalf("expect: %v; the telnet screen:\n%s", err, screen)
	}
	if strings.Contains(screen, "hunter2") {
		t.Errorf("the password was shown:\n%s", screen)
	}
	if !strings.Contains(screen, "over the wire\nby telnet\nin three lines") {
		t.Errorf("the message read back is not the one typed:\n%s", screen)
	}
	if !strings.Contains(screen, "\x1b[") || !strings.Contains(screen, "The wall") {
		t.Errorf("no ANSI colour (the wall's title) reached the telnet caller:\n%s", screen)
	}
	logs.WaitFor(t, readTimeout, "session ended", "user=tess")
}

// TestWebrootWritesThePage: "m2bbs webroot DIR" writes the page with the
// xterm.js assets, ready for a Mongrel2 Dir route.
func TestWebrootWritesThePage(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "web")
	if err := runCommand(t.Context(), []string{"webroot", dir}, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"index.html", "bbs.js", "bbs.css", "vendor/xterm.js", "vendor/xterm.css", "vendor/addon-fit.js"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v (make web fetches xterm.js)", name, err)
		}
	}
	if err := runCommand(t.Context(), []string{"webroot"}, io.Discard); err == nil {
		t.Error("webroot without a folder succeeded")
	}
}

// TestTelnetHuntsForAFreeLine: "m2bbs run -lines 2" with one caller a
// line; a telnet caller gets the free line whichever it tries first, and
// hears the busy signal once both are taken.
func TestTelnetHuntsForAFreeLine(t *testing.T) {
	_, port, telnetPort, _ := startTelnetBBS(t, "-lines", "2", "-max-callers", "1")
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	awaitLines(t, addr, 10*time.Second, "lines 1 and 2 up", upLines(1, 2))
	// occupy puts a classic caller on route. A caller who just hung up
	// there is freed a moment after their connection closes, with no
	// signal to wait for: it dials until the line has room, within a bound.
	occupy := func(route string) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := classic.Dial(t.Context(), addr, route, false)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Connect(); err != nil {
				t.Fatal(err)
			}
			m, err := c.Next(readTimeout)
			if err == nil && m.Type == message.TypePrompt {
				t.Cleanup(func() { c.Close() })
				return
			}
			c.Close()
			if err != nil || time.Now().After(deadline) {
				t.Fatalf("caller on %s got %+v, %v", route, m, err)
			}
		}
	}
	// A telnet caller that negotiates nothing, reading until the
	// connection ends or the deadline.
	call := func(until string) string {
		nc, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", telnetPort))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetReadDeadline(time.Now().Add(readTimeout))
		var got []byte
		buf := make([]byte, 4096)
		for !strings.Contains(string(got), until) {
			n, err := nc.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				break
			}
		}
		return strings.ReplaceAll(string(got), "\r", "")
	}
	occupy(lines.Route(1))
	if screen := call("What's your name?"); !strings.Contains(screen, "What's your name?") {
		t.Errorf("with line 2 free, the telnet caller saw:\n%q", screen)
	}
	occupy(lines.Route(2))
	if screen := call("\x00never"); !strings.Contains(screen, "BUSY") || !strings.Contains(screen, "busy") {
		t.Errorf("with every line taken, the telnet caller saw:\n%q", screen)
	}
}
