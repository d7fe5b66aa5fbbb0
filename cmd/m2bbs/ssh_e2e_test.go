package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/m2bbs/m2bbs/cmd/internal/proctest"
)

// startSSHBBS starts "m2bbs run" with SSH on a free port (no telnet, no
// web page) plus extra flags, and returns its log and the SSH port.
func startSSHBBS(t *testing.T, extra ...string) (*proctest.Log, int) {
	t.Helper()
	ports := freePorts(t, 2)
	port, sshPort := ports[0], ports[1]
	dir := t.TempDir()
	args := append([]string{"run", "-port", fmt.Sprint(port), "-telnet-port", "-1", "-web-port", "-1", "-ssh-port", fmt.Sprint(sshPort),
		"-data", dir, "-db", filepath.Join(dir, "bbs.db"), "-scripts", "../../scripts", "-screens", "../../screens",
		"-bcrypt-cost", "4"}, extra...)
	logs := startM2BBS(t, args...)
	ready := logs.WaitFor(t, 30*time.Second, "m2bbs is ready")
	if want := fmt.Sprintf("ssh -p %d new@127.0.0.1", sshPort); !strings.Contains(ready, want) {
		t.Errorf("the ready line does not say %q:\n%s", want, ready)
	}
	logs.WaitFor(t, readTimeout, "ssh listening", "host_keys=", "ssh-ed25519 SHA256:")
	return logs, sshPort
}

// TestSSHPlaysTheBoard drives OpenSSH's ssh with expect through "m2bbs
// run", as a person would type: the user "new" registers tess at the
// board's prompt and posts a message; then tess logs in with her
// password as the SSH user, lands past the login prompts and reads it.
func TestSSHPlaysTheBoard(t *testing.T) {
	sshProg, err1 := exec.LookPath("ssh")
	expectProg, err2 := exec.LookPath("expect")
	if err1 != nil || err2 != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("ssh or expect missing (make deps installs them): %v %v", err1, err2)
		}
		t.Skip("ssh or expect missing (make deps installs them)")
	}
	logs, sshPort := startSSHBBS(t)
	ssh := fmt.Sprintf("%s -p %d -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o PubkeyAuthentication=no -o LogLevel=ERROR",
		sshProg, sshPort)
	script := fmt.Sprintf(`
set timeout 10
set stty_init "rows 40 cols 100"
proc step {n pattern} {
	expect {
		timeout { puts "\nEXPECT TIMEOUT at step $n"; exit $n }
		eof { puts "\nEXPECT EOF at step $n"; exit $n }
		-ex $pattern
	}
}
spawn -noecho %[1]s new@127.0.0.1
step 2 "What's your name?"
step 3 "> "
send "tess\r"
step 4 "password?"
step 5 "> "
send "hunter22\r"
step 6 "register:"
step 7 "> "
send "hunter22\r"
step 8 "(Y/n)"
step 9 "> "
send "y\r"
step 10 "Quit the BBS."
step 11 "> "
send "1\r"
step 12 "^Z Save"
send "over the wire\rby ssh\rin three lines"
step 13 "3:15"
send "\032"
step 15 "Message posted."
step 16 "Quit the BBS."
step 17 "> "
send "Q\r"
step 18 "see ya later"
expect {
	timeout { puts "\nEXPECT TIMEOUT at the first hang-up"; exit 19 }
	eof
}
wait

spawn -noecho %[1]s tess@127.0.0.1
step 40 "assword:"
send "hunter22\r"
step 41 "(Y/n)"
step 42 "> "
send "y\r"
step 43 "Quit the BBS."
step 44 "> "
send "2\r"
step 45 "in three lines"
step 46 {[Enter/Q] }
send "Q\r"
step 47 "Quit the BBS."
step 48 "> "
send "Q\r"
step 49 "see ya later"
expect {
	timeout { puts "\nEXPECT TIMEOUT at the end"; exit 50 }
	eof
}
`, ssh)
	path := filepath.Join(t.TempDir(), "call.exp")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, expectProg, path)
	cmd.Env = append(os.Environ(), "TERM=xterm")
	out, err := cmd.CombinedOutput()
	// What she read, without colour: the board's art and prompts are
	// coloured for an SSH terminal.
	screen := ansiCodes.ReplaceAllString(strings.ReplaceAll(string(out), "\r", ""), "")
	if err != nil {
		t.Fatalf("expect: %v; the ssh screen:\n%s", err, screen)
	}
	if strings.Contains(screen, "hunter22") {
		t.Errorf("the password was shown:\n%s", screen)
	}
	if !strings.Contains(screen, "over the wire\nby ssh\nin three lines") {
		t.Errorf("the message read back is not the one typed:\n%s", screen)
	}
	// The second call typed no name: the gateway answered the board's
	// prompts for her, and she sees them answered.
	if _, second, _ := strings.Cut(screen, "see ya later"); !strings.Contains(second, "What's your name?\n> tess\nWhat's your password?\n> \n") {
		t.Errorf("tess's login by SSH, as she saw it:\n%s", second)
	}
	logs.WaitFor(t, readTimeout, "ssh caller logged in", "login=tess", "terminal=xterm", "width=100", "height=40")
	logs.WaitFor(t, readTimeout, "session ended", "user=tess")
}

// ansiCodes matches the escape codes of colour and cursor movement.
var ansiCodes = regexp.MustCompile("\x1b\\[[0-9;?]*[A-Za-z]")

// sshTerminal is a Go SSH client's session on a pty, its output kept for
// expect-like reads.
type sshTerminal struct {
	t    *testing.T
	in   io.Writer
	mu   sync.Mutex
	out  bytes.Buffer
	more chan struct{}
	done chan struct{}
}

// dialSSH logs in to addr with cfg and opens a shell on an 80×24 pty.
func dialSSH(t *testing.T, addr string, cfg *ssh.ClientConfig) *sshTerminal {
	t.Helper()
	return dialSSHTerminal(t, addr, cfg, "ansi", 80, 24)
}

// dialSSHTerminal logs in to addr with cfg and opens a shell on a pty of
// terminal type termType, width by height.
func dialSSHTerminal(t *testing.T, addr string, cfg *ssh.ClientConfig, termType string, width, height int) *sshTerminal {
	t.Helper()
	client, err := ssh.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatalf("ssh %s@%s: %v", cfg.User, addr, err)
	}
	t.Cleanup(func() { client.Close() })
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty(termType, height, width, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	in, _ := sess.StdinPipe()
	out, _ := sess.StdoutPipe()
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	term := &sshTerminal{t: t, in: in, more: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(term.done)
		chunk := make([]byte, 4096)
		for {
			n, err := out.Read(chunk)
			term.mu.Lock()
			term.out.Write(chunk[:n])
			term.mu.Unlock()
			select {
			case term.more <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	return term
}

// expect waits for mark and drops the output up to it, which it returns.
func (term *sshTerminal) expect(mark string) string {
	term.t.Helper()
	timeout := time.NewTimer(readTimeout)
	defer timeout.Stop()
	for {
		term.mu.Lock()
		if i := strings.Index(term.out.String(), mark); i >= 0 {
			got := string(term.out.Next(i + len(mark)))
			term.mu.Unlock()
			return got
		}
		term.mu.Unlock()
		select {
		case <-term.more:
		case <-term.done:
			select {
			case <-term.more:
				continue
			default:
			}
			term.t.Fatalf("the call ended waiting for %q; got %q", mark, term.out.String())
		case <-timeout.C:
			term.t.Fatalf("waiting for %q; got %q", mark, term.out.String())
		}
	}
}

// send types line and Enter.
func (term *sshTerminal) send(line string) {
	term.t.Helper()
	if _, err := io.WriteString(term.in, line+"\r"); err != nil {
		term.t.Fatal(err)
	}
}

// legacySSH offers only diffie-hellman-group14-sha1, aes128-ctr,
// hmac-sha1 and an ssh-rsa host key, as an older BBS terminal does.
func legacySSH(user string, auth ...ssh.AuthMethod) *ssh.ClientConfig {
	return &ssh.ClientConfig{
		User: user, Auth: auth,
		Config: ssh.Config{
			KeyExchanges: []string{ssh.InsecureKeyExchangeDH14SHA1},
			Ciphers:      []string{ssh.CipherAES128CTR},
			MACs:         []string{ssh.HMACSHA1},
		},
		HostKeyAlgorithms: []string{ssh.KeyAlgoRSA},
		HostKeyCallback:   ssh.InsecureIgnoreHostKey(),
		Timeout:           readTimeout,
	}
}

// TestSSHLegacyClientLogsIn: a Go SSH client limited to the legacy
// algorithms registers through "new", then logs in with the password
// and plays a few prompts of the shipped board; a wrong password is
// refused at the SSH level, and once the login throttle pauses the name
// the right one is refused too, as at the board's own prompt. Behind
// the built-in front end and behind real Mongrel2.
func TestSSHLegacyClientLogsIn(t *testing.T) {
	for _, behindMongrel2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("mongrel2=%v", behindMongrel2), func(t *testing.T) {
			var extra []string
			if behindMongrel2 {
				extra = append(extra, "-mongrel2")
			}
			legacyClientLogsIn(t, extra...)
		})
	}
}

func legacyClientLogsIn(t *testing.T, extra ...string) {
	logs, sshPort := startSSHBBS(t, extra...)
	addr := fmt.Sprintf("127.0.0.1:%d", sshPort)

	newbie := dialSSH(t, addr, legacySSH("new"))
	newbie.expect("What's your name?")
	newbie.expect("> ")
	newbie.send("vera")
	newbie.expect("password?")
	newbie.expect("> ")
	newbie.send("s3cret pass")
	newbie.expect("register:")
	newbie.expect("> ")
	newbie.send("s3cret pass")
	newbie.expect("(Y/n)")
	newbie.expect("> ")
	newbie.send("n")
	<-newbie.done

	vera := dialSSH(t, addr, legacySSH("vera", ssh.Password("s3cret pass")))
	if got := vera.expect("(Y/n)"); strings.Contains(got, "s3cret") || !strings.Contains(got, "> vera\r\n") {
		t.Errorf("the login as vera saw it: %q", got)
	}
	vera.expect("> ")
	vera.send("y")
	vera.expect("Quit the BBS.")
	vera.expect("> ")
	vera.send("5") // who's online
	if got := vera.expect("Quit the BBS."); !strings.Contains(got, "vera") {
		t.Errorf("who's online does not show vera: %q", got)
	}
	vera.expect("> ")
	vera.send("Q")
	vera.expect("see ya later")
	<-vera.done
	logs.WaitFor(t, readTimeout, "session ended", "user=vera")

	if _, err := ssh.Dial("tcp", addr, legacySSH("vera", ssh.Password("wrong"))); err == nil {
		t.Fatal("a wrong password logged in")
	}
	// Three wrong passwords at vera from this address use up the free
	// attempts (the one above and two here); the next waits, right or not.
	for range 2 {
		_, _ = ssh.Dial("tcp", addr, legacySSH("vera", ssh.Password("wrong")))
	}
	if _, err := ssh.Dial("tcp", addr, legacySSH("vera", ssh.Password("s3cret pass"))); err == nil {
		t.Error("the login throttle let a login through at once after three wrong passwords")
	}
	logs.WaitFor(t, readTimeout, "ssh: login refused", "name=vera", "try again in")
}
