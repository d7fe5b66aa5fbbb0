package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/message"
)

// TestDrainKeepsLinesTypedInTheMove: callers on line 1 are writing a
// message, typing ahead (two lines unanswered at all times), while the
// sysop drains line 1 onto line 2. Every line is answered, by one line's
// host or the other, and every message is posted whole, in order: no line
// is lost in the instant of the move.
func TestDrainKeepsLinesTypedInTheMove(t *testing.T) {
	// 40 callers from one address, registering at once.
	addr, logs := startTwoLines(t, "-max-per-addr", "-1", "-accept-rate", "-1", "-logins-per-address", "1000")
	b := &bbs{addr: addr, logs: logs}
	const callers = 40
	var clients []*classic.Client
	for i := range callers {
		c := b.call(t) // @bbs is line 1
		arrive(t, c, fmt.Sprintf("typist%d", i), "pw", "pw", "y", "1")
		clients = append(clients, c)
	}

	drained := make(chan struct{})
	type typing struct {
		name  string
		lines int
		err   error
	}
	typed := make(chan typing, callers)
	for i, c := range clients {
		go func() {
			name := fmt.Sprintf("typist%d", i)
			n, err := typeAhead(c, name, drained)
			typed <- typing{name, n, err}
		}()
	}
	cmd := exec.Command(os.Args[0], "drain", "-addr", "http://"+addr, "-line", "1", "-to", "2")
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	out, err := cmd.CombinedOutput()
	close(drained)
	if err != nil || !strings.Contains(string(out), fmt.Sprintf("line 1 drained onto line 2: %d callers moved", callers)) {
		t.Errorf("m2bbs drain: %v\n%s", err, out)
	}
	typedLines := map[string]int{}
	for range callers {
		r := <-typed
		if r.err != nil {
			t.Error(r.err)
		}
		typedLines[r.name] = r.lines
	}
	if t.Failed() {
		t.Fatalf("logs:\n%s", logs)
	}
	// Every message, read back, has every line its writer typed, in order.
	board := readAll(t, clients[0], callers)
	for name, n := range typedLines {
		want := "From: " + name + "\n"
		for i := 1; i <= n; i++ {
			want += fmt.Sprintf("%s line %d\n", name, i)
		}
		if !strings.Contains(board, want) {
			t.Errorf("%s typed %d lines; the board does not show them whole:\n%s", name, n, board)
			break
		}
	}
}

// readAll reads the board's n messages on c, from the main menu, paging
// through each, and returns what the caller saw.
func readAll(t *testing.T, c *classic.Client, n int) string {
	t.Helper()
	if err := c.Send("2"); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	last := fmt.Sprintf("--- %d of %d ---", n, n)
	err := c.Converse(&seen, func(string) (string, error) {
		if strings.Contains(seen.String(), last) {
			return "", errReadAll
		}
		return "", nil // Enter: the message's next page, or the next message
	}, readTimeout)
	if !errors.Is(err, errReadAll) {
		t.Fatalf("reading the board: %v\n%s", err, seen.String())
	}
	return seen.String()
}

// errReadAll ends readAll's conversation at the last message.
var errReadAll = errors.New("the last message is shown")

// maxTyped keeps typeAhead's messages within the shipped board's 24 lines
// (a drain takes some tens of milliseconds: a few lines a caller).
const maxTyped = 20

// typeAhead types the lines of a message, "name line 1", "name line 2"...,
// keeping two unanswered at all times (the next is typed as an answer, a
// prompt, comes), until drained is closed or maxTyped lines are typed, and
// the lines typed have been answered; then it ends the message. It returns
// how many lines it typed, or an error naming a line never answered.
func typeAhead(c *classic.Client, name string, drained <-chan struct{}) (int, error) {
	typed, answered, last := 0, 0, -1
	send := func() error {
		typed++
		return c.Send(fmt.Sprintf("%s line %d", name, typed))
	}
	for range 2 {
		if err := send(); err != nil {
			return typed, err
		}
	}
	for last < 0 || answered < last {
		m, err := c.Next(readTimeout)
		if err != nil {
			return typed, fmt.Errorf("%s: line %d of %d was never answered: %w", name, answered+1, typed, err)
		}
		if m.Type != message.TypePrompt {
			continue
		}
		answered++
		if last < 0 {
			select {
			case <-drained:
				last = typed
			default:
				if typed == maxTyped {
					last = typed
				} else if err := send(); err != nil {
					return typed, err
				}
			}
		}
	}
	if err := c.Send("."); err != nil {
		return typed, err
	}
	for {
		m, err := c.Next(readTimeout)
		if err != nil {
			return typed, fmt.Errorf("%s: the message's end was never answered: %w", name, err)
		}
		if m.Type == message.TypePrompt {
			return typed, nil
		}
	}
}

// sysopDrain runs "m2bbs drain -line line -to to" and returns its output
// and how long it took.
func sysopDrain(t *testing.T, addr string, line, to int) (string, time.Duration, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "drain", "-addr", "http://"+addr, "-line", strconv.Itoa(line), "-to", strconv.Itoa(to))
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	return string(out), time.Since(start), err
}

// TestDrainOfADrainedLineIsQuick: once line 1 has been drained onto line
// 2, its routes (@bbs, @bbs.1, /status, /lines) lead to line 2's handler.
// The sysop drains line 1 again (by mistake, or onto line 2 twice): it
// moves nobody and holds nothing, at once. (It once compared line 1's
// host's intake with what line 2's handler was sent, and held line 2's
// routes for 5 s.)
func TestDrainOfADrainedLineIsQuick(t *testing.T) {
	addr, logs := startTwoLines(t)
	b := &bbs{addr: addr, logs: logs}
	if out, _, err := sysopDrain(t, b.addr, 1, 2); err != nil || !strings.Contains(out, "line 1 drained onto line 2") {
		t.Fatalf("first drain: %v\n%s", err, out)
	}
	for range 40 { // traffic on line 2's handler since: more than line 1's host ever took
		if _, err := directory(t, b.addr); err != nil {
			t.Fatal(err)
		}
	}
	out, took, err := sysopDrain(t, b.addr, 1, 2)
	if err != nil || !strings.Contains(out, "line 1 drained onto line 2: 0 callers moved") {
		t.Errorf("second drain: %v\n%s", err, out)
	}
	if took > 2*time.Second {
		t.Errorf("the second drain of line 1 took %v", took.Round(100*time.Millisecond))
	}
}

// TestDrainBackLeavesEveryoneOnOneLine: ivy calls line 1 and jon line 2;
// the sysop drains line 1 onto line 2, then line 2 back onto line 1. Every
// route line 2 served (its own and line 1's) goes to line 1, both callers
// are online once, on line 1, and none on line 2.
func TestDrainBackLeavesEveryoneOnOneLine(t *testing.T) {
	addr, logs := startTwoLines(t)
	b := &bbs{addr: addr, logs: logs}
	ivy := b.call(t) // @bbs is line 1
	arrive(t, ivy, "ivy", "pw", "pw", "y")
	jon := callRoute(t, b.addr, "@bbs.2")
	arrive(t, jon, "jon", "pw", "pw", "y")

	if out, _, err := sysopDrain(t, b.addr, 1, 2); err != nil || !strings.Contains(out, "line 1 drained onto line 2: 1 callers moved") {
		t.Fatalf("drain 1 -> 2: %v\n%s", err, out)
	}
	if out, _, err := sysopDrain(t, b.addr, 2, 1); err != nil || !strings.Contains(out, "line 2 drained onto line 1: 2 callers moved") {
		t.Fatalf("drain 2 -> 1: %v\n%s", err, out)
	}
	if got := visit(t, ivy, "5"); !strings.Contains(got, "Online now:") {
		t.Fatalf("ivy's who's online after the drains:\n%s", got)
	}
	got := visit(t, jon, "5")
	if n := strings.Count(got, "  ivy\n"); n != 1 {
		t.Errorf("who's online after line 1 went to line 2 and back lists ivy %d times:\n%s", n, got)
	}
	// The directory's counts follow the lines' heartbeats, of which
	// nothing signals: polled.
	var online string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var counts []string
		for _, l := range awaitLines(t, b.addr, 10*time.Second, "both lines", upLines(1, 2)) {
			counts = append(counts, fmt.Sprintf("line %d: %d", l.Line, l.Online))
		}
		if online = strings.Join(counts, ", "); online == "line 1: 2, line 2: 0" {
			break
		}
	}
	if online != "line 1: 2, line 2: 0" {
		t.Errorf("the lines directory after draining line 2 onto line 1 shows %s online; want both callers on line 1, none on line 2", online)
	}
}
