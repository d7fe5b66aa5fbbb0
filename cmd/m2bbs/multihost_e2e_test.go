package main

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/handler/lines"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/freeport"
	"github.com/m2bbs/m2bbs/host/shared/pgtest"
)

// freeLayout is a lines layout on 127.0.0.1 whose ports for n lines (and
// the directory) are all free now.
func freeLayout(t *testing.T, n int) lineLayout {
	t.Helper()
	for range 20 {
		base, err := freeport.Pick()
		if err != nil {
			t.Fatal(err)
		}
		if base+2*n+1 > 65535 {
			continue
		}
		free := true
		for p := base; p <= base+2*n+1 && free; p++ {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				free = false
				continue
			}
			l.Close()
		}
		if free {
			return lineLayout{host: "127.0.0.1", base: base}
		}
	}
	t.Fatal("no block of free ports for the lines")
	return lineLayout{}
}

// startLayoutMongrel2 starts a real Mongrel2 configured as "m2bbs m2conf
// -lines n -line-ports BASE" does, stopped when the test ends.
func startLayoutMongrel2(t *testing.T, n int, layout lineLayout) *mongrel2.Server {
	t.Helper()
	if err := mongrel2.Available(); err != nil {
		t.Fatalf("%v (make deps installs it)", err)
	}
	return startMongrel2Config(t, linesConfigAt(mongrel2.Config{Dir: t.TempDir()}, n, layout))
}

// layoutHost starts line n's host with its specs from layout (so it can
// adopt other lines), the board in db and its own data folder in data.
func layoutHost(t *testing.T, layout lineLayout, db, data string, n int) *lineProc {
	t.Helper()
	return startHostProc(t, n, "-line-ports", strconv.Itoa(layout.base), "-front-end-host", layout.host, "-db", db, "-data", data)
}

// TestLinesAdoptedAcrossHosts: three hosts, each its own process with its
// own data folder, serve lines 1-3 behind one real Mongrel2 over ZeroMQ
// tcp. Callers on
// different hosts see each other online, page each other and chat. Line
// 1's host is killed with SIGKILL: another host adopts the line, and ann,
// who was chatting on it, goes on there at once, her room and her post
// kept, not doubled (who's online and the room list her once, bob never
// hears her hang up). When she hangs up the adopting host lets the line
// go, and line 1's restarted host, which waited for it, serves it again.
func TestLinesAdoptedAcrossHosts(t *testing.T) {
	linesAdoptedAcrossHosts(t, filepath.Join(t.TempDir(), "bbs.db"))
}

// TestLinesAdoptedAcrossHostsPostgres is TestLinesAdoptedAcrossHosts with
// the board on PostgreSQL: the hosts share nothing on disk (each its own
// data folder), the handler locks are in the database.
func TestLinesAdoptedAcrossHostsPostgres(t *testing.T) {
	linesAdoptedAcrossHosts(t, pgtest.NewDatabase(t))
}

// linesAdoptedAcrossHosts is TestLinesAdoptedAcrossHosts on the board in
// db, each host with a data folder of its own.
func linesAdoptedAcrossHosts(t *testing.T, db string) {
	layout := freeLayout(t, 3)
	server := startLayoutMongrel2(t, 3, layout)
	data := map[int]string{}
	hosts := map[int]*lineProc{}
	for n := 1; n <= 3; n++ {
		data[n] = t.TempDir()
		hosts[n] = layoutHost(t, layout, db, data[n], n) // all three migrate a new database at once
	}
	for _, h := range hosts {
		h.logs.WaitFor(t, 30*time.Second, "host ready")
	}
	addr := server.Addr()
	awaitLines(t, addr, 20*time.Second, "lines 1-3 up", upLines(1, 2, 3))
	call := func(n int) *classic.Client { return callRoute(t, addr, lines.Route(n)) }
	ann, bob, cy := call(1), call(2), call(3)
	for i, c := range []*classic.Client{ann, bob, cy} {
		name := []string{"ann", "bob", "cy"}[i]
		if out := arrive(t, c, name, "pw", "pw", "y"); !strings.Contains(out, "MAIN MENU") {
			t.Fatalf("%s:\n%s", name, out)
		}
	}
	// Who's online and a page, across hosts. A host writes its callers'
	// rows a moment after they log in (at once, on its line's goroutine):
	// cy looks again until they are there, at most ten times.
	for try := 1; ; try++ {
		out := visit(t, cy, "5")
		if strings.Contains(out, "Online now:\n  ann\n  bob\n  cy\n") {
			break
		}
		if try == 10 {
			t.Fatalf("cy on line 3: who's online:\n%s", out)
		}
	}
	if out := visit(t, cy, "8", "ann", "hi from line 3"); !strings.Contains(out, "Paged.") {
		t.Errorf("cy pages ann:\n%s", out)
	}
	if m, err := ann.Next(readTimeout); err != nil || m.Msg != "Page from cy: hi from line 3" {
		t.Errorf("ann got %+v, %v; want cy's page from line 3", m, err)
	}
	// ann leaves a post, then ann and bob chat across hosts.
	if out := visit(t, ann, "1", "posted before the crash", "."); !strings.Contains(out, "MAIN MENU") {
		t.Fatalf("ann's post:\n%s", out)
	}
	for _, c := range []*classic.Client{ann, bob} {
		say(t, c, "C")
		waitPrompt(t, c, "Chat> ")
	}
	waitLine(t, ann, "* bob comes in.", "")
	for i := range 3 {
		line := "hello from line 2, " + strconv.Itoa(i)
		sent := time.Now()
		say(t, bob, line)
		got, _ := waitLine(t, ann, "bob: "+line, "")
		t.Logf("a chat line from line 2's host reached line 1's in %v", got.Sub(sent))
		waitPrompt(t, bob, "Chat> ")
	}

	// Line 1's host dies. Another host adopts the line: ann is told where
	// her call goes on, and goes on in the room.
	hosts[1].kill9(t)
	m, err := ann.Next(15 * time.Second)
	if err != nil || m.Type != message.TypeScreen || !strings.HasPrefix(m.Msg, "Line 1 went down. Your call goes on at line ") {
		t.Fatalf("ann after line 1's host died got %+v, %v", m, err)
	}
	by, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(m.Msg, "Line 1 went down. Your call goes on at line "), "."))
	if by != 2 && by != 3 {
		t.Fatalf("adopted by line %d", by)
	}
	t.Logf("line 1 adopted by line %d's host", by)
	noHangUp := func(msg string) {
		if strings.Contains(msg, "ann hangs up") {
			t.Errorf("ann, adopted, was announced as gone: %q", msg)
		}
	}
	say(t, ann, "still here")
	waitMatch(t, bob, "ann: still here", func(l string) bool { return l == "ann: still here" }, "", noHangUp)
	say(t, ann, "/who")
	waitLine(t, ann, "In lobby: ann, bob", "")
	visit(t, ann, "/quit")
	if out := visit(t, ann, "5"); !strings.Contains(out, "Online now:\n  ann\n  bob\n  cy\n") {
		t.Errorf("ann adopted: who's online (once each):\n%s", out)
	}
	if out := visit(t, ann, "2", "Q"); strings.Count(out, "posted before the crash") != 1 || !strings.Contains(out, "--- 1 of 1 ---") {
		t.Errorf("ann's post after the adoption (once):\n%s", out)
	}
	awaitLines(t, addr, 10*time.Second, "lines 2 and 3 up", upLines(2, 3))

	// Line 1's host comes back: it waits while the line is adopted, and
	// serves it once ann, its last caller, has hung up.
	restarted := layoutHost(t, layout, db, data[1], 1)
	restarted.logs.WaitFor(t, 30*time.Second, "line held by another host")
	say(t, ann, "Q")
	hosts[by].logs.WaitFor(t, 20*time.Second, "adopted line let go", "line=1")
	restarted.logs.WaitFor(t, 20*time.Second, "host ready")
	awaitLines(t, addr, 20*time.Second, "lines 1-3 up again", upLines(1, 2, 3))
	dee := call(1)
	if out := arrive(t, dee, "dee", "pw", "pw", "y"); !strings.Contains(out, "MAIN MENU") {
		t.Fatalf("dee on line 1, served by its own host again:\n%s", out)
	}
	restarted.logs.WaitFor(t, readTimeout, "user=dee")
}
