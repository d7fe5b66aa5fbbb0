package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/dispatch"
)

// TestHibernatedCallersThroughTheFrontEnd: callers idle at the main menu
// behind the built-in front end give up their coroutines (the status page
// counts them asleep and still lists them online); a line wakes a caller
// where they stood, and who's online names everyone, asleep or not.
func TestHibernatedCallersThroughTheFrontEnd(t *testing.T) {
	b := startBBS(t, viaBuiltIn, "", "-hibernate-after", "100ms")
	ann := b.call(t)
	arrive(t, ann, "ann", "pw", "pw", "y")
	for _, name := range []string{"bob", "cy"} {
		arrive(t, b.call(t), name, "pw", "pw", "y")
	}
	st := b.awaitAsleep(t, 3)
	if len(st.Online) != 3 {
		t.Fatalf("status page lists %d callers online, want 3 (asleep): %+v", len(st.Online), st.Online)
	}
	for _, c := range st.Online {
		if c.Showing != "Q. Quit the BBS." {
			t.Errorf("asleep %s shows %q, want the main menu's last line", c.User, c.Showing)
		}
	}
	cmd := exec.Command(os.Args[0], "status", "-addr", "http://"+b.addr)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	if out, err := cmd.CombinedOutput(); err != nil || !regexp.MustCompile(`(?m)^hibernated +3 asleep now`).Match(out) {
		t.Errorf("m2bbs status (%v) says:\n%s", err, out)
	}

	out := visit(t, ann, "5")
	for _, want := range []string{"Online now:", "ann", "bob", "cy", "MAIN MENU"} {
		if !strings.Contains(out, want) {
			t.Fatalf("woken caller saw no %q:\n%s", want, out)
		}
	}
	if st := b.status(t); st.Sessions.Woken < 1 || st.Sessions.Active != 3 {
		t.Fatalf("after the wake-up: %+v", st.Sessions)
	}
	if out := leave(t, ann, "Q"); !strings.Contains(out, "see ya") {
		t.Fatalf("woken caller could not quit:\n%s", out)
	}
}

// awaitAsleep waits until n callers are hibernated and returns the status
// then, asking the status page again and again as quiet does (it is the
// only signal).
func (b *bbs) awaitAsleep(t *testing.T, n int64) dispatch.Status {
	t.Helper()
	deadline := time.Now().Add(readTimeout)
	for {
		st := b.status(t)
		if st.Sessions.Asleep >= n {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d callers asleep, want %d: %+v", st.Sessions.Asleep, n, st.Sessions)
		}
	}
}
