package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/cmd/internal/proctest"
	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/handler/lines"
	"github.com/m2bbs/m2bbs/host/message"
)

// lineProc is one "m2bbs host -line N" process.
type lineProc struct {
	cmd    *exec.Cmd
	logs   *proctest.Log
	exited chan error
	killed bool
}

// startLine starts line n's host behind server, stopped (SIGTERM) when the
// test ends unless the test killed it.
func startLine(t *testing.T, server *mongrel2.Server, db string, n int, extra ...string) *lineProc {
	t.Helper()
	h := server.Cfg.Handlers
	send, recv := server.Cfg.SendSpec, server.Cfg.RecvSpec
	if n > 1 {
		send, recv = h[n-2].SendSpec, h[n-2].RecvSpec
	}
	dir := h[len(h)-1]
	p := startHostProc(t, n, append([]string{"-send-spec", send, "-recv-spec", recv,
		"-directory-send-spec", dir.SendSpec, "-directory-recv-spec", dir.RecvSpec, "-db", db}, extra...)...)
	p.logs.WaitFor(t, 30*time.Second, "host ready")
	return p
}

// startHostProc starts "m2bbs host -line n" with the board's scripts and
// the test limits, plus args; it is stopped (SIGTERM) when the test ends
// unless the test killed it.
func startHostProc(t *testing.T, n int, extra ...string) *lineProc {
	t.Helper()
	args := append([]string{"host", "-line", fmt.Sprint(n),
		"-scripts", "../../scripts", "-screens", "../../screens", "-main", e2eMain(t),
		"-bcrypt-cost", "4", "-rate", "1000", "-burst", "1000",
	}, append(e2eLimits, extra...)...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &lineProc{cmd: cmd, logs: proctest.Watch(stderr), exited: make(chan error, 1)}
	go func() {
		<-p.logs.Done()
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if p.killed {
			return
		}
		_ = syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
		select {
		case err := <-p.exited:
			if err != nil {
				t.Errorf("line %d exited with %v:\n%s", n, err, p.logs)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("line %d ignored SIGTERM:\n%s", n, p.logs)
		}
		if t.Failed() {
			t.Logf("line %d log:\n%s", n, p.logs)
		}
	})
	return p
}

// kill9 kills the host abruptly and waits for it to be gone.
func (p *lineProc) kill9(t *testing.T) {
	t.Helper()
	p.killed = true
	if err := syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.exited
}

// directory reads GET /lines through the front end.
func directory(t *testing.T, addr string) ([]lines.Status, error) {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get("http://" + addr + lines.Path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s", resp.Status)
	}
	var dir []lines.Status
	err = json.NewDecoder(resp.Body).Decode(&dir)
	return dir, err
}

// awaitLines polls the directory until want(lines) holds, up to timeout.
func awaitLines(t *testing.T, addr string, timeout time.Duration, what string, want func([]lines.Status) bool) []lines.Status {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		lines, err := directory(t, addr)
		if err == nil && want(lines) {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("directory never showed %s: %+v %v", what, lines, err)
		}
		time.Sleep(100 * time.Millisecond) // polling the directory, no signal to wait on
	}
}

// upLines is a predicate: exactly the lines given are listed as up.
func upLines(nums ...int) func([]lines.Status) bool {
	return func(lines []lines.Status) bool {
		up := map[int]bool{}
		for _, l := range lines {
			if l.Up {
				up[l.Line] = true
			}
		}
		if len(up) != len(nums) {
			return false
		}
		for _, n := range nums {
			if !up[n] {
				return false
			}
		}
		return true
	}
}

// dialClient runs "m2bbs client -dial" with input and returns its output
// and error.
func dialClient(t *testing.T, addr, input string) (string, error) {
	t.Helper()
	h, p, _ := strings.Cut(addr, ":")
	cmd := exec.Command(os.Args[0], "client", "-dial", "-timeout", "10s", h, p)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// startLinesMongrel2 starts a real Mongrel2 configured as "m2bbs m2conf
// -lines n" does (line 1 and @bbs on the main handler, lines 2..n and the
// directory on handlers of their own, WebSocket routes, the web root), on
// free ports, stopped when the test ends.
func startLinesMongrel2(t *testing.T, n int) *mongrel2.Server {
	t.Helper()
	if err := mongrel2.Available(); err != nil {
		t.Fatalf("%v (make deps installs it)", err)
	}
	cfg := linesConfig(mongrel2.Config{Dir: t.TempDir()}, n)
	cfg.SendSpec, cfg.RecvSpec = "", ""
	for i := range cfg.Handlers {
		cfg.Handlers[i].SendSpec, cfg.Handlers[i].RecvSpec = "", ""
	}
	return startMongrel2Config(t, cfg)
}

// startMongrel2Config starts a real Mongrel2 with cfg, stopped when the
// test ends.
func startMongrel2Config(t *testing.T, cfg mongrel2.Config) *mongrel2.Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	server, err := mongrel2.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := server.Stop(); err != nil {
			t.Error(err)
		}
	})
	return server
}

// TestPhoneLinesBehindMongrel2 runs two lines of capacity 1 behind a real
// Mongrel2, sharing one database: the directory, the busy signal, dialing,
// who's online and paging across lines, a line going down and coming back.
func TestPhoneLinesBehindMongrel2(t *testing.T) {
	server := startLinesMongrel2(t, 2)
	db := filepath.Join(t.TempDir(), "bbs.db")
	line1 := startLine(t, server, db, 1, "-max-callers", "1")
	line2 := startLine(t, server, db, 2, "-max-callers", "1")
	addr := server.Addr()
	dir := awaitLines(t, addr, 20*time.Second, "lines 1 and 2 up", upLines(1, 2))
	if dir[0].Route != "@bbs.1" || dir[1].Route != "@bbs.2" || dir[0].Capacity != 1 {
		t.Errorf("directory: %+v", dir)
	}

	call := func(route string) *classic.Client {
		t.Helper()
		c, err := classic.Dial(t.Context(), addr, route, false)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.Connect(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	ann := call("@bbs.1")
	if out := arrive(t, ann, "ann", "pw", "pw", "y"); !strings.Contains(out, "MAIN MENU") {
		t.Fatalf("ann on line 1:\n%s", out)
	}
	// Line 1 is full: the next caller there hears the busy signal.
	if m, err := call("@bbs.1").Next(readTimeout); err != nil || m.Type != message.TypeExit || !strings.Contains(m.Msg, "busy") {
		t.Errorf("second caller on line 1 got %+v, %v; want the busy exit", m, err)
	}
	// Dialing finds line 2; who's online lists both lines; a page crosses
	// from line 2's host to ann on line 1.
	out, err := dialClient(t, addr, "bob\npw\npw\ny\n5\n8\nann\nhi there\n")
	if err != nil || !strings.Contains(out, "Dialing line 2") || strings.Contains(out, "Line 2: BUSY") {
		t.Fatalf("m2bbs client -dial (%v):\n%s", err, out)
	}
	if strings.Contains(out, "Dialing line 1") && !strings.Contains(out, "Line 1: BUSY") {
		t.Errorf("line 1 should have been busy:\n%s", out)
	}
	if !strings.Contains(out, "Online now:\n  ann\n  bob\n") || !strings.Contains(out, "Paged.") {
		t.Errorf("who's online / paging across lines:\n%s", out)
	}
	if m, err := ann.Next(readTimeout); err != nil || m.Msg != "Page from bob: hi there" {
		t.Errorf("ann got %+v, %v; want bob's page from line 2", m, err)
	}

	// Both lines full: dialing gives up after two busy signals. (Bob's
	// call on line 2 must have ended first: the client hangs up at the
	// end of its input, and the line hears of it a moment later.)
	// The session logs the hang-up before the line lets go of its seat,
	// and the directory shows it once it has.
	line2.logs.WaitFor(t, readTimeout, "caller hung up", "user=bob")
	awaitLines(t, addr, readTimeout, "line 2 empty", func(ls []lines.Status) bool {
		for _, l := range ls {
			if l.Line == 2 {
				return l.Online == 0
			}
		}
		return false
	})
	carol := call("@bbs.2")
	if out := arrive(t, carol, "carol", "pw", "pw", "y"); !strings.Contains(out, "MAIN MENU") {
		t.Fatalf("carol on line 2:\n%s", out)
	}
	out, err = dialClient(t, addr, "")
	if err == nil || !strings.Contains(out, "Line 1: BUSY") || !strings.Contains(out, "Line 2: BUSY") ||
		!strings.Contains(out, "All 2 lines are busy") {
		t.Errorf("dialing two full lines (%v):\n%s", err, out)
	}

	// Line 1's host dies: ann is told to hold on (her call is journaled),
	// the directory shows line 1 down, carol on line 2 plays on.
	line1.kill9(t)
	m, err := ann.Next(15 * time.Second)
	if err != nil || m.Type != message.TypeScreen || m.Msg != lines.HoldText(1) {
		t.Fatalf("ann after line 1 died got %+v, %v", m, err)
	}
	awaitLines(t, addr, 10*time.Second, "only line 2 up", upLines(2))
	if out := visit(t, carol, "5"); !strings.Contains(out, "Online now:\n  carol\n") || strings.Contains(out, "ann") {
		t.Errorf("carol's who's online after line 1 died:\n%s", out)
	}

	// Restarted, line 1 is back: ann goes on where she was (replayed), and
	// the line, full again with her, gives the next caller the busy signal.
	startLine(t, server, db, 1, "-max-callers", "1")
	awaitLines(t, addr, 20*time.Second, "lines 1 and 2 up again", upLines(1, 2))
	if out := visit(t, ann, "5"); !strings.Contains(out, "Online now:\n  ann\n  carol\n") {
		t.Errorf("ann after line 1 came back:\n%s", out)
	}
	dan := call("@bbs.1")
	if m, err := dan.Next(readTimeout); err != nil || m.Type != message.TypeExit {
		t.Errorf("caller on the restarted line 1, full with ann again, got %+v, %v", m, err)
	}
}

// TestLineDownWithoutJournals: with -no-journal, a line's callers cannot
// outlive its host: a surviving host tells them the line went down and
// hangs up on them.
func TestLineDownWithoutJournals(t *testing.T) {
	server := startLinesMongrel2(t, 2)
	db := filepath.Join(t.TempDir(), "bbs.db")
	line1 := startLine(t, server, db, 1, "-no-journal")
	startLine(t, server, db, 2, "-no-journal")
	addr := server.Addr()
	awaitLines(t, addr, 10*time.Second, "lines 1 and 2 up", upLines(1, 2))
	ann, err := classic.Dial(t.Context(), addr, lines.Route(1), false)
	if err != nil {
		t.Fatal(err)
	}
	defer ann.Close()
	if err := ann.Connect(); err != nil {
		t.Fatal(err)
	}
	arrive(t, ann, "ann", "pw", "pw", "y")
	line1.kill9(t)
	m, err := ann.Next(15 * time.Second)
	if err != nil || m.Type != message.TypeExit || m.Msg != lines.DownText(1) {
		t.Fatalf("ann after line 1 died got %+v, %v", m, err)
	}
	if m, err := ann.Next(readTimeout); err == nil {
		t.Errorf("ann not hung up on: got %+v", m)
	}
}

// TestRunLinesBuiltIn runs "m2bbs run -lines 2": the built-in front end and
// two line hosts in one process, with the directory and who's online
// across the lines.
func TestRunLinesBuiltIn(t *testing.T) {
	port, err := mongrel2.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	logs := startM2BBS(t, "run", "-lines", "2", "-port", fmt.Sprint(port), "-data", t.TempDir(),
		"-db", filepath.Join(t.TempDir(), "bbs.db"), "-scripts", "../../scripts", "-screens", "../../screens",
		"-main", e2eMain(t), "-bcrypt-cost", "4", "-rate", "1000", "-burst", "1000", "-max-callers", "1")
	logs.WaitFor(t, 30*time.Second, "m2bbs is ready")
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	awaitLines(t, addr, 10*time.Second, "lines 1 and 2 up", upLines(1, 2))
	b := &bbs{addr: addr, logs: logs}
	ann := b.call(t) // @bbs is line 1
	arrive(t, ann, "ann", "pw", "pw", "y")
	out, err := dialClient(t, addr, "bob\npw\npw\ny\n5\n")
	if err != nil || !strings.Contains(out, "Dialing line 2") || !strings.Contains(out, "Online now:\n  ann\n  bob\n") {
		t.Errorf("dialing the built-in lines (%v):\n%s", err, out)
	}
}

// dialed is a caller who got in through the directory.
type dialed struct {
	name string
	line int
	c    *classic.Client
}

// dialIn dials through the directory as name and logs in as a new user,
// up to the main menu; ok is false if every line was busy, with what the
// dialer printed.
func dialIn(t *testing.T, addr, name string) (d dialed, ok bool, out string) {
	t.Helper()
	h, p, _ := strings.Cut(addr, ":")
	port, _ := strconv.Atoi(p)
	var buf strings.Builder
	c, first, err := dialLines(t.Context(), clientOptions{host: h, port: port}, &buf)
	if errors.Is(err, errAllBusy) {
		return dialed{}, false, buf.String()
	}
	if err != nil {
		t.Fatalf("dialing as %s: %v\n%s", name, err, buf.String())
	}
	t.Cleanup(func() { c.Close() })
	if first.Type != message.TypePrompt {
		t.Fatalf("%s's first message: %+v", name, first)
	}
	dialing := buf.String()
	i := strings.LastIndex(dialing, "Dialing line ")
	fmt.Sscanf(dialing[i:], "Dialing line %d", &d.line)
	d.name, d.c = name, c
	if out := visit(t, c, name, "pw", "pw", "y"); !strings.Contains(out, "MAIN MENU") {
		t.Fatalf("%s on line %d:\n%s", name, d.line, out)
	}
	return d, true, dialing
}

// TestSevenCallersThreeLines is the phone-lines scenario of the issue:
// three hosts of capacity 2 behind real Mongrel2; seven callers dial in
// through the directory: six get in on distinct lines, the seventh hears
// busy on every line; a post made on line 1 is read on line 3; one host is
// killed and its callers are told while the others keep playing; a new
// caller lands on a live line.
func TestSevenCallersThreeLines(t *testing.T) {
	server := startLinesMongrel2(t, 3)
	db := filepath.Join(t.TempDir(), "bbs.db")
	hosts := map[int]*lineProc{}
	for n := 1; n <= 3; n++ {
		hosts[n] = startLine(t, server, db, n, "-max-callers", "2")
	}
	addr := server.Addr()
	awaitLines(t, addr, 20*time.Second, "lines 1 to 3 up", upLines(1, 2, 3))

	byLine := map[int][]dialed{}
	for i := range 6 {
		d, ok, out := dialIn(t, addr, fmt.Sprintf("caller%d", i))
		if !ok {
			t.Fatalf("caller%d found every line busy:\n%s", i, out)
		}
		byLine[d.line] = append(byLine[d.line], d)
	}
	for n := 1; n <= 3; n++ {
		if len(byLine[n]) != 2 {
			t.Fatalf("callers per line: %v", byLine)
		}
	}
	if _, ok, out := dialIn(t, addr, "caller6"); ok || !strings.Contains(out, "Line 1: BUSY") ||
		!strings.Contains(out, "Line 2: BUSY") || !strings.Contains(out, "Line 3: BUSY") {
		t.Fatalf("the seventh caller got in or did not hear busy everywhere (%v):\n%s", ok, out)
	}

	// One board across lines: posted on line 1, read on line 3.
	poster, reader := byLine[1][0], byLine[3][0]
	if out := visit(t, poster.c, "1", "Hello from line 1", "."); !strings.Contains(out, "Message posted.") {
		t.Fatalf("posting on line 1:\n%s", out)
	}
	if out := visit(t, reader.c, "2", "Q"); !strings.Contains(out, "From: "+poster.name+"\nHello from line 1") {
		t.Errorf("reading on line 3:\n%s", out)
	}

	// Line 2's host dies: its two callers are told to hold on; the others
	// play on.
	hosts[2].kill9(t)
	for _, d := range byLine[2] {
		m, err := d.c.Next(15 * time.Second)
		if err != nil || m.Type != message.TypeScreen || m.Msg != lines.HoldText(2) {
			t.Errorf("%s after line 2 died got %+v, %v", d.name, m, err)
		}
	}
	awaitLines(t, addr, 10*time.Second, "lines 1 and 3 up", upLines(1, 3))
	for _, d := range append(byLine[1], byLine[3]...) {
		if out := visit(t, d.c, "5"); !strings.Contains(out, "Online now:") || strings.Contains(out, byLine[2][0].name) {
			t.Errorf("%s on line %d after line 2 died:\n%s", d.name, d.line, out)
		}
	}

	// A caller on line 1 hangs up; a new caller dials in and lands there.
	leaving := byLine[1][1].c
	if err := leaving.Send("Q"); err != nil {
		t.Fatal(err)
	}
	if m, err := leaving.Next(readTimeout); err != nil || m.Type != message.TypeExit {
		t.Fatalf("quitting: %+v, %v", m, err)
	}
	// The exit comes just before the session is freed: dial until the
	// line has room, within a bound.
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, ok, out := dialIn(t, addr, "latecomer")
		if ok {
			if d.line != 1 {
				t.Errorf("the latecomer landed on line %d, want the free line 1", d.line)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no line took the latecomer:\n%s", out)
		}
	}
}

// TestM2confLinesLoads checks that "m2bbs m2conf -lines 4" prints a config
// m2sh loads: four lines, the directory and the static web root.
func TestM2confLinesLoads(t *testing.T) {
	cmd := exec.Command(os.Args[0], "m2conf", "-lines", "4")
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	conf, err := cmd.Output()
	if err != nil {
		t.Fatalf("m2bbs m2conf -lines 4: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "m2.conf"), conf, 0o644); err != nil {
		t.Fatal(err)
	}
	load := exec.Command("m2sh", "load", "-config", "m2.conf", "-db", "config.sqlite")
	load.Dir = dir
	if out, err := load.CombinedOutput(); err != nil {
		t.Fatalf("m2sh load: %v\n%s\n%s", err, out, conf)
	}
	query := exec.Command("sqlite3", "config.sqlite",
		"SELECT path FROM route ORDER BY path; SELECT count(*) FROM handler; SELECT base FROM directory;")
	query.Dir = dir
	out, err := query.Output()
	if err != nil {
		t.Fatalf("sqlite3: %v", err)
	}
	want := "/\n/files/\n/lines\n/status\n/ws()$\n/ws/1()$\n/ws/2()$\n/ws/3()$\n/ws/4()$\n@bbs\n@bbs.1\n@bbs.2\n@bbs.3\n@bbs.4\n5\nweb/\n"
	if string(out) != want {
		t.Errorf("loaded config:\n%s\nwant:\n%s", out, want)
	}
}
