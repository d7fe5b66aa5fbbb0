package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/shared/pgtest"
)

// poster is a caller of TestNoPostLostOrDoubledByAHostKilledMidWrites who
// posts numbered messages until the host stops answering.
type poster struct {
	name      string
	c         *classic.Client
	confirmed map[string]bool // the texts whose "Message posted" they saw
	inFlight  string          // the text being posted when the host went silent
	// unsure holds each round's inFlight: posts that may or may not be
	// on the board.
	unsure map[string]bool
	next   int // the number of their next post
}

// postUntilSilent posts "NAME-i" for i = 1, 2, ... from the main menu, each
// a line then ".", until a reply does not come within wait; each confirmed
// post is signalled on posted.
func (p *poster) postUntilSilent(wait time.Duration, posted chan<- struct{}) {
	for {
		p.next++
		text := fmt.Sprintf("%s-%d", p.name, p.next)
		p.inFlight = text
		if err := p.c.Send("1"); err != nil {
			return
		}
		out, err := p.c.Run([]string{text, "."}, wait)
		if !errors.Is(err, classic.ErrOutOfLines) || !strings.Contains(out, "Message posted") {
			return
		}
		p.confirmed[text] = true
		p.inFlight = ""
		posted <- struct{}{}
	}
}

// backToTheMenu ends whatever the poster was doing after the restart: it
// answers "." to every prompt until the main menu's, and notes a post
// confirmed on the way (the one in flight, finished by that ".").
func (p *poster) backToTheMenu(t *testing.T) {
	t.Helper()
	if err := p.c.Send("."); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	err := p.c.Converse(&b, func(string) (string, error) {
		if strings.Contains(b.String(), "MAIN MENU") {
			return "", classic.ErrOutOfLines
		}
		return ".", nil
	}, readTimeout)
	if !errors.Is(err, classic.ErrOutOfLines) {
		t.Fatalf("%s did not get back to the menu (%v):\n%s", p.name, err, b.String())
	}
	if strings.Contains(b.String(), "Message posted") && p.inFlight != "" {
		p.confirmed[p.inFlight] = true
	}
	p.unsure[p.inFlight] = !p.confirmed[p.inFlight]
}

// TestNoPostLostOrDoubledByAHostKilledMidWrites: behind real Mongrel2,
// callers post messages as fast as they can (each post's journal rides in
// its own transaction) when the host is killed with SIGKILL and started
// again, three times. Every post a caller was told about is on the board
// exactly once, no post is there twice, and the only posts a caller was
// not told about are those they were making when the host died.
func TestNoPostLostOrDoubledByAHostKilledMidWrites(t *testing.T) {
	killMidWrites(t, filepath.Join(t.TempDir(), "bbs.db"))
}

// TestNoPostLostOrDoubledByAHostKilledMidWritesOnPostgreSQL is
// TestNoPostLostOrDoubledByAHostKilledMidWrites with the board on
// PostgreSQL.
func TestNoPostLostOrDoubledByAHostKilledMidWritesOnPostgreSQL(t *testing.T) {
	killMidWrites(t, pgtest.NewDatabase(t), "-data", t.TempDir())
}

// killMidWrites runs the posters on the board in db (a file or a
// PostgreSQL DSN), the host started with extra flags, and checks the
// board against what each was told.
func killMidWrites(t *testing.T, db string, extra ...string) {
	t.Helper()
	server := startLinesMongrel2(t, 1)
	line := startLine(t, server, db, 1, extra...)
	posters := make([]*poster, 6)
	for i := range posters {
		name := fmt.Sprintf("poster%d", i+1)
		c, _ := callIn(t, server, name, "pw", "pw", "y")
		posters[i] = &poster{name: name, c: c, confirmed: map[string]bool{}, unsure: map[string]bool{}}
	}
	for round := range 3 {
		posted := make(chan struct{}, 1024)
		var wg sync.WaitGroup
		for _, p := range posters {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.postUntilSilent(2*time.Second, posted)
			}()
		}
		for range 3 * len(posters) { // the posts are under way
			select {
			case <-posted:
			case <-time.After(readTimeout):
				t.Fatal("the posters did not get going")
			}
		}
		// Not a wait for anything: the kill lands at another instant of
		// the posts' round trips each round.
		time.Sleep(time.Duration(round*7) * time.Millisecond)
		line.kill9(t)
		wg.Wait()
		line = startLine(t, server, db, 1, extra...)
		for _, p := range posters {
			p.backToTheMenu(t)
		}
	}

	s, err := store.OpenReadOnly(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	n, err := s.MessageCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	onBoard := map[string]int{}
	for i := range n {
		m, err := s.MessageAt(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		onBoard[strings.Join(m.Lines, "|")]++
	}
	for text, k := range onBoard {
		if k != 1 {
			t.Errorf("%q is on the board %d times", text, k)
		}
	}
	told := 0
	for _, p := range posters {
		t.Logf("%s: %d confirmed; in flight at the kills and not confirmed: %v", p.name, len(p.confirmed), p.unsure)
		for text := range p.confirmed {
			told++
			if onBoard[text] == 0 {
				t.Errorf("%s was told %q was posted; it is not on the board", p.name, text)
			}
		}
		for text := range onBoard {
			if strings.HasPrefix(text, p.name+"-") && !p.confirmed[text] && !p.unsure[text] {
				t.Errorf("%q is on the board: %s was neither told nor making it when the host died", text, p.name)
			}
		}
	}
	t.Logf("%d posts on the board, %d of them confirmed to their posters", n, told)
}
