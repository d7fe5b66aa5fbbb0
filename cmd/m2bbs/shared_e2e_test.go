package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/cmd/internal/proctest"
	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/handler/lines"
	"github.com/m2bbs/m2bbs/host/handler/live"
	"github.com/m2bbs/m2bbs/host/message"
)

// The shared module end to end: two real callers through the built-in
// front end, on a host with two workers, in the Teleconference door.

// enterRoom registers name and takes them into the Teleconference door
// (the Doors menu's third door), up to its Chat> prompt.
func enterRoom(t *testing.T, b *bbs, name string) *classic.Client {
	t.Helper()
	return enterRoomOn(t, b.call(t), name)
}

// enterRoomOn is enterRoom for a caller c who has just connected.
func enterRoomOn(t *testing.T, c *classic.Client, name string) *classic.Client {
	t.Helper()
	arrive(t, c, name, "pw", "pw", "y")
	if err := c.Send("D"); err != nil {
		t.Fatal(err)
	}
	waitPrompt(t, c, "Door? ")
	if err := c.Send("3"); err != nil {
		t.Fatal(err)
	}
	waitPrompt(t, c, "Chat> ")
	return c
}

// waitFor reads c's messages until one of type kind whose text (for a
// screen) or pchar (for a prompt) is want, and returns when it came.
func waitFor(t *testing.T, c *classic.Client, kind, want string) time.Time {
	t.Helper()
	var seen []string
	for {
		m, err := c.Next(readTimeout)
		if err != nil {
			t.Fatalf("waiting for %s %q: %v; seen %q", kind, want, err, seen)
		}
		got := m.Msg
		if m.Type == message.TypePrompt {
			got = m.PChar
		}
		if m.Type == kind && got == want {
			return time.Now()
		}
		seen = append(seen, m.Type+":"+got)
	}
}

// waitLine reads c's messages until one shows line (a line of its text:
// the Teleconference shows what others say with its next prompt) and
// returns when it came, and how many lines starting with count it read
// on the way (that one included).
func waitLine(t *testing.T, c *classic.Client, line, count string) (at time.Time, counted int) {
	t.Helper()
	return waitMatch(t, c, line, func(l string) bool { return l == line }, count, nil)
}

// waitMatch is waitLine for the first line that match accepts (want
// says which, in a failure), calling each, if set, with every message's
// text on the way.
func waitMatch(t *testing.T, c *classic.Client, want string, match func(string) bool, count string, each func(string)) (at time.Time, counted int) {
	t.Helper()
	var seen []string
	for {
		m, err := c.Next(readTimeout)
		if err != nil {
			t.Fatalf("waiting for %q: %v; seen %q", want, err, seen)
		}
		if each != nil {
			each(m.Msg)
		}
		found := false
		for _, l := range strings.Split(m.Msg, "\n") {
			found = found || match(l)
			if count != "" && strings.HasPrefix(l, count) {
				counted++
			}
		}
		if found {
			return time.Now(), counted
		}
		seen = append(seen, m.Type+":"+m.Msg)
	}
}

func waitPrompt(t *testing.T, c *classic.Client, pchar string) {
	waitFor(t, c, message.TypePrompt, pchar)
}

// workerOf is the worker serving user, as the status page says.
func workerOf(t *testing.T, b *bbs, user string) int {
	t.Helper()
	for _, c := range b.status(t).Online {
		if c.User == user {
			return c.Worker
		}
	}
	t.Fatalf("%s is not online", user)
	return 0
}

// TestChatReachesACallerOnAnotherWorker: what kim says in the room
// reaches lee, sitting at his own Chat> prompt on the other worker; the
// latency of each delivery (kim's line sent to lee's screen received) is
// logged.
func TestChatReachesACallerOnAnotherWorker(t *testing.T) {
	b := startBBS(t, viaBuiltIn, "", "-workers", "2", "-bcrypt-cost", "4", "-rate", "1000", "-burst", "1000")
	kim := enterRoom(t, b, "kim")
	lee := enterRoom(t, b, "lee")
	if wk, wl := workerOf(t, b, "kim"), workerOf(t, b, "lee"); wk == 0 || wk == wl {
		t.Fatalf("kim on worker %d, lee on worker %d: the test needs them apart", wk, wl)
	}
	waitLine(t, kim, "* lee comes in.", "")

	// Each speaks in turn, within the publishing burst.
	const rounds = 8
	var took []time.Duration
	callers := map[string]*classic.Client{"kim": kim, "lee": lee}
	for i := range rounds {
		from, to := "kim", "lee"
		if i%2 == 1 {
			from, to = to, from
		}
		line := fmt.Sprintf("line %d", i)
		sent := time.Now()
		if err := callers[from].Send(line); err != nil {
			t.Fatal(err)
		}
		got, _ := waitLine(t, callers[to], from+": "+line, "")
		took = append(took, got.Sub(sent))
		waitPrompt(t, callers[from], "Chat> ")
	}
	slices.Sort(took)
	t.Logf("a line said on one worker reached the caller at his prompt on the other: median %v, max %v (%d lines)",
		took[len(took)/2], took[len(took)-1], len(took))
	if st := b.status(t); st.Sessions.Events < rounds || st.Shared.Delivered < rounds {
		t.Errorf("the status page counts %d events resumed, %d delivered; want at least %d", st.Sessions.Events, st.Shared.Delivered, rounds)
	}
}

// floodBound is how long a caller's line may take to reach another
// while a third floods the room: the flooder's lines past the publishing
// limit reach nobody, and theirs queue on their worker behind at most
// the per-caller queue.
const floodBound = 2 * time.Second

// TestChatFloodDoesNotDelayOthers: mal and max each type hundreds of
// lines into the room as fast as the connection takes them; lee still
// gets kim's line within floodBound, is not cut off (the front end hangs
// up on a caller with more than 16 replies waiting: lee gets what others
// said in one prompt per turn), and is shown only what the publishing
// limit lets through.
func TestChatFloodDoesNotDelayOthers(t *testing.T) {
	b := startBBS(t, viaBuiltIn, "", "-workers", "2", "-bcrypt-cost", "4", "-rate", "1000", "-burst", "1000")
	kim := enterRoom(t, b, "kim")
	lee := enterRoom(t, b, "lee")
	var flooders []*classic.Client
	for _, name := range []string{"mal", "max"} {
		c := enterRoom(t, b, name)
		waitLine(t, lee, "* "+name+" comes in.", "")
		waitLine(t, kim, "* "+name+" comes in.", "")
		flooders = append(flooders, c)
	}
	const flood = 500
	floodStart := time.Now()
	for _, c := range flooders {
		floodFrom(c, flood)
	}
	// Once the flood reaches lee, kim speaks.
	_, fromFlood := waitLine(t, lee, "mal: spam 0", "ma")
	sent := time.Now()
	if err := kim.Send("are you there?"); err != nil {
		t.Fatal(err)
	}
	_, more := waitLine(t, lee, "kim: are you there?", "ma")
	fromFlood += more
	took := time.Since(sent)
	t.Logf("while mal and max flooded %d lines each, kim's line reached lee in %v; lee was shown %d of theirs by then", flood, took, fromFlood)
	if took > floodBound {
		t.Errorf("kim's line took %v to reach lee; the bound is %v", took, floodBound)
	}
	// Each flooder's burst (less his arrival), and the rate for the time
	// the flood lasted, at most.
	if limit := 2 * (9 + 5*int(time.Since(floodStart)/time.Second+1)); fromFlood > limit {
		t.Errorf("lee was shown %d of the flooders' lines; the publishing limit allows %d", fromFlood, limit)
	}
}

// floodFrom sends n lines as c as fast as the connection takes them, on
// a goroutine of its own, and reads what c is sent on another (a client
// that does not read is cut off by the front end's write queue).
func floodFrom(c *classic.Client, n int) {
	go func() {
		for {
			if _, err := c.Next(readTimeout); err != nil {
				return
			}
		}
	}()
	go func() {
		for i := range n {
			if err := c.Send(fmt.Sprintf("spam %d", i)); err != nil {
				return // hung up on at the end of the test
			}
		}
	}()
}

// startTwoLines starts "m2bbs run -lines 2" (two hosts over one
// database, the e2e board), with extra flags if given, and returns the
// front end's address and the log once both lines are up.
func startTwoLines(t *testing.T, extra ...string) (string, *proctest.Log) {
	t.Helper()
	port, err := mongrel2.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"run", "-lines", "2", "-port", fmt.Sprint(port), "-data", t.TempDir(),
		"-db", filepath.Join(t.TempDir(), "bbs.db"), "-scripts", "../../scripts", "-screens", "../../screens",
		"-main", e2eMain(t), "-bcrypt-cost", "4", "-rate", "1000", "-burst", "1000"}
	logs := startM2BBS(t, append(args, extra...)...)
	logs.WaitFor(t, 30*time.Second, "m2bbs is ready")
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	awaitLines(t, addr, 10*time.Second, "lines 1 and 2 up", upLines(1, 2))
	return addr, logs
}

// TestChatAcrossPhoneLines: kim on line 1 and lee on line 2 (m2bbs run
// -lines 2: two hosts over one database): kim's line reaches lee at his
// prompt through the database's event table, which each line polls; kim
// sees lee in the room, whispers to him, and hears him hang up.
func TestChatAcrossPhoneLines(t *testing.T) {
	addr, _ := startTwoLines(t)
	dial := func(route string) *classic.Client {
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
	kim := enterRoomOn(t, dial(lines.Route(1)), "kim")
	lee := enterRoomOn(t, dial(lines.Route(2)), "lee")
	waitLine(t, kim, "* lee comes in.", "")
	var took []time.Duration
	for i := range 4 {
		line := fmt.Sprintf("over the line %d", i)
		sent := time.Now()
		if err := kim.Send(line); err != nil {
			t.Fatal(err)
		}
		got, _ := waitLine(t, lee, "kim: "+line, "")
		took = append(took, got.Sub(sent))
		waitPrompt(t, kim, "Chat> ")
	}
	slices.Sort(took)
	t.Logf("a line said on line 1 reached the caller at his prompt on line 2: median %v, max %v (%d lines; poll every %v)",
		took[len(took)/2], took[len(took)-1], len(took), live.DefaultPollInterval)
	// The rooms across the lines: who is in, a private line, and the
	// notice when lee hangs up on line 2, which his host gives line 1.
	say(t, lee, "/who")
	waitLine(t, lee, "In lobby: kim, lee", "")
	say(t, kim, "/msg lee over the line, privately")
	waitLine(t, kim, "(to lee) over the line, privately", "")
	waitLine(t, lee, "*kim* over the line, privately", "")
	lee.Close()
	waitLine(t, kim, "* lee hangs up.", "")
	say(t, kim, "/rooms")
	waitLine(t, kim, "  lobby (1): kim", "")
}

// TestWorkersOneKeepsModuleState: an old script keeping notes in a
// module-level table. With -workers 1 (the compatibility mode) a note one
// caller adds is seen by the next; with two workers the second caller
// lands on the other Lua state and sees none: what the shared module is
// for.
func TestWorkersOneKeepsModuleState(t *testing.T) {
	main, err := filepath.Abs("testdata/module_state.lua")
	if err != nil {
		t.Fatal(err)
	}
	for workers, want := range map[string]string{"1": "Notes: from ann", "2": "Notes: "} {
		t.Run("workers="+workers, func(t *testing.T) {
			b := startBBS(t, viaBuiltIn, "", "-workers", workers, "-main", main)
			ann := b.call(t)
			waitPrompt(t, ann, "> ")
			if err := ann.Send("from ann"); err != nil {
				t.Fatal(err)
			}
			waitPrompt(t, ann, "> ")
			bob := b.call(t)
			m, err := bob.Next(readTimeout)
			if err != nil || m.Msg != want {
				t.Errorf("bob, calling after ann's note, sees %q (%v); want %q", m.Msg, err, want)
			}
		})
	}
}
