package hostile

import (
	"context"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/message"
)

// Takeover from the victim's own address: behind NAT, a shared machine or
// a proxy, strangers share the victim's address, so the address check
// alone must not be what keeps them out of the victim's call.

// strangerFrom dials in from ip and sends line first, as a raw client
// may; it returns what the board answered, up to its first prompt or exit.
func (b *board) strangerFrom(t *testing.T, ip, line string) string {
	t.Helper()
	c, err := classic.NewClient(dialFrom(t, ip, b.addr), "@bbs", false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Send(line); err != nil {
		t.Fatal(err)
	}
	var seen strings.Builder
	for {
		m, err := c.Next(readTimeout)
		if err != nil {
			t.Fatalf("the stranger got no prompt (%v); saw:\n%s", err, seen.String())
		}
		seen.WriteString(m.Msg + "\n")
		if m.Type == message.TypePrompt || m.Type == message.TypeExit {
			return seen.String()
		}
	}
}

// assertNoTakeoverFrom dials strangers from ip whose first line is "5"
// (who's online, at the main menu) or "connect", until the front end has
// handed out past the victim's old conn id, counted the way a restarted
// front end used to count: each must get a new call, never the victim's
// menu.
func (b *board) assertNoTakeoverFrom(t *testing.T, ip, victimID string) {
	t.Helper()
	tries := 40
	if n, err := strconv.Atoi(victimID); err == nil && n+10 < tries {
		tries = n + 10
	}
	for i := range tries {
		line := "5"
		if i%2 == 1 {
			line = "connect"
		}
		got := b.strangerFrom(t, ip, line)
		if strings.Contains(got, "Online now") || strings.Contains(got, "MAIN MENU") {
			t.Fatalf("stranger %d from %s (first line %q) landed in the victim's call:\n%s", i, ip, line, got)
		}
	}
}

// TestRestartedFrontEndGivesNoCallAwayToTheVictimsAddress: as
// TestRestartedFrontEndGivesNoCallAway, with strangers dialing from the
// victim's own address, where only the front end's incarnation tells
// them apart.
func TestRestartedFrontEndGivesNoCallAwayToTheVictimsAddress(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			// Forty strangers in a row from one address: more than the
			// accept rate one address is allowed by default.
			b := startBoard(t, boardOptions{extra: []string{"-sysop-token", takeoverToken, "-accept-rate", "-1"}})
			_, victimID := b.victimAtMenu(t)
			b.restart(t, sig)
			b.assertNoTakeoverFrom(t, bystanderIP, victimID)
		})
	}
}

// TestRebootGivesNoCallAway: behind real Mongrel2, the host is stopped,
// then Mongrel2 restarts while it is down (as after a reboot, where both
// are separate services), then the host starts again with
// -mongrel2-pidfile. It heard nothing of the restart, and the new
// Mongrel2 numbers its callers from scratch: a stranger from the victim's
// own address who gets the victim's old conn id lands at the login
// screen, not in the victim's call.
func TestRebootGivesNoCallAway(t *testing.T) {
	b := startBehindMongrel2(t, "-sysop-token", takeoverToken)
	b.args = append(b.args, "-mongrel2-pidfile", b.server.PIDFile())
	_, victimID := b.victimAtMenu(t)
	b.proc.stop(t, syscall.SIGTERM)
	if err := b.server.Stop(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	server, err := mongrel2.Start(ctx, b.server.Cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.Stop() })
	b.server = server
	b.start(t)
	b.proc.logs.WaitFor(t, readTimeout, "journals of a front end that went away dropped")
	b.assertNoTakeoverFrom(t, bystanderIP, victimID)
}
