package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/cmd/internal/proctest"
	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/handler/lines"
	"github.com/m2bbs/m2bbs/host/handler/nativedoor"
	"github.com/m2bbs/m2bbs/host/handler/nativedoor/doortest"
	"github.com/m2bbs/m2bbs/host/shared/freeport"
	"github.com/m2bbs/m2bbs/host/shared/termprofile"
)

// nativeDoorsScripts is the shipped board with three native doors on its
// Doors menu: 1 Native Echo, 2 Flood, 4 Never Ends, 5 Socket Echo (3 is
// Guess the Number).
func nativeDoorsScripts(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "scripts")
	if out, err := exec.Command("cp", "-r", "../../scripts", dir).CombinedOutput(); err != nil {
		t.Fatalf("copy scripts: %v\n%s", err, out)
	}
	door := doortest.Build(t)
	for file, decl := range map[string]string{
		"echo":  `name = 'Native Echo', description = 'reads its drop files', command = {%q, 'echo'}, dropfile = {'door32.sys', 'door.sys'}`,
		"flood": `name = 'Flood', description = 'writes without end', command = {%q, 'flood'}`,
		"hang":  `name = 'Never Ends', description = 'never exits', command = {%q, 'hang'}, time_limit = 0.05`,
		"sock":  `name = 'Socket Echo', description = 'DOOR32 on fd 3', command = {%q, 'socket'}, io = 'socket', dropfile = 'door32.sys'`,
	} {
		src := "return require('door').external{" + fmt.Sprintf(decl, door) + "}\n"
		if err := os.WriteFile(filepath.Join(dir, "doors", file+".lua"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// freePorts picks n free ports, no two the same.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports, err := freeport.PickN(n)
	if err != nil {
		t.Fatal(err)
	}
	return ports
}

// startDoorBBS starts "m2bbs run" with telnet and SSH and the native
// doors, and returns its log and the telnet, SSH and board ports.
func startDoorBBS(t *testing.T) (logs *proctest.Log, telnetPort, sshPort, port int) {
	t.Helper()
	ports := freePorts(t, 3)
	dir := t.TempDir()
	logs = startM2BBS(t, "run", "-port", fmt.Sprint(ports[2]), "-telnet-port", fmt.Sprint(ports[0]), "-ssh-port", fmt.Sprint(ports[1]),
		"-web-port", "-1", "-data", dir, "-db", filepath.Join(dir, "bbs.db"), "-scripts", nativeDoorsScripts(t), "-screens", "../../screens",
		"-bcrypt-cost", "4")
	logs.WaitFor(t, 30*time.Second, "m2bbs is ready")
	logs.WaitFor(t, readTimeout, "ssh listening")
	return logs, ports[0], ports[1], ports[2]
}

// expectTools returns the paths of telnet, ssh and expect, or skips.
func expectTools(t *testing.T) (telnet, ssh, expect string) {
	t.Helper()
	var errs []error
	for _, p := range []*string{&telnet, &ssh, &expect} {
		name := map[*string]string{&telnet: "telnet", &ssh: "ssh", &expect: "expect"}[p]
		path, err := exec.LookPath(name)
		*p = path
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("telnet, ssh or expect missing (make deps installs them): %v", errs)
		}
		t.Skip("telnet, ssh or expect missing (make deps installs them)")
	}
	return telnet, ssh, expect
}

// expectPrelude defines step N PATTERN (wait for the pattern, or exit
// with N) and register NAME [PASS]: a new caller signs up and stands at
// the main menu.
const expectPrelude = `
proc step {n pattern} {
	expect {
		timeout { puts "\nEXPECT TIMEOUT at step $n"; exit $n }
		eof { puts "\nEXPECT EOF at step $n"; exit $n }
		-ex $pattern
	}
}
proc register {name {pass hunter22}} {
	step 2 "What's your name?"
	step 3 "> "
	send "$name\r"
	step 4 "password?"
	step 5 "> "
	send "$pass\r"
	step 6 "register:"
	step 7 "> "
	send "$pass\r"
	step 8 "(Y/n)"
	step 9 "> "
	send "y\r"
	step 10 "Quit the BBS."
	step 11 "> "
}
`

// doorExpect is what the door tests' expect scripts start with: their
// window and expectPrelude.
const doorExpect = `
set timeout 15
set stty_init "rows 40 cols 100"
` + expectPrelude

// runDoorExpect runs a door test's expect script and returns the screen
// it saw.
func runDoorExpect(t *testing.T, ctx context.Context, expectProg, script string) (string, error) {
	t.Helper()
	return expectRun(t, ctx, expectProg, doorExpect+script)
}

// expectRun runs the expect program text as TERM=xterm and returns the
// screen it saw, without CRs.
func expectRun(t *testing.T, ctx context.Context, expectProg, text string) (string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "call.exp")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, expectProg, path)
	cmd.Env = append(os.Environ(), "TERM=xterm")
	out, err := cmd.CombinedOutput()
	return strings.ReplaceAll(string(out), "\r", ""), err
}

// mustExpect runs an expect script (a minute at most) and fails with the
// screen it saw unless the script succeeded; it returns the screen.
func mustExpect(t *testing.T, expectProg, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	screen, err := runDoorExpect(t, ctx, expectProg, script)
	if err != nil {
		t.Fatalf("expect: %v; the screen:\n%s", err, screen)
	}
	return screen
}

// doorStarted waits for the log line of door's start and returns its
// process group.
func doorStarted(t *testing.T, logs *proctest.Log, user, door string) int {
	t.Helper()
	attr := "door=" + door // slog quotes a value with spaces
	if strings.Contains(door, " ") {
		attr = "door=" + strconv.Quote(door)
	}
	line := logs.WaitFor(t, readTimeout, "door started", "user="+user, attr)
	m := regexp.MustCompile(`pgid=(\d+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no pgid in %q", line)
	}
	pgid, _ := strconv.Atoi(m[1])
	return pgid
}

// waitGroupGone fails unless every process of group pgid dies within
// timeout.
func waitGroupGone(t *testing.T, pgid int, timeout time.Duration, why string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for len(nativedoor.Alive(pgid)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%s: the door's process group %d still has %v", why, pgid, nativedoor.Alive(pgid))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNativeDoorOverTelnetAndSSH: a caller on telnet, then one on SSH
// (OpenSSH's ssh), both driven by expect, play a native door from the
// Doors menu: it reads their DOOR32.SYS and DOOR.SYS and greets them by
// name with their time left and node, takes their keys one at a time, and
// exits back to the menu; nothing of it is left running.
func TestNativeDoorOverTelnetAndSSH(t *testing.T) {
	telnetProg, sshProg, expectProg := expectTools(t)
	logs, telnetPort, sshPort, _ := startDoorBBS(t)
	play := `
send "D\r"
step 12 "Door? "
send "1\r"
step 13 "DOOR32.SYS: Hello NAME, 30 minutes left on node 1."
step 14 "DOOR.SYS: Hello NAME, 30 minutes left on node 1."
step 15 "Q quits."
send "x"
step 16 "key 'x'"
send "\r"
step 17 "key '\\r'"
send "q"
step 18 "Bye!"
step 19 "Door? "
send "Q\r"
step 20 "Quit the BBS."
step 21 "> "
send "Q\r"
step 22 "see ya later"
expect {
	timeout { puts "\nEXPECT TIMEOUT at the end"; exit 23 }
	eof
}
`
	for _, c := range []struct{ name, spawn string }{
		{"tess", fmt.Sprintf("%s 127.0.0.1 %d", telnetProg, telnetPort)},
		{"sven", fmt.Sprintf("%s -p %d -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o PubkeyAuthentication=no -o LogLevel=ERROR new@127.0.0.1", sshProg, sshPort)},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
		screen, err := runDoorExpect(t, ctx, expectProg, "spawn -noecho "+c.spawn+"\nregister "+c.name+"\n"+strings.ReplaceAll(play, "NAME", c.name))
		cancel()
		if err != nil {
			t.Fatalf("%s: expect: %v; the screen:\n%s", c.name, err, screen)
		}
		if strings.Contains(screen, "x\nkey") {
			t.Errorf("%s: the key was echoed besides the door's answer:\n%s", c.name, screen)
		}
		pgid := doorStarted(t, logs, c.name, "Native Echo")
		logs.WaitFor(t, readTimeout, "door ended", "user="+c.name, "why=exited")
		waitGroupGone(t, pgid, 5*time.Second, c.name+" after the door exited")
	}
}

// TestNativeDoorKilledAtItsTimeLimitAndAtHangUp: a door that never exits
// (and ignores SIGHUP, with a child) is killed, child and all, when its
// time is up, and the caller is back at the Doors menu; a caller who
// hangs up in it leaves nothing running either.
func TestNativeDoorKilledAtItsTimeLimitAndAtHangUp(t *testing.T) {
	telnetProg, _, expectProg := expectTools(t)
	logs, telnetPort, _, _ := startDoorBBS(t)
	mustExpect(t, expectProg, fmt.Sprintf(`spawn -noecho %s 127.0.0.1 %d
register tina
send "D\r"
step 12 "Door? "
send "4\r"
step 13 "hanging, child"
step 14 "Your time in Never Ends is up."
step 15 "Door? "
send "4\r"
step 16 "hanging, child"
exit 0
`, telnetProg, telnetPort))
	first := doorStarted(t, logs, "tina", "Never Ends")
	logs.WaitFor(t, readTimeout, "door ended", "user=tina", `why="time limit"`)
	waitGroupGone(t, first, 5*time.Second, "at the time limit")
	// The second run: expect exited, telnet with it: the caller hung up.
	logs.WaitFor(t, readTimeout, "door ended", "user=tina", `why="hung up"`)
	if n := logs.Count("door started", "user=tina"); n != 2 {
		t.Fatalf("%d doors started, want 2", n)
	}
	second := regexp.MustCompile(`pgid=(\d+)`).FindAllStringSubmatch(logs.String(), -1)
	pgid, _ := strconv.Atoi(second[len(second)-1][1])
	waitGroupGone(t, pgid, 5*time.Second, "at the hang-up")
}

// TestAFloodingDoorSlowsNoOtherCaller: while a telnet caller sits in a
// door that writes without end (and reads it all), a second caller's
// menu answers within a second every time; the door's output reaches its
// caller at its output rate; when that caller hangs up the door goes.
func TestAFloodingDoorSlowsNoOtherCaller(t *testing.T) {
	telnetProg, _, expectProg := expectTools(t)
	logs, telnetPort, _, port := startDoorBBS(t)
	flowing := filepath.Join(t.TempDir(), "flowing")
	ctx, hangUp := context.WithCancel(t.Context())
	defer hangUp()
	flood := make(chan string, 1)
	go func() {
		screen, err := runDoorExpect(t, ctx, expectProg, fmt.Sprintf(`spawn -noecho %s 127.0.0.1 %d
register fred
send "D\r"
step 12 "Door? "
send "2\r"
step 13 "flood flood flood"
exec touch %s
set timeout 120
expect "never written"
`, telnetProg, telnetPort, flowing))
		flood <- fmt.Sprintf("%v\n%s", err, screen)
	}()
	select {
	case screen := <-flood:
		t.Fatalf("the flooded caller's call ended: %s", screen)
	case <-time.After(0):
	}
	pgid := doorStarted(t, logs, "fred", "Flood")
	for deadline := time.Now().Add(readTimeout); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(flowing); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the flood never reached its caller")
		}
	}

	b := &bbs{addr: fmt.Sprintf("127.0.0.1:%d", port), logs: logs}
	c := b.call(t)
	arrive(t, c, "bea", "hunter22", "hunter22", "y")
	var worst time.Duration
	pace := time.NewTicker(200 * time.Millisecond) // within the board's line rate
	defer pace.Stop()
	for n, began := 0, time.Now(); n < 10 || time.Since(began) < 3*time.Second; n++ {
		<-pace.C
		began := time.Now()
		out := visit(t, c, "Z")
		took := time.Since(began)
		worst = max(worst, took)
		if !strings.Contains(out, "Quit the BBS.") {
			t.Fatalf("the menu did not come back:\n%s", out)
		}
	}
	if worst >= time.Second {
		t.Errorf("a menu took %v while a door flooded", worst)
	}
	t.Logf("slowest menu round trip during the flood: %v", worst)
	// The classic client cannot send keystrokes: it is told, and stays at
	// the Doors menu.
	if out := visit(t, c, "D", "1"); !strings.Contains(out, "Doors need a terminal") || !strings.Contains(out, "Door? ") {
		t.Errorf("the classic caller picking a native door:\n%s", out)
	}

	hangUp()
	<-flood
	line := logs.WaitFor(t, readTimeout, "door ended", "user=fred", `why="hung up"`)
	m := regexp.MustCompile(`ran=([0-9.]+)s bytes_out=(\d+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no ran= and bytes_out= in %q", line)
	}
	ran, _ := strconv.ParseFloat(m[1], 64)
	n, _ := strconv.Atoi(m[2])
	// Paced to the output rate: a burst of one read, then the rate.
	if n < 64<<10 || float64(n) > float64(nativedoor.DefaultOutputRate)*(ran+1) {
		t.Errorf("the flood reached its caller at %d bytes in %.1fs (output rate %d a second): %s", n, ran, nativedoor.DefaultOutputRate, line)
	}
	waitGroupGone(t, pgid, 5*time.Second, "after the flooded caller hung up")
}

// TestNodesSurviveAHostRestart: behind real Mongrel2, callers hold the
// lowest free nodes, a caller who leaves frees theirs, and when the host
// is killed and started again the callers it resumes keep their nodes: a
// new caller gets the node that was free, not one of theirs.
func TestNodesSurviveAHostRestart(t *testing.T) {
	server := startLinesMongrel2(t, 1)
	db := filepath.Join(t.TempDir(), "bbs.db")
	line := startLine(t, server, db, 1)
	amy, _ := callIn(t, server, "amy", "pw", "pw", "y")
	ben, _ := callIn(t, server, "ben", "pw", "pw", "y")
	cal, _ := callIn(t, server, "cal", "pw", "pw", "y")
	if out := visit(t, cal, "5"); !strings.Contains(out, "Nodes: 1 amy, 2 ben, 3 cal\n") {
		t.Fatalf("who's online:\n%s", out)
	}
	if out := leave(t, amy, "Q"); !strings.Contains(out, "see ya") {
		t.Fatalf("amy could not quit:\n%s", out)
	}
	line.kill9(t)
	line = startLine(t, server, db, 1)
	dee, _ := callIn(t, server, "dee", "pw", "pw", "y")
	// Listed in the order they called: ben, cal (once replayed), dee.
	if out := visit(t, ben, "5"); !strings.Contains(out, "Nodes: 2 ben, 1 dee\n") {
		t.Errorf("who's online after the restart, for ben:\n%s", out)
	}
	if out := visit(t, cal, "5"); !strings.Contains(out, "Nodes: 2 ben, 3 cal, 1 dee\n") {
		t.Errorf("who's online after the restart, for cal:\n%s", out)
	}
	if out := visit(t, dee, "5"); !strings.Contains(out, "Nodes: 2 ben, 3 cal, 1 dee\n") {
		t.Errorf("who's online after the restart, for dee:\n%s", out)
	}
	line.logs.WaitFor(t, readTimeout, "session replayed from its journal")
}

// TestNativeDoorOnASocket: a DOOR32 door in socket mode finds its telnet
// caller on fd 3: it reads DOOR32.SYS (comm type 2, handle 3), greets
// them, takes their keys and exits back to the menu.
func TestNativeDoorOnASocket(t *testing.T) {
	telnetProg, _, expectProg := expectTools(t)
	logs, telnetPort, _, _ := startDoorBBS(t)
	mustExpect(t, expectProg, fmt.Sprintf(`spawn -noecho %s 127.0.0.1 %d
register suki
send "D\r"
step 12 "Door? "
send "5\r"
step 13 "DOOR32.SYS: Hello suki, 30 minutes left on node 1."
step 14 "Q quits."
send "z"
step 15 "key 'z'"
send "q"
step 16 "Bye!"
step 17 "Door? "
exit 0
`, telnetProg, telnetPort))
	pgid := doorStarted(t, logs, "suki", "Socket Echo")
	logs.WaitFor(t, readTimeout, "door ended", "user=suki", "why=exited", "exit=0")
	waitGroupGone(t, pgid, 5*time.Second, "after the socket door exited")
}

// TestNativeDoorInTheBrowser: the browser page (headless Chromium, driven
// by host/gateway/web/e2e/door.mjs) plays the native test door: greeted
// from its drop files, keys one at a time, back to the menu.
func TestNativeDoorInTheBrowser(t *testing.T) {
	webDir := needBrowser(t)
	ports := freePorts(t, 2)
	dir := t.TempDir()
	logs := startM2BBS(t, "run", "-port", fmt.Sprint(ports[0]), "-web-port", fmt.Sprint(ports[1]), "-telnet-port", "-1",
		"-data", dir, "-db", filepath.Join(dir, "bbs.db"), "-scripts", nativeDoorsScripts(t), "-screens", "../../screens",
		"-bcrypt-cost", "4")
	logs.WaitFor(t, 30*time.Second, "m2bbs is ready")
	ctx, cancel := context.WithTimeout(t.Context(), browserTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(webDir, "e2e", "door.mjs"), fmt.Sprintf("http://127.0.0.1:%d/", ports[1]), "webdee")
	cmd.Dir = webDir
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), `RESULT {"user":"webdee"}`) {
		t.Fatalf("the browser test failed (%v):\n%s", err, out)
	}
	pgid := doorStarted(t, logs, "webdee", "Native Echo")
	logs.WaitFor(t, readTimeout, "door ended", "user=webdee", "why=exited", "exit=0")
	waitGroupGone(t, pgid, 5*time.Second, "after the browser's door exited")
}

// TestNodesSurviveAnUpgrade: "m2bbs upgrade" moves the callers online
// onto the scripts as they are now; they keep their nodes, and a caller
// arriving after gets the next one.
func TestNodesSurviveAnUpgrade(t *testing.T) {
	dir := t.TempDir()
	port, err := freeport.Pick()
	if err != nil {
		t.Fatal(err)
	}
	scripts := filepath.Join(dir, "scripts")
	copyDir(t, "../../scripts", scripts)
	logs := startM2BBS(t, "run", "-port", strconv.Itoa(port), "-web-port", "-1", "-telnet-port", "-1", "-data", dir,
		"-db", filepath.Join(dir, "bbs.db"), "-scripts", scripts, "-screens", "../../screens", "-bcrypt-cost", "4")
	logs.WaitFor(t, 30*time.Second, "host ready")
	b := &bbs{addr: "127.0.0.1:" + strconv.Itoa(port), logs: logs}
	b.awaitRoute(t)
	var callers []*classic.Client
	for _, name := range []string{"ada", "bo", "cy"} {
		c := b.call(t)
		arrive(t, c, name, "pw", "pw", "y")
		callers = append(callers, c)
	}
	if out := leave(t, callers[0], "Q"); !strings.Contains(out, "see ya") {
		t.Fatalf("ada could not quit:\n%s", out)
	}
	// A new version of the scripts (a comment more), for upgrade to move
	// the callers onto.
	main := filepath.Join(scripts, "bbs.lua")
	src, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(main, append(src, "\n-- upgraded\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "upgrade", "-addr", "http://"+b.addr)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "2 callers moved, 0 lost") {
		t.Fatalf("m2bbs upgrade: %v\n%s", err, out)
	}
	dee := b.call(t)
	arrive(t, dee, "dee", "pw", "pw", "y")
	if out := visit(t, dee, "5"); !strings.Contains(out, "Nodes: 2 bo, 3 cy, 1 dee\n") {
		t.Errorf("who's online after the upgrade:\n%s", out)
	}
}

// readUntil reads c's messages until one holds want, and returns their
// text.
func readUntil(t *testing.T, c *classic.Client, want string) string {
	t.Helper()
	var seen strings.Builder
	for !strings.Contains(seen.String(), want) {
		m, err := c.Next(readTimeout)
		if err != nil {
			t.Fatalf("waiting for %q: %v; got:\n%s", want, err, seen.String())
		}
		seen.WriteString(m.Msg + "\n")
	}
	return seen.String()
}

// atTheDoors calls line 1 of server as a new caller, user, whose client
// does keystroke mode, and takes them to the Doors menu.
func atTheDoors(t *testing.T, server *mongrel2.Server, user string) *classic.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), readTimeout)
	defer cancel()
	c, err := classic.Dial(ctx, server.Addr(), lines.Route(1), false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.Terminal = func() termprofile.Profile {
		return termprofile.Profile{Type: "ansi", Width: 80, Height: 24, Encoding: termprofile.UTF8, Keys: true}
	}
	if err := c.Connect(); err != nil {
		t.Fatal(err)
	}
	arrive(t, c, user, "pw", "pw", "y")
	if err := c.Send("D"); err != nil {
		t.Fatal(err)
	}
	readUntil(t, c, "Native Echo")
	return c
}

// TestNativeDoorAcrossAHostRestart: behind real Mongrel2, a caller (one
// whose client does keystroke mode) is in a native door when the host is
// killed with SIGKILL: the door goes with it (the kernel hangs up its
// terminal), and the host started again tells the caller, at their next
// key, that the board restarted while they were in the door; they are
// back at the Doors menu.
func TestNativeDoorAcrossAHostRestart(t *testing.T) {
	server := startLinesMongrel2(t, 1)
	db := filepath.Join(t.TempDir(), "bbs.db")
	scripts := nativeDoorsScripts(t)
	line := startLine(t, server, db, 1, "-scripts", scripts)
	c := atTheDoors(t, server, "kay")
	if err := c.Send("1"); err != nil {
		t.Fatal(err)
	}
	readUntil(t, c, "Q quits.")
	pgid := doorStarted(t, line.logs, "kay", "Native Echo")
	line.kill9(t)
	waitGroupGone(t, pgid, 5*time.Second, "after the host was killed")
	line = startLine(t, server, db, 1, "-scripts", scripts)
	if err := c.Send("x"); err != nil {
		t.Fatal(err)
	}
	out := readUntil(t, c, "The board restarted while you were in Native Echo")
	out += readUntil(t, c, "Q. Back to the main menu.")
	if strings.Contains(out, "key 'x'") {
		t.Errorf("a key reached a door that is gone:\n%s", out)
	}
	line.logs.WaitFor(t, readTimeout, "session replayed from its journal")
}
