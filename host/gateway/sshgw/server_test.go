package sshgw

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/m2bbs/m2bbs/host/gateway/telnet"
	"github.com/m2bbs/m2bbs/host/shared/netlimit"
)

// TestLegacyClientLogsInAndPlays: a client offering only
// diffie-hellman-group14-sha1, aes128-ctr, hmac-sha1 and ssh-rsa logs in
// with a password, lands past the login prompts (the gateway typed
// them, the password unseen), plays a few prompts, and its window size
// and later resize reach the call's terminal state.
func TestLegacyClientLogsInAndPlays(t *testing.T) {
	_, calls, addr := startServer(t, Config{})
	term := call(t, addr, legacyClient("tess", ssh.Password("hunter22")), 80, 24)
	got := term.readUntil("Password?\r\n> \r\n")
	if !strings.Contains(got, "Name?\r\n> tess\r\n") || strings.Contains(got, "hunter22") {
		t.Errorf("the login as the caller saw it: %q", got)
	}
	for _, line := range []string{"one", "two", "three"} {
		term.readUntil("> ")
		term.send(line + "\r")
		if got := term.readUntil("echo: " + line + "\r\n"); !strings.HasPrefix(got, line+"\r\n") {
			t.Errorf("typing %q showed %q", line, got)
		}
	}
	if info := calls.Callers(); len(info) != 1 || info[0].Width != 80 || info[0].Height != 24 || info[0].TerminalType != "xterm-256color" {
		t.Errorf("the call's terminal: %+v", info)
	}
	if err := term.sess.WindowChange(30, 100); err != nil {
		t.Fatal(err)
	}
	// window-change has no reply: wait for it to be handled, within a bound.
	deadline := time.Now().Add(waitLimit)
	for {
		info := calls.Callers()
		if len(info) == 1 && info[0].Width == 100 && info[0].Height == 30 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after window-change the call's terminal is %+v", info)
		}
		time.Sleep(10 * time.Millisecond)
	}
	term.readUntil("> ")
	term.send("bye\r")
	term.readUntil("Bye.\r\n")
	<-term.closed
}

// TestWrongPasswordIsRefused: a wrong password is refused at the SSH
// level, and a connection gets MaxAuthTries attempts, no more.
func TestWrongPasswordIsRefused(t *testing.T) {
	auth := &fakeAuth{users: map[string]string{"tess": "hunter22"}}
	_, _, addr := startServer(t, Config{Auth: auth, MaxAuthTries: 2})
	tries := 0
	cfg := legacyClient("tess", ssh.RetryableAuthMethod(ssh.PasswordCallback(func() (string, error) {
		tries++
		return "guess", nil
	}), 10))
	if _, err := ssh.Dial("tcp", addr, cfg); err == nil {
		t.Fatal("a wrong password logged in")
	}
	if n := auth.checks.Load(); n != 2 {
		t.Errorf("%d passwords were checked on one connection (client tried %d), want MaxAuthTries 2", n, tries)
	}
}

// TestGuestsAndStrangersMeetTheBoardsPrompt: "new" with no password and
// a name that is no account (any password) open a session at the
// board's own first prompt, with nothing typed for them.
func TestGuestsAndStrangersMeetTheBoardsPrompt(t *testing.T) {
	_, _, addr := startServer(t, Config{})
	for _, cfg := range []*ssh.ClientConfig{
		legacyClient("new"),
		legacyClient("BBS", ssh.KeyboardInteractive(func(name, instruction string, questions []string, echos []bool) ([]string, error) {
			if len(questions) > 0 {
				return nil, fmt.Errorf("a guest was asked %q", questions)
			}
			return nil, nil
		})),
		legacyClient("nobody-yet", ssh.Password("whatever")),
	} {
		term := call(t, addr, cfg, 80, 24)
		term.readUntil("Name?\r\n> ")
		term.send("someone\r")
		if got := term.readUntil("Password?\r\n> "); !strings.HasPrefix(got, "someone\r\n") {
			t.Errorf("%s: the caller typed their name and saw %q", cfg.User, got)
		}
		term.client.Close()
	}
}

// TestOneSessionPerConnection: a second session, or a port forward, is
// refused; exec is refused.
func TestOneSessionPerConnection(t *testing.T) {
	_, _, addr := startServer(t, Config{})
	term := call(t, addr, legacyClient("new"), 80, 24)
	term.readUntil("Name?")
	if _, err := term.client.NewSession(); err == nil {
		t.Error("a second session was opened")
	}
	if _, err := term.client.Dial("tcp", "127.0.0.1:1"); err == nil {
		t.Error("a port forward was opened")
	}

	client, err := ssh.Dial("tcp", addr, legacyClient("new"))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Start("cat /etc/passwd"); err == nil {
		t.Error("exec was accepted")
	}
}

// TestSilentConnectionIsClosed: a TCP caller who never answers the
// version line is hung up on at HandshakeTimeout.
func TestSilentConnectionIsClosed(t *testing.T) {
	_, _, addr := startServer(t, Config{HandshakeTimeout: 300 * time.Millisecond})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(waitLimit))
	got, err := io.ReadAll(conn)
	if err != nil {
		t.Fatalf("the silent connection was not closed: %v", err)
	}
	if !strings.HasPrefix(string(got), ServerVersion) {
		t.Errorf("the gateway said %q", got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("closed after %v, HandshakeTimeout is 300ms", d)
	}
}

// TestFloodDelaysNoCaller: while silent connections and a flood of wrong
// passwords (each check standing for a 20 ms hash) hit the gateway, a
// logged-in caller's round trips stay quick, and no more hashes run at
// once than MaxHashes.
func TestFloodDelaysNoCaller(t *testing.T) {
	// The first check is tess's own; the caller's round trips are timed
	// once ten wrong passwords have reached the gateway, so they run
	// during the flood however slow the machine is.
	auth := &fakeAuth{users: map[string]string{"tess": "hunter22"}, hashTime: 20 * time.Millisecond,
		flooded: make(chan struct{}), floodAt: 11}
	_, _, addr := startServer(t, Config{Auth: auth, MaxHashes: 2, MaxHandshakes: 16, MaxHandshakesPerAddr: 16, HandshakeTimeout: 2 * time.Second,
		PerAddr: netlimit.Limits{MaxPerAddr: -1, AcceptRate: -1}})
	term := call(t, addr, legacyClient("tess", ssh.Password("hunter22")), 80, 24)
	term.readUntil("Password?\r\n> \r\n")

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 { // silent connections
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if c, err := net.Dial("tcp", addr); err == nil {
					_ = c.SetReadDeadline(time.Now().Add(waitLimit))
					_, _ = io.Copy(io.Discard, c)
					c.Close()
				}
			}
		})
	}
	for range 8 { // password guessers
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				cfg := legacyClient("tess", ssh.RetryableAuthMethod(ssh.Password("guess"), 10))
				cfg.Timeout = time.Second
				if c, err := ssh.Dial("tcp", addr, cfg); err == nil {
					c.Close()
				}
			}
		})
	}
	select {
	case <-auth.flooded:
	case <-time.After(10 * time.Second):
		t.Fatalf("only %d passwords were checked in 10 s: the flood did not reach the gateway", auth.checks.Load())
	}
	var trips []time.Duration
	for i := range 20 {
		term.readUntil("> ")
		start := time.Now()
		line := fmt.Sprintf("line %d", i)
		term.send(line + "\r")
		term.readUntil("echo: " + line)
		trips = append(trips, time.Since(start))
	}
	close(stop)
	wg.Wait()
	sort.Slice(trips, func(i, j int) bool { return trips[i] < trips[j] })
	if p90 := trips[len(trips)*9/10]; p90 > 500*time.Millisecond {
		t.Errorf("the caller's round trips under the flood: 90th percentile %v (all %v)", p90, trips)
	}
	if most := auth.most.Load(); most > 2 {
		t.Errorf("%d hashes ran at once, MaxHashes is 2", most)
	}
}

// TestHostKeysAreKeptAndReused: the keys are written with mode 0600 and
// the second start reads the same ones.
func TestHostKeysAreKeptAndReused(t *testing.T) {
	dir := t.TempDir()
	first, err := LoadHostKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{HostKeyEd25519, HostKeyRSA} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v", name, st.Mode().Perm())
		}
	}
	second, err := LoadHostKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := Fingerprints(first), Fingerprints(second); !slices.Equal(a, b) || !strings.HasPrefix(a[0], "ssh-ed25519 SHA256:") {
		t.Errorf("first start %v, second %v", a, b)
	}
}

// TestStopEndsHandshakes: stopping the server hangs up on a connection
// still in its handshake at once, not at the handshake deadline.
func TestStopEndsHandshakes(t *testing.T) {
	log := testLog(t)
	calls, err := telnet.New(telnet.Config{Dial: fakeBoard, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := LoadHostKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Calls: calls, HostKeys: keys, Auth: &fakeAuth{}, Log: log, HandshakeTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	line := make([]byte, len(ServerVersion))
	if _, err := io.ReadFull(conn, line); err != nil { // the gateway has the connection
		t.Fatal(err)
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(waitLimit):
		t.Fatal("Serve waited for a connection in its handshake")
	}
}

// TestSilentAddressesLeaveRoomForANewcomer: eight addresses each holding
// as many silent connections as they may cannot take every handshake
// slot: a caller from a ninth address still logs in.
func TestSilentAddressesLeaveRoomForANewcomer(t *testing.T) {
	auth := &fakeAuth{users: map[string]string{"tess": "hunter22"}}
	_, _, addr := startServer(t, Config{Auth: auth, MaxHandshakes: 20, HandshakeTimeout: 5 * time.Second})
	var held []net.Conn
	t.Cleanup(func() {
		for _, c := range held {
			c.Close()
		}
	})
	for i := 2; i <= 9; i++ {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(i))}}
		for range 8 { // past the per-address share: the extra ones are closed
			c, err := d.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, c)
		}
	}
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 10)}, Timeout: waitLimit}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	cc, chans, reqs, err := ssh.NewClientConn(nc, addr, legacyClient("tess", ssh.Password("hunter22")))
	if err != nil {
		t.Fatalf("a caller from another address could not log in while others held their handshakes: %v", err)
	}
	ssh.NewClient(cc, chans, reqs).Close()
}

// A password that waits for the hash pool waits no longer than its
// connection's handshake deadline: a caller who sends it late, while the
// pool is busy, is refused at that deadline and never hashed after it.
func TestHashWaitEndsAtTheHandshakeDeadline(t *testing.T) {
	const timeout = time.Second
	auth := &fakeAuth{users: map[string]string{"tess": "hunter22"}, entered: make(chan struct{}, 4), hold: make(chan struct{})}
	_, _, addr, stop := startStoppableServer(t, Config{Auth: auth, MaxHashes: 1, HandshakeTimeout: timeout})

	// A's password takes the only hash slot, and keeps it.
	aDone := make(chan struct{})
	go func() {
		defer close(aDone)
		if c, err := ssh.Dial("tcp", addr, legacyClient("tess", ssh.Password("wrong-a"))); err == nil {
			c.Close()
		}
	}()
	<-auth.entered

	// B sends their password 600 ms into their second, and waits for the
	// slot; A's hash ends half a second after B's deadline.
	bStart := time.Now()
	released := make(chan struct{})
	time.AfterFunc(timeout+500*time.Millisecond, func() {
		close(auth.hold)
		close(released)
	})
	bDone := make(chan error, 1)
	go func() {
		cfg := legacyClient("tess", ssh.PasswordCallback(func() (string, error) {
			time.Sleep(time.Until(bStart.Add(600 * time.Millisecond))) // a slow caller
			return "wrong-b", nil
		}))
		c, err := ssh.Dial("tcp", addr, cfg)
		if err == nil {
			c.Close()
		}
		bDone <- err
	}()
	err := <-bDone
	<-released // A's hash is over: B, had it waited on, got the slot then
	<-aDone
	stop() // and every connection's handling is over
	if err == nil {
		t.Fatal("B logged in with a wrong password")
	}
	if n := auth.checks.Load(); n != 1 {
		t.Errorf("%d passwords hashed, want A's alone: B's, sent before B's %v handshake deadline, waited for the pool past it and was hashed after it",
			n, timeout)
	}
}
