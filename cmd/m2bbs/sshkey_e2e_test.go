package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/keylogin"
)

// TestSSHKeyLogin drives OpenSSH's ssh with expect through "m2bbs run",
// with the built-in front end and with Mongrel2: kate registers at the
// board's prompt with a password, adds the public key ssh-keygen made to
// her account from the K menu and hangs up; then she calls with the key
// and lands at the MOTD and the main menu without being asked for a name
// or a password. A caller of the board's port who sends a key login of
// their own making meets the name prompt, and the log says the assertion
// was refused.
func TestSSHKeyLogin(t *testing.T) {
	t.Run("built-in", func(t *testing.T) { sshKeyLogin(t) })
	t.Run("mongrel2", func(t *testing.T) {
		if err := mongrel2.Available(); err != nil {
			t.Skipf("mongrel2: %v", err)
		}
		sshKeyLogin(t, "-mongrel2")
	})
}

func sshKeyLogin(t *testing.T, extra ...string) {
	sshProg, err1 := exec.LookPath("ssh")
	expectProg, err2 := exec.LookPath("expect")
	keygen, err3 := exec.LookPath("ssh-keygen")
	if err1 != nil || err2 != nil || err3 != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("ssh, ssh-keygen or expect missing (make deps installs them): %v %v %v", err1, err2, err3)
		}
		t.Skip("ssh, ssh-keygen or expect missing (make deps installs them)")
	}
	keyDir := t.TempDir()
	keyFile := filepath.Join(keyDir, "id_ed25519")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "kate@test", "-f", keyFile).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pub, err := os.ReadFile(keyFile + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	logs, sshPort := startSSHBBS(t, extra...)
	common := fmt.Sprintf("%s -p %d -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR", sshProg, sshPort)
	script := fmt.Sprintf(`
set timeout 10
set stty_init "rows 40 cols 120"
proc step {n pattern} {
	expect {
		timeout { puts "\nEXPECT TIMEOUT at step $n"; exit $n }
		eof { puts "\nEXPECT EOF at step $n"; exit $n }
		-ex $pattern
	}
}
spawn -noecho %[1]s -o PubkeyAuthentication=no new@127.0.0.1
step 2 "What's your name?"
step 3 "> "
send "kate\r"
step 4 "password?"
step 5 "> "
send "hunter22\r"
step 6 "register:"
step 7 "> "
send "hunter22\r"
step 8 "(Y/n)"
step 9 "> "
send "y\r"
step 10 "Your SSH keys."
step 11 "> "
send "K\r"
step 12 "You have no SSH keys."
step 13 "go back: "
send "A\r"
step 14 ".pub file: "
send "%[3]s\r"
step 15 "Added ssh-ed25519 key SHA256:"
step 16 "go back: "
send "\r"
step 17 "Quit the BBS."
step 18 "> "
send "Q\r"
step 19 "see ya later"
expect {
	timeout { puts "\nEXPECT TIMEOUT at the first hang-up"; exit 20 }
	eof
}
wait

spawn -noecho %[1]s -i %[2]s -o IdentitiesOnly=yes kate@127.0.0.1
expect {
	timeout { puts "\nEXPECT TIMEOUT at the key login"; exit 40 }
	eof { puts "\nEXPECT EOF at the key login"; exit 40 }
	"assword" { puts "\nASKED FOR A PASSWORD"; exit 41 }
	"What's your name?" { puts "\nASKED FOR A NAME"; exit 42 }
	-ex "Welcome back, kate: you are logged in by your SSH key."
}
step 43 "(Y/n)"
step 44 "> "
send "y\r"
step 45 "Quit the BBS."
step 46 "> "
send "Q\r"
step 47 "see ya later"
expect {
	timeout { puts "\nEXPECT TIMEOUT at the end"; exit 50 }
	eof
}
`, common, keyFile, strings.TrimSpace(string(pub)))
	path := filepath.Join(t.TempDir(), "keys.exp")
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
		t.Fatalf("expect: %v; the ssh screen:\n%s", err, screen)
	}
	if _, second, _ := strings.Cut(screen, "see ya later"); strings.Contains(second, "password") {
		t.Errorf("the key login was asked for a password:\n%s", second)
	}
	logs.WaitFor(t, readTimeout, "ssh: key login", "name=kate", "key=SHA256:")
	logs.WaitFor(t, readTimeout, "ssh caller logged in", `login="kate (key)"`)
	logs.WaitFor(t, readTimeout, "caller logged in", "user=kate")

	// A classic caller forges a key login for kate: the host refuses it.
	ready := logs.WaitFor(t, readTimeout, "m2bbs is ready")
	port := regexp.MustCompile(`ready on port (\d+)`).FindStringSubmatch(ready)
	if port == nil {
		t.Fatalf("no port in %q", ready)
	}
	forged := keylogin.Sign(keylogin.NewKey(), "kate", time.Now())
	first := classicConnectWith(t, net.JoinHostPort("127.0.0.1", port[1]), forged.AppendJSONMembers(nil))
	if !strings.Contains(first, "What's your name?") || strings.Contains(first, "SSH key") {
		t.Errorf("a forged key login got %q", first)
	}
	logs.WaitFor(t, readTimeout, "key login refused", "name=kate", "wrong MAC")
}

// classicConnectWith calls addr, the classic JSON-socket port, with a
// "connect" carrying extra JSON members, and returns the text of the
// board's first prompt.
func classicConnectWith(t *testing.T, addr string, members []byte) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(readTimeout))
	req := classic.AppendRequest(nil, "@bbs", "connect")
	req = append(append(req[:len(req)-2], members...), '}', 0)
	if _, err := conn.Write(req); err != nil {
		t.Fatal(err)
	}
	fr := classic.NewFrameReader(bufio.NewReader(conn), false)
	var text strings.Builder
	for {
		m, err := fr.Next()
		if err != nil {
			t.Fatalf("%v after %q", err, text.String())
		}
		text.WriteString(m.Msg)
		if m.Type == message.TypePrompt || m.Type == message.TypeExit {
			return text.String()
		}
	}
}
