package hostile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/m2bbs/m2bbs/host/handler/dispatch"
	"github.com/m2bbs/m2bbs/host/message"
)

// TestHostilePastedMessageIsAnsweredLineByLine: a caller pastes a long
// message; the classic client sends each line as soon as the prompt for
// it comes, far faster than the rate allows. Every line gets an answer
// (past the rate, "Slow down" and the prompt again): none is left without
// a prompt for the client to wait on for ever. The bystander's menu stays
// quick meanwhile.
func TestHostilePastedMessageIsAnsweredLineByLine(t *testing.T) {
	b := startBoard(t, boardOptions{})
	by := b.bystander(t, "ann")
	paster := b.call(t, attackerIP)
	if out := paster.answer(t, "paster", bystanderPassword, bystanderPassword, "y"); !strings.Contains(out, "MAIN MENU") {
		t.Fatalf("the paster did not reach the main menu:\n%s", paster.seen.String())
	}
	if err := paster.c.Send("1"); err != nil { // leave a message
		t.Fatal(err)
	}
	if _, m, err := paster.next(); err != nil || m.Type != message.TypePrompt {
		t.Fatalf("no prompt for the message's first line: %v", err)
	}
	slowDowns := 0
	assertResponsive(t, by, func() {
		for i := 1; slowDowns < 5 && i <= 200; i++ {
			if err := paster.c.Send(fmt.Sprintf("pasted line %d", i)); err != nil {
				t.Fatal(err)
			}
			out, m, err := paster.next()
			if err != nil || m.Type != message.TypePrompt {
				t.Fatalf("pasted line %d (after %d slow-downs) got no prompt back: %v (%s)\n%s", i, slowDowns, err, m.Type, out)
			}
			if strings.Contains(out, "Slow down") {
				slowDowns++
			}
		}
	})
	if slowDowns < 5 {
		t.Fatalf("200 pasted lines were never throttled:\n%s", paster.seen.String())
	}
}

// TestHostileFloodIsStillCutOff: answering every refused line does not
// let a flooder make the board talk for ever: lines pipelined without
// waiting for prompts end with the flood screen or a hang-up, after a
// bounded number of answers, however many of them the dispatch loop
// refused before the session saw them (a loaded machine refuses most).
func TestHostileFloodIsStillCutOff(t *testing.T) {
	b := startBoard(t, boardOptions{})
	by := b.bystander(t, "ann")
	flooder := b.call(t, attackerIP)
	if out := flooder.answer(t, "flooder", bystanderPassword, bystanderPassword, "y"); !strings.Contains(out, "MAIN MENU") {
		t.Fatalf("the flooder did not reach the main menu:\n%s", flooder.seen.String())
	}
	const lines = 500
	answers := 0
	assertResponsive(t, by, func() {
		for range lines {
			if err := flooder.c.Send("?"); err != nil { // the menu again, for ever
				break // hung up on
			}
		}
		for {
			m, err := flooder.c.Next(readTimeout)
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
				return // hung up on (a reset when the board closed with the flood unread)
			}
			if err != nil {
				t.Fatalf("the flooder was never cut off (%d answers): %v", answers, err)
			}
			answers++
			if m.Type == message.TypeExit {
				if !strings.Contains(m.Msg, "too many lines too fast") {
					t.Errorf("the flooder's last message: %q", m.Msg)
				}
				return
			}
		}
	})
	// Defaults: a burst of 20 lines, then 20 refusals (each a note and the
	// prompt) before the cut-off; the script's own answers are a few
	// messages per line.
	if answers > 200 {
		t.Errorf("the flooder got %d messages for %d lines", answers, lines)
	}
}

// say sends line and returns what the caller saw up to the next prompt,
// failing the test unless a prompt comes.
func (c *caller) say(t *testing.T, line string) string {
	t.Helper()
	if err := c.c.Send(line); err != nil {
		t.Fatal(err)
	}
	out, m, err := c.next()
	if err != nil || m.Type != message.TypePrompt {
		t.Fatalf("after %q: %v (%s); the caller saw:\n%s", line, err, m.Type, c.seen.String())
	}
	return out
}

// setFileSizeLimit sets the process's RLIMIT_FSIZE (soft), as a full disk
// would: writes past that many bytes into any file fail (the Go runtime
// ignores SIGXFSZ, so the write returns EFBIG).
func setFileSizeLimit(t *testing.T, p *proc, limit uint64) {
	t.Helper()
	var old unix.Rlimit
	if err := unix.Prlimit(p.cmd.Process.Pid, unix.RLIMIT_FSIZE, nil, &old); err != nil {
		t.Skipf("prlimit: %v", err)
	}
	if err := unix.Prlimit(p.cmd.Process.Pid, unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: min(limit, old.Max), Max: old.Max}, nil); err != nil {
		t.Skipf("prlimit: %v", err)
	}
}

// status reads the board's public status page.
func (b *board) status(t *testing.T) dispatch.Status {
	t.Helper()
	resp, err := http.Get("http://" + b.addr + dispatch.StatusPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var st dispatch.Status
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatalf("status %q: %v", body, err)
	}
	return st
}

// TestHostileDiskFullPostIsToldAndStaysOnline: the database can no longer
// write (the process may not grow any file, as on a full disk). A poster
// is told their message was not saved and is back at the menu, a caller
// logging in is told plainly that the database failed, the faults are
// counted on the status page; once there is room again, posting works.
func TestHostileDiskFullPostIsToldAndStaysOnline(t *testing.T) {
	b := startBoard(t, boardOptions{})
	by := b.bystander(t, "ann")
	poster := b.call(t, attackerIP)
	if out := poster.answer(t, "poster", bystanderPassword, bystanderPassword, "y"); !strings.Contains(out, "MAIN MENU") {
		t.Fatalf("the poster did not reach the main menu:\n%s", poster.seen.String())
	}
	setFileSizeLimit(t, b.proc, 1)
	var out string
	assertResponsive(t, by, func() {
		for _, line := range []string{"1", "Is the disk full?", "."} {
			out = poster.say(t, line)
		}
	})
	if !strings.Contains(out, "Your message was not saved") || !strings.Contains(out, "MAIN MENU") {
		t.Fatalf("the poster saw:\n%s", out)
	}
	// A login records the attempt (for the login throttle) before it
	// checks the password; with no room for it the caller is told so
	// plainly instead of being let in unthrottled.
	again := b.call(t, bystanderIP)
	if _, m, err := again.next(); err != nil || m.Type != message.TypePrompt {
		t.Fatalf("no name prompt: %v", err)
	}
	again.say(t, "poster")
	if err := again.c.Send(bystanderPassword); err != nil {
		t.Fatal(err)
	}
	if out, m, err := again.next(); err != nil || m.Type != message.TypeExit || !strings.Contains(out, "Sorry: the board's database failed; try again later.") {
		t.Fatalf("logging in with a full disk: %v (%s)\n%s", err, m.Type, again.seen.String())
	}
	if st := b.status(t); st.StoreErrors < 2 {
		t.Errorf("store_errors = %d, want the post and the login at least", st.StoreErrors)
	}
	if b.proc.logs.Count("store fault") == 0 {
		t.Error("no store fault in the log")
	}
	setFileSizeLimit(t, b.proc, unix.RLIM_INFINITY)
	for _, line := range []string{"1", "There is room again.", "."} {
		out = poster.say(t, line)
	}
	if !strings.Contains(out, "Message posted") {
		t.Fatalf("posting once there is room:\n%s", poster.seen.String())
	}
}
