package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/handler/dispatch"
	"github.com/m2bbs/m2bbs/host/message"
)

// sysopTool is a running "m2bbs status -watch" or "-chat": what it has
// printed so far, its standard input, and its process, stopped with
// SIGINT (the sysop's Ctrl-C) by PID.
type sysopTool struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser

	mu     sync.Mutex
	out    strings.Builder
	notify chan struct{} // closed and replaced on each read
	done   chan struct{} // closed when stdout ends
}

// startSysopTool runs "m2bbs status -addr ADDR args...".
func startSysopTool(t *testing.T, addr string, args ...string) *sysopTool {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"status", "-addr", "http://" + addr}, args...)...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &sysopTool{cmd: cmd, stdin: stdin, notify: make(chan struct{}), done: make(chan struct{})}
	go s.read(stdout)
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *sysopTool) read(r io.Reader) {
	defer close(s.done)
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		s.mu.Lock()
		s.out.Write(buf[:n])
		close(s.notify)
		s.notify = make(chan struct{})
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// text is what the tool printed so far.
func (s *sysopTool) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// waitFor waits until the tool has printed want and returns its output.
func (s *sysopTool) waitFor(t *testing.T, want string) string {
	t.Helper()
	deadline := time.After(readTimeout)
	for {
		s.mu.Lock()
		out, notify := s.out.String(), s.notify
		s.mu.Unlock()
		if strings.Contains(out, want) {
			return out
		}
		select {
		case <-notify:
		case <-s.done:
			if out := s.text(); !strings.Contains(out, want) {
				t.Fatalf("the sysop's tool ended without printing %q:\n%s", want, out)
			}
		case <-deadline:
			t.Fatalf("the sysop's tool never printed %q:\n%s", want, out)
		}
	}
}

// stop sends SIGINT, as Ctrl-C does, and waits for the tool to exit.
func (s *sysopTool) stop(t *testing.T) {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = syscall.Kill(s.cmd.Process.Pid, syscall.SIGINT)
	exited := make(chan error, 1)
	go func() { exited <- s.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("m2bbs status exited with %v after Ctrl-C", err)
		}
	case <-time.After(proctestStop):
		_ = s.cmd.Process.Kill()
		t.Errorf("m2bbs status ignored Ctrl-C")
	}
}

// proctestStop bounds the wait for a sysop's tool to exit on Ctrl-C.
const proctestStop = 10 * time.Second

// nextMessage reads c's next message, failing the test on an error.
func nextMessage(t *testing.T, c *classic.Client) message.Message {
	t.Helper()
	m, err := c.Next(readTimeout)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// expectScreen reads c's next message and fails unless it is a screen
// saying text.
func expectScreen(t *testing.T, c *classic.Client, text string) {
	t.Helper()
	if m := nextMessage(t, c); m.Type != message.TypeScreen || m.Msg != text {
		t.Fatalf("the caller got %+v, want the screen %q", m, text)
	}
}

// TestSysopWatchesAndChats: the sysop watches caller A with m2bbs status
// -watch and sees A's screens and what A types, never A's password; A is
// told; the sysop breaks in with -chat, A's reply reaches the sysop and
// not the script, and once the chat ends A's next line goes to the script
// as usual. A request to watch that is not the sysop's gets 403.
func TestSysopWatchesAndChats(t *testing.T) {
	b := startBBS(t, viaBuiltIn, "", "-bcrypt-cost", "4", "-rate", "1000", "-burst", "1000")
	a := b.call(t)
	if m := nextMessage(t, a); m.Type != message.TypePrompt || !strings.Contains(m.Msg, "What's your name?") {
		t.Fatalf("A's first message: %+v", m)
	}
	connID := b.status(t).Online[0].ConnID

	resp, err := http.Post("http://"+b.addr+dispatch.StatusPath+"/watch?conn_id="+connID, "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a watch without the sysop's header: %s %s", resp.Status, body)
	}

	watch := startSysopTool(t, b.addr, "-watch", connID)
	watch.waitFor(t, "[watching conn "+connID+"]")
	expectScreen(t, a, dispatch.WatchStartText)

	const password = "hunter2-watched"
	menu := visit(t, a, "ann", password, password, "y")
	if !strings.Contains(menu, "Q. Quit the BBS.") {
		t.Fatalf("A did not reach the menu:\n%s", menu)
	}
	out := watch.waitFor(t, "Q. Quit the BBS.\n> ")
	for _, want := range []string{"What's your name?\n> ", "\n> ann\n", "What's your password?\n> ********\n", "Type your password again to register:\n> ********\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("the watch does not show %q:\n%s", want, out)
		}
	}

	// A's next screen, after A types.
	if got := visit(t, a, "5"); !strings.Contains(got, "Online now:") {
		t.Fatalf("A's who's online:\n%s", got)
	}
	watch.waitFor(t, "> 5\nOnline now:\n  ann\n")

	chat := startSysopTool(t, b.addr, "-chat", connID)
	chat.waitFor(t, "[watching conn "+connID+" (ann)]")
	expectScreen(t, a, dispatch.WatchStartText)
	expectScreen(t, a, dispatch.ChatStartText)
	if _, err := io.WriteString(chat.stdin, "Hello ann, need a hand?\n"); err != nil {
		t.Fatal(err)
	}
	expectScreen(t, a, dispatch.SysopChatPrefix+"Hello ann, need a hand?")
	if err := a.Send("yes please"); err != nil {
		t.Fatal(err)
	}
	if m := nextMessage(t, a); m.Type != message.TypePrompt || m.PChar != dispatch.ChatPChar {
		t.Fatalf("A's chat line was answered with %+v, want the chat's prompt", m)
	}
	chat.waitFor(t, "[to the sysop] yes please")
	watch.waitFor(t, "[to the sysop] yes please")

	chat.stdin.Close() // Ctrl-D: the chat ends, the watch goes on
	expectScreen(t, a, dispatch.ChatEndText)
	if m := nextMessage(t, a); m.Type != message.TypePrompt || !strings.Contains(m.Msg, "Q. Quit the BBS.") {
		t.Fatalf("after the chat A got %+v, want the menu again", m)
	}
	if got := visit(t, a, "7"); !strings.Contains(got, "Last callers:") || strings.Contains(got, "not on the menu") {
		t.Errorf("A's line after the chat did not reach the script as usual:\n%s", got)
	}
	chat.stop(t)
	expectScreen(t, a, dispatch.WatchStopText)
	watch.waitFor(t, "Last callers:")

	if out := watch.text() + chat.text(); strings.Contains(out, password) {
		t.Errorf("the password appears in the watch:\n%s", out)
	}
	if strings.Contains(b.logs.String(), password) {
		t.Errorf("the password appears in the host's log")
	}
	watch.stop(t)
	expectScreen(t, a, dispatch.WatchStopText)
}

// TestSlowWatcherDoesNotDelayTheCaller: a sysop's stream that is never
// read does not hold up the caller it watches.
func TestSlowWatcherDoesNotDelayTheCaller(t *testing.T) {
	b := startBBS(t, viaBuiltIn, "", "-bcrypt-cost", "4", "-rate", "1000", "-burst", "1000")
	a := b.call(t)
	arrive(t, a, "bea", "pw", "pw", "y")
	connID := b.status(t).Online[0].ConnID

	// The sysop's stream, opened by hand and never read.
	nc, err := net.Dial("tcp", b.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprintf(nc, "POST %s/watch?conn_id=%s HTTP/1.1\r\nHost: 127.0.0.1\r\nX-M2BBS-Sysop: 1\r\nContent-Length: 0\r\n\r\n", dispatch.StatusPath, connID)
	head, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil || !strings.Contains(head, "200") {
		t.Fatalf("the watch stream: %q %v", head, err)
	}
	expectScreen(t, a, dispatch.WatchStartText)

	const rounds = 300
	var took []time.Duration
	for range rounds {
		start := time.Now()
		if got := visit(t, a, "5"); !strings.Contains(got, "Online now:") {
			t.Fatalf("A's who's online:\n%s", got)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	median, worst := took[len(took)/2], took[len(took)-1]
	t.Logf("A's round trips with a watcher that never reads: median %v, worst %v", median, worst)
	if median > 200*time.Millisecond || worst > 2*time.Second {
		t.Errorf("the slow watcher delayed A: median %v, worst %v", median, worst)
	}
}

// awaitMessage reads c's messages until one says text, and returns it.
func awaitMessage(t *testing.T, c *classic.Client, text string) message.Message {
	t.Helper()
	var seen []string
	for range 50 {
		m := nextMessage(t, c)
		if strings.Contains(m.Msg, text) {
			return m
		}
		seen = append(seen, m.Msg)
	}
	t.Fatalf("no message says %q; got:\n%s", text, strings.Join(seen, "\n---\n"))
	return message.Message{}
}

// TestSysopMenuWatchesACaller: the shipped board's sysop menu watches a
// caller from the sysop's own session (the watch module), breaks in to
// chat and stops; the caller is told of each, and their lines after the
// chat reach their script.
func TestSysopMenuWatchesACaller(t *testing.T) {
	b := startBBS(t, viaBuiltIn, "", "-bcrypt-cost", "4", "-rate", "1000", "-burst", "1000")
	zed := b.call(t) // the first caller registered: the sysop
	arrive(t, zed, "zed", "pw", "pw", "y")
	ann := b.call(t)
	arrive(t, ann, "ann", "pw", "pw", "y")
	if out := visit(t, ann, "S", "V"); strings.Contains(out, "Watch whom?") {
		t.Fatalf("a user reached the watch:\n%s", out)
	}
	if out := visit(t, zed, "S", "V"); !strings.Contains(out, "Watch whom?\n  1. ann\n") {
		t.Fatalf("the sysop's list of callers:\n%s", out)
	}
	if err := zed.Send("1"); err != nil {
		t.Fatal(err)
	}
	awaitMessage(t, zed, "Watching ann. C to chat")
	expectScreen(t, ann, dispatch.WatchStartText)
	visit(t, ann, "5")
	awaitMessage(t, zed, "Online now:")

	if err := zed.Send("C"); err != nil {
		t.Fatal(err)
	}
	awaitMessage(t, zed, "Chat with ann")
	expectScreen(t, ann, dispatch.ChatStartText)
	if err := zed.Send("hi ann"); err != nil {
		t.Fatal(err)
	}
	expectScreen(t, ann, dispatch.SysopChatPrefix+"hi ann")
	if err := ann.Send("hello sysop"); err != nil {
		t.Fatal(err)
	}
	if m := nextMessage(t, ann); m.PChar != dispatch.ChatPChar {
		t.Fatalf("ann's chat line was answered with %+v", m)
	}
	awaitMessage(t, zed, "[to the sysop] hello sysop")
	if err := zed.Send("."); err != nil {
		t.Fatal(err)
	}
	expectScreen(t, ann, dispatch.ChatEndText)
	if m := nextMessage(t, ann); m.Type != message.TypePrompt || !strings.Contains(m.Msg, "Q. Quit the BBS.") {
		t.Fatalf("after the chat ann got %+v, want her menu again", m)
	}
	if out := visit(t, ann, "7"); !strings.Contains(out, "Last callers:") {
		t.Errorf("ann's line after the chat:\n%s", out)
	}
	awaitMessage(t, zed, "Watching ann. C to chat")
	if err := zed.Send(""); err != nil {
		t.Fatal(err)
	}
	expectScreen(t, ann, dispatch.WatchStopText)
	awaitMessage(t, zed, "SYSOP")
}

// TestSysopWatchesBehindMongrel2: the watch's stream passes through the
// real Mongrel2, and the sysop's Ctrl-C reaches the host as Mongrel2's
// disconnect notice, ending the watch.
func TestSysopWatchesBehindMongrel2(t *testing.T) {
	b := startBBS(t, viaMongrel2, mongrel2.ProtocolTNetstring, "-bcrypt-cost", "4", "-rate", "1000", "-burst", "1000")
	a := b.call(t)
	arrive(t, a, "cy", "pw", "pw", "y")
	connID := b.status(t).Online[0].ConnID
	watch := startSysopTool(t, b.addr, "-watch", connID)
	watch.waitFor(t, "[watching conn "+connID+" (cy)]")
	expectScreen(t, a, dispatch.WatchStartText)
	visit(t, a, "5")
	watch.waitFor(t, "> 5\nOnline now:\n  cy\n")
	watch.stop(t)
	expectScreen(t, a, dispatch.WatchStopText)
}
