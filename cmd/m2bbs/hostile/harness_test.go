package hostile

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/cmd/internal/proctest"
	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/handler/dispatch"
	"github.com/m2bbs/m2bbs/host/message"
)

// Limits of the suite's waits and assertions.
const (
	// readTimeout bounds each wait for a message from the board.
	readTimeout = 10 * time.Second
	// maxRoundTrip is the slowest menu round trip a well-behaved caller
	// may see during an attack and after it.
	maxRoundTrip = time.Second
	// watchEvery spaces the bystander's round trips during an attack,
	// well within the per-caller rate limit.
	watchEvery = 150 * time.Millisecond
)

// Addresses on the loopback network: the attacker calls from the first,
// the bystander from the second, so that limits per address tell them
// apart (Linux routes all of 127.0.0.0/8 to lo).
const (
	attackerIP  = "127.0.0.1"
	bystanderIP = "127.0.0.2"
)

// binary is the m2bbs binary under test, set by TestMain.
var binary string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

// buildAndRun builds the m2bbs binary (unless $M2BBS_BIN names one) and
// runs the tests.
func buildAndRun(m *testing.M) int {
	if bin := os.Getenv("M2BBS_BIN"); bin != "" {
		binary = bin
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "m2bbs-hostile-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "hostile:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "m2bbs")
	if err := proctest.Build("github.com/m2bbs/m2bbs/cmd/m2bbs", binary); err != nil {
		fmt.Fprintln(os.Stderr, "hostile: build m2bbs:", err)
		return 1
	}
	return m.Run()
}

// repoDir is a folder of the repository (scripts, screens), absolute.
func repoDir(t *testing.T, name string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// freePort returns a TCP port free on 127.0.0.1 just now.
func freePort(t *testing.T) int {
	t.Helper()
	port, err := mongrel2.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// proc is a running m2bbs process, stopped by PID when the test ends.
type proc struct {
	cmd    *exec.Cmd
	logs   *proctest.Log
	exited chan struct{} // closed once Wait returned; err is then set
	err    error
}

// startProc starts m2bbs with args. The process is stopped with SIGTERM
// (SIGKILL after 10 s) when the test ends, unless it was stopped before.
func startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = os.Environ()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logs: proctest.Watch(stderr), exited: make(chan struct{})}
	go func() {
		<-p.logs.Done()
		p.err = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			p.signal(syscall.SIGKILL)
			t.Errorf("m2bbs %s ignored SIGTERM for 10 s", args[0])
			<-p.exited
		}
		if t.Failed() {
			t.Logf("m2bbs %s log:\n%s", args[0], p.logs)
		}
	})
	return p
}

// signal sends sig to the process unless it has exited.
func (p *proc) signal(sig syscall.Signal) {
	select {
	case <-p.exited:
	default:
		_ = syscall.Kill(p.cmd.Process.Pid, sig)
	}
}

// stop ends the process with sig and waits for it to exit.
func (p *proc) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	p.signal(sig)
	select {
	case <-p.exited:
	case <-time.After(readTimeout):
		t.Fatalf("m2bbs did not exit on %v", sig)
	}
}

// wait waits for the process to exit by itself and returns how it ended.
func (p *proc) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-p.exited:
		return p.err
	case <-time.After(readTimeout):
		t.Fatalf("m2bbs still running after %v:\n%s", readTimeout, p.logs)
		return nil
	}
}

// board is a running BBS on the shipped scripts and screens.
type board struct {
	// addr is where classic callers dial; telnetAddr and webAddr are the
	// gateways' addresses ("" when off).
	addr, telnetAddr, webAddr string
	// dataDir and db are the board's run folder and database, kept across
	// restarts.
	dataDir, db string
	args        []string
	proc        *proc
	// server is the Mongrel2 in front, for a board behind it.
	server *mongrel2.Server
}

// boardOptions change how startBoard starts the board.
type boardOptions struct {
	// telnet and web turn the gateways on, on free ports.
	telnet, web bool
	// extra are more flags for `m2bbs run`.
	extra []string
}

// startBoard starts `m2bbs run` (the built-in front end and the host in
// one process) on free ports with a fresh database, and returns once the
// status page answers.
func startBoard(t *testing.T, opts boardOptions) *board {
	t.Helper()
	dataDir := t.TempDir()
	b := &board{dataDir: dataDir, db: filepath.Join(dataDir, "bbs.db")}
	port := freePort(t)
	b.addr = fmt.Sprintf("%s:%d", attackerIP, port)
	webPort, telnetPort := -1, -1
	if opts.web {
		webPort = freePort(t)
		b.webAddr = fmt.Sprintf("127.0.0.1:%d", webPort)
	}
	if opts.telnet {
		telnetPort = freePort(t)
		b.telnetAddr = fmt.Sprintf("127.0.0.1:%d", telnetPort)
	}
	b.args = append([]string{"run",
		"-port", fmt.Sprint(port),
		"-web-port", fmt.Sprint(webPort),
		"-telnet-port", fmt.Sprint(telnetPort),
		"-data", dataDir,
		"-db", b.db,
		"-scripts", repoDir(t, "scripts"),
		"-screens", repoDir(t, "screens"),
	}, opts.extra...)
	b.start(t)
	return b
}

// start starts the board's process with its arguments and waits until it
// serves.
func (b *board) start(t *testing.T) {
	t.Helper()
	b.proc = startProc(t, b.args...)
	b.proc.logs.WaitFor(t, 30*time.Second, "host ready")
	b.awaitStatus(t)
}

// restart stops the board with sig (SIGTERM or SIGKILL) and starts it
// again on the same ports and database.
func (b *board) restart(t *testing.T, sig syscall.Signal) {
	t.Helper()
	b.proc.stop(t, sig)
	b.start(t)
}

// startBehindMongrel2 starts a real Mongrel2 and `m2bbs host` behind it,
// on the shipped board with a fresh database, with extra flags for the
// host, and returns once the status page answers through Mongrel2.
func startBehindMongrel2(t *testing.T, extra ...string) *board {
	t.Helper()
	return startBehind(t, mongrel2.Config{SenderID: "hostile-handler"}, extra...)
}

// startBehind is startBehindMongrel2 with Mongrel2 configured by cfg (its
// SenderID and routes; Dir and the status route are filled in).
func startBehind(t *testing.T, cfg mongrel2.Config, extra ...string) *board {
	t.Helper()
	if err := mongrel2.Available(); err != nil {
		t.Fatalf("%v (make deps installs it)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg.Dir = t.TempDir()
	cfg.HTTPRoutes = append(cfg.HTTPRoutes, dispatch.StatusPath)
	server, err := mongrel2.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := server.Stop(); err != nil {
			t.Error(err)
		}
	})
	dataDir := t.TempDir()
	b := &board{addr: server.Addr(), dataDir: dataDir, db: filepath.Join(dataDir, "bbs.db"), server: server}
	b.args = append([]string{"host",
		"-sender-id", cfg.SenderID,
		"-send-spec", server.Cfg.SendSpec,
		"-recv-spec", server.Cfg.RecvSpec,
		"-db", b.db,
		"-scripts", repoDir(t, "scripts"),
		"-screens", repoDir(t, "screens"),
	}, extra...)
	b.start(t)
	return b
}

// awaitStatus waits until the status page answers: a handler that has
// just connected to Mongrel2 may miss the first requests.
func (b *board) awaitStatus(t *testing.T) {
	t.Helper()
	client := &http.Client{Timeout: 500 * time.Millisecond}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := client.Get("http://" + b.addr + dispatch.StatusPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the board never answered %s: %v", dispatch.StatusPath, err)
		}
	}
}

// dialFrom connects to addr from the loopback address local.
func dialFrom(t *testing.T, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: readTimeout}
	conn, err := d.DialContext(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatalf("dial %s from %s: %v", addr, local, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// caller is a classic client on the board, as a person would use it.
type caller struct {
	c *classic.Client
	// seen is everything shown to the caller, in order.
	seen strings.Builder
}

// call dials the board's classic port from the loopback address local and
// sends "connect" as the classic client does.
func (b *board) call(t *testing.T, local string) *caller {
	t.Helper()
	c, err := classic.NewClient(dialFrom(t, local, b.addr), "@bbs", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Connect(); err != nil {
		t.Fatal(err)
	}
	return &caller{c: c}
}

// next reads messages until a prompt or an exit and returns the text of
// all of them, and the last one.
func (c *caller) next() (string, message.Message, error) {
	var text strings.Builder
	for {
		m, err := c.c.Next(readTimeout)
		if err != nil {
			return text.String(), m, err
		}
		if m.Msg != "" {
			text.WriteString(m.Msg + "\n")
			c.seen.WriteString(m.Msg + "\n")
		}
		if m.Type == message.TypePrompt || m.Type == message.TypeExit {
			return text.String(), m, nil
		}
	}
}

// answer waits for a prompt and answers it with each of lines in turn; it
// returns what the caller saw after the last answer, up to the next
// prompt or exit.
func (c *caller) answer(t *testing.T, lines ...string) string {
	t.Helper()
	if _, m, err := c.next(); err != nil || m.Type != message.TypePrompt {
		t.Fatalf("waiting for a prompt: %v (%s); the caller saw:\n%s", err, m.Type, c.seen.String())
	}
	var text string
	for i, line := range lines {
		if err := c.c.Send(line); err != nil {
			t.Fatal(err)
		}
		out, m, err := c.next()
		if err != nil {
			t.Fatalf("after %q: %v; the caller saw:\n%s", line, err, c.seen.String())
		}
		text = out
		if m.Type == message.TypeExit && i < len(lines)-1 {
			t.Fatalf("hung up on after %q; the caller saw:\n%s", line, c.seen.String())
		}
	}
	return text
}

// bystanderPassword is the well-behaved caller's password: long enough for
// any password rule.
const bystanderPassword = "correct horse battery"

// bystander is a well-behaved caller: registered as name from
// bystanderIP, logged in and at the main menu.
func (b *board) bystander(t *testing.T, name string) *caller {
	t.Helper()
	c := b.call(t, bystanderIP)
	// name, password, password again, then yes to the MOTD's question.
	if out := c.answer(t, name, bystanderPassword, bystanderPassword, "y"); !strings.Contains(out, "MAIN MENU") {
		t.Fatalf("the bystander did not reach the main menu:\n%s", c.seen.String())
	}
	// A first answer at the menu, so that the prompt is read and roundTrip
	// starts from a caller waiting at it.
	if _, err := c.roundTrip(); err != nil {
		t.Fatal(err)
	}
	return c
}

// roundTrip types a key the main menu does not have and times the board's
// answer: the menu again. The caller must be at the main menu with its
// prompt read.
func (c *caller) roundTrip() (time.Duration, error) {
	start := time.Now()
	if err := c.c.Send("?"); err != nil {
		return 0, err
	}
	out, m, err := c.next()
	took := time.Since(start)
	if err != nil {
		return took, fmt.Errorf("menu round trip: %w", err)
	}
	if m.Type != message.TypePrompt || !strings.Contains(out, "MAIN MENU") {
		return took, fmt.Errorf("menu round trip: got %s message:\n%s", m.Type, out)
	}
	return took, nil
}

// watch measures the caller's menu round trips every watchEvery until the
// returned stop is called; stop returns the slowest (at least one round
// trip is measured) and the first error.
func (c *caller) watch() (stop func() (time.Duration, error)) {
	done := make(chan struct{})
	var (
		wg      sync.WaitGroup
		slowest time.Duration
		first   error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(watchEvery)
		defer tick.Stop()
		for {
			took, err := c.roundTrip()
			slowest = max(slowest, took)
			if err != nil {
				first = err
				return
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() (time.Duration, error) {
		close(done)
		wg.Wait()
		return slowest, first
	}
}

// assertResponsive runs attack while the bystander uses the menu, then
// checks that every round trip during the attack, and one after it, took
// less than maxRoundTrip.
func assertResponsive(t *testing.T, bystander *caller, attack func()) {
	t.Helper()
	stop := bystander.watch()
	attack()
	slowest, err := stop()
	if err != nil {
		t.Fatalf("the bystander during the attack: %v", err)
	}
	if slowest >= maxRoundTrip {
		t.Errorf("the bystander's slowest menu round trip during the attack took %v (limit %v)", slowest, maxRoundTrip)
	}
	after, err := bystander.roundTrip()
	if err != nil {
		t.Fatalf("the bystander after the attack: %v", err)
	}
	if after >= maxRoundTrip {
		t.Errorf("the bystander's menu round trip after the attack took %v (limit %v)", after, maxRoundTrip)
	}
}
