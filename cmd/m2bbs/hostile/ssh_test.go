package hostile

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// SSH (issue 16, item 1): an attacker opens the SSH port and never
// finishes the handshake, and floods password guesses, while a bystander
// logged in over SSH from another address plays the board.

// sshCaller is an SSH session on a pty, dialled from a given address.
type sshCaller struct {
	t    *testing.T
	in   io.Writer
	mu   sync.Mutex
	out  bytes.Buffer
	more chan struct{}
}

// sshConfig is a client config for user with a password (none if "").
func sshConfig(user, password string) *ssh.ClientConfig {
	cfg := &ssh.ClientConfig{User: user, HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: readTimeout}
	if password != "" {
		cfg.Auth = []ssh.AuthMethod{ssh.Password(password)}
	}
	return cfg
}

// dialSSHFrom connects from the loopback address from to addr.
func dialSSHFrom(from, addr string, cfg *ssh.ClientConfig) (*ssh.Client, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: readTimeout}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c, chans, reqs, err := ssh.NewClientConn(nc, addr, cfg)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return ssh.NewClient(c, chans, reqs), nil
}

// callSSH logs in from the address from and opens a shell on a pty.
func callSSH(t *testing.T, from, addr string, cfg *ssh.ClientConfig) *sshCaller {
	t.Helper()
	client, err := dialSSHFrom(from, addr, cfg)
	if err != nil {
		t.Fatalf("ssh %s: %v", cfg.User, err)
	}
	t.Cleanup(func() { client.Close() })
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	in, _ := sess.StdinPipe()
	out, _ := sess.StdoutPipe()
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	c := &sshCaller{t: t, in: in, more: make(chan struct{}, 1)}
	go func() {
		chunk := make([]byte, 4096)
		for {
			n, err := out.Read(chunk)
			c.mu.Lock()
			c.out.Write(chunk[:n])
			c.mu.Unlock()
			select {
			case c.more <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	return c
}

// expect waits for mark and drops the output up to it.
func (c *sshCaller) expect(mark string) {
	c.t.Helper()
	timeout := time.NewTimer(readTimeout)
	defer timeout.Stop()
	for {
		c.mu.Lock()
		if i := strings.Index(c.out.String(), mark); i >= 0 {
			c.out.Next(i + len(mark))
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		select {
		case <-c.more:
		case <-timeout.C:
			c.t.Fatalf("waiting for %q; got %q", mark, c.out.String())
		}
	}
}

// send types line and Enter.
func (c *sshCaller) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.in, line+"\r"); err != nil {
		c.t.Fatal(err)
	}
}

// silentIP is the attacker's second address, for silent connections.
const silentIP = "127.0.0.3"

// TestSSHAttackDelaysNoCaller: while the attacker holds silent
// connections to the SSH port from one address and guesses the
// bystander's password without pause from another, the bystander, logged in by SSH, keeps quick round
// trips; the guesses meet the login throttle.
func TestSSHAttackDelaysNoCaller(t *testing.T) {
	sshPort := freePort(t)
	b := startBoard(t, boardOptions{extra: []string{"-ssh-port", fmt.Sprint(sshPort)}})
	addr := fmt.Sprintf("127.0.0.1:%d", sshPort)
	b.proc.logs.WaitFor(t, readTimeout, "ssh listening")

	const name, password = "bystander", "correct horse battery"
	newbie := callSSH(t, bystanderIP, addr, sshConfig("new", ""))
	newbie.expect("What's your name?")
	newbie.expect("> ")
	newbie.send(name)
	newbie.expect("password?")
	newbie.expect("> ")
	newbie.send(password)
	newbie.expect("register:")
	newbie.expect("> ")
	newbie.send(password)
	newbie.expect("(Y/n)")
	newbie.expect("> ")
	newbie.send("n")

	bystander := callSSH(t, bystanderIP, addr, sshConfig(name, password))
	bystander.expect("(Y/n)")
	bystander.expect("> ")
	bystander.send("y")
	bystander.expect("Quit the BBS.")
	bystander.expect("> ")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 6 { // silent connections, held until the board closes them
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				// From the attacker's second address: one address gets 2
				// handshakes at once, which the guessers below use.
				d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(silentIP)}}
				nc, err := d.Dial("tcp", addr)
				if err != nil {
					time.Sleep(50 * time.Millisecond) // refused for the address: call again soon
					continue
				}
				_ = nc.SetReadDeadline(time.Now().Add(readTimeout))
				go func() { <-stop; nc.Close() }()
				_, _ = io.Copy(io.Discard, nc)
				nc.Close()
			}
		})
	}
	for range 2 { // password guessers
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				cfg := sshConfig(name, fmt.Sprintf("guess %d", i))
				cfg.Timeout = time.Second
				if c, err := dialSSHFrom(attackerIP, addr, cfg); err == nil {
					c.Close()
					t.Errorf("a guess logged in")
				}
			}
		})
	}
	var trips []time.Duration
	for range 20 {
		time.Sleep(watchEvery) // pacing, within the caller's rate limit
		start := time.Now()
		bystander.send("5") // who's online
		bystander.expect("Quit the BBS.")
		bystander.expect("> ")
		trips = append(trips, time.Since(start))
	}
	close(stop)
	wg.Wait()
	sort.Slice(trips, func(i, j int) bool { return trips[i] < trips[j] })
	if slowest := trips[len(trips)-1]; slowest > maxRoundTrip {
		t.Errorf("the bystander's round trips during the attack: slowest %v (all %v)", slowest, trips)
	}
	// The guesses met the throttle (the log keeps only a few of each line).
	b.proc.logs.WaitFor(t, readTimeout, "ssh: login refused", "name=bystander", "try again in")
}
