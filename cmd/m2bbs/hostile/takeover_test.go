package hostile

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/handler/dispatch"
	"github.com/m2bbs/m2bbs/host/message"
)

// Session takeover: a caller must never land in a call that was someone
// else's, however the front end numbers its connections after a restart.

// takeoverToken is the sysop token of the boards here: the tests read the
// victim's conn id from the status page with it.
const takeoverToken = "takeover-test-token"

// sysopConnIDs returns the conn ids of the callers online, as the sysop's
// status page lists them.
func (b *board) sysopConnIDs(t *testing.T) []string {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+b.addr+dispatch.StatusPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+takeoverToken)
	resp, err := (&http.Client{Timeout: readTimeout}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st dispatch.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range st.Online {
		ids = append(ids, c.ConnID)
	}
	return ids
}

// victimAtMenu logs a caller in and returns them with their conn id.
func (b *board) victimAtMenu(t *testing.T) (*caller, string) {
	t.Helper()
	v := b.bystander(t, "victim")
	ids := b.sysopConnIDs(t)
	if len(ids) != 1 {
		t.Fatalf("callers online: %v, want the victim alone", ids)
	}
	return v, ids[0]
}

// assertNoTakeover dials strangers from the attacker's address: see
// assertNoTakeoverFrom.
func (b *board) assertNoTakeover(t *testing.T, victimID string) {
	t.Helper()
	b.assertNoTakeoverFrom(t, attackerIP, victimID)
}

// TestRestartedFrontEndGivesNoCallAway: the built-in front end is stopped
// (Ctrl-C, or killed) and started again on the same data while a sysop
// was logged in; strangers who dial in, sending a menu key or "connect"
// first, get a new call at the login screen, never the sysop's menu.
func TestRestartedFrontEndGivesNoCallAway(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			// The harness polls the status page from 127.0.0.1 as fast as it
			// can while the board restarts: more than the accept rate one
			// address is allowed by default.
			b := startBoard(t, boardOptions{extra: []string{"-sysop-token", takeoverToken, "-accept-rate", "-1"}})
			_, victimID := b.victimAtMenu(t)
			b.restart(t, sig)
			b.assertNoTakeover(t, victimID)
		})
	}
}

// TestRestartedMongrel2GivesNoCallAway: behind real Mongrel2, Mongrel2 is
// restarted while a sysop is logged in (its connections die with it) and
// the host keeps running: a stranger who gets the sysop's old conn id
// from the new Mongrel2 lands at the login screen.
func TestRestartedMongrel2GivesNoCallAway(t *testing.T) {
	b := startBehindMongrel2(t, "-sysop-token", takeoverToken)
	_, victimID := b.victimAtMenu(t)
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
	// The strangers are the new Mongrel2's first connections (it numbers
	// them from scratch), so one of them gets the victim's old conn id.
	b.assertNoTakeover(t, victimID)
}

// TestLinesTypedWhileTheHostRestartsAreAnswered: behind real Mongrel2,
// callers at the main menu type a line each just as the host is asked to
// stop (Ctrl-C); once a host serves the handler again, every one of them
// has had an answer (the menu again), none waits for ever.
func TestLinesTypedWhileTheHostRestartsAreAnswered(t *testing.T) {
	// Six well-behaved callers from one address register: more than an
	// address may by default.
	b := startBehindMongrel2(t, "-registrations-per-hour", "0")
	var callers []*caller
	for i := range 6 {
		callers = append(callers, b.bystander(t, "caller"+strconv.Itoa(i)))
	}
	// Half of them type just before the host is told to stop, half just
	// after.
	for i, c := range callers {
		if i == len(callers)/2 {
			b.proc.signal(syscall.SIGTERM)
		}
		if err := c.c.Send("?"); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.proc.wait(t); err != nil {
		t.Fatalf("the host stopped with %v", err)
	}
	b.start(t)
	for i, c := range callers {
		out, m, err := c.next()
		if err != nil || m.Type != message.TypePrompt || !strings.Contains(out, "MAIN MENU") {
			t.Errorf("caller %d's line typed during the restart: %v, %s message:\n%s", i, err, m.Type, out)
		}
	}
}

// TestSecondHostOnTheSameHandlerIsRefused: a second `m2bbs host` with the
// first one's handler addresses exits at once with a clear message, and
// the first one goes on serving its callers.
func TestSecondHostOnTheSameHandlerIsRefused(t *testing.T) {
	b := startBehindMongrel2(t)
	by := b.bystander(t, "bystander")
	second := startProc(t, b.args...)
	err := second.wait(t)
	if err == nil {
		t.Fatal("the second host exited with status 0")
	}
	second.logs.WaitFor(t, readTimeout, "another m2bbs host already serves this handler", "pid ", b.server.Cfg.SendSpec)
	// ZeroMQ would deal a second host every other line: ten in a row
	// answered by the menu show the first host alone serves them.
	for i := range 10 {
		took, err := by.roundTrip()
		if err != nil {
			t.Fatalf("the first host's caller, round trip %d: %v", i, err)
		}
		if took >= maxRoundTrip {
			t.Errorf("the first host's caller waited %v for the menu", took)
		}
	}
}
