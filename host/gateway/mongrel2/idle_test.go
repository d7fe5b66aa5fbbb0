package mongrel2

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// idleCallers is how many callers TestParksIdleCallers parks: more than
// the 2,560 that Mongrel2 1.12's default settings have hot poll slots for
// (a quarter of its default superpoll.max_fd of 10,240), few enough for
// `make test`. m2bbs-bench's -mongrel2-idle step parks 10,000.
const idleCallers = 3000

// answerTimeout is how long a caller waits for an answer before it counts
// as lost: the load generator's (loadgen.DefaultTimeout).
const answerTimeout = 10 * time.Second

// TestParksIdleCallers parks idleCallers callers behind a real Mongrel2
// sized for them (Config.Callers): each sends a line, gets its answer
// and stays silent. Then a parked caller's round trips stay quick (with
// Mongrel2's defaults each took half a second), Mongrel2 never runs out
// of poll slots, and every caller still answers a second line, sent by
// all at once; the handler hears of no hang-up.
func TestParksIdleCallers(t *testing.T) {
	s := startServer(t, Config{SenderID: "idle", Callers: idleCallers})
	if got := s.Cfg.Tuning().Callers; got < idleCallers {
		t.Skipf("the open-file limit %d leaves Mongrel2 room for %d callers, not %d", s.Cfg.FileLimit, got, idleCallers)
	}
	// Mongrel2 sets its own open-file limit to max_fd, whatever soft
	// limit it inherited, since Start keeps max_fd within the hard limit.
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", s.PID))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("Max open files            %-20d %-20d", s.Cfg.Tuning().MaxFD, s.Cfg.Tuning().MaxFD); !strings.Contains(string(limits), want) {
		t.Errorf("Mongrel2's limits lack %q:\n%s", want, limits)
	}
	hangUps := echoHandler(t, s.Cfg)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()

	start := time.Now()
	callers, err := parkCallers(ctx, s.Addr(), idleCallers)
	t.Cleanup(func() { closeAll(callers) })
	if err != nil {
		t.Fatal(err)
	}
	rss, _ := processRSS(s.PID)
	t.Logf("parked %d callers in %v; Mongrel2's RSS %d MiB", idleCallers, time.Since(start).Round(time.Millisecond), rss>>20)

	var rts []time.Duration
	for range 20 {
		t0 := time.Now()
		if err := callers[0].ask(); err != nil {
			t.Fatalf("a parked caller's round trip: %v", err)
		}
		rts = append(rts, time.Since(t0))
	}
	slices.Sort(rts)
	if median := rts[len(rts)/2]; median > 100*time.Millisecond {
		t.Errorf("with %d callers parked, a round trip takes %v (median of %d)", idleCallers, median, len(rts))
	}
	if log, _ := os.ReadFile(filepath.Join(s.Cfg.Dir, errorLog)); bytes.Contains(log, []byte("Too many")) {
		t.Errorf("Mongrel2 ran out of poll slots:\n%s", lastLinesWith(string(log), "Too many", 3))
	}
	if lost := askAll(callers); lost != 0 || hangUps.Load() != 0 {
		t.Errorf("%d of %d parked callers got no answer to a second line; the handler heard %d hang-ups", lost, idleCallers, hangUps.Load())
	}
}

// echoHandler answers every request with "ok" and a NUL, and counts the
// hang-ups Mongrel2 reports.
func echoHandler(t *testing.T, cfg Config) *atomic.Int64 {
	h := connectHandler(t, cfg)
	var hangUps atomic.Int64
	go func() {
		for msg := range h.requests {
			req, err := parseRequest(msg)
			switch {
			case err != nil:
			case req.path == "@*":
				hangUps.Add(1)
			default:
				h.replies <- fmt.Appendf(nil, "%s %d:%s, ok\x00", cfg.SenderID, len(req.connID), req.connID)
			}
		}
	}()
	return &hangUps
}

// lastLinesWith quotes the last n lines of text containing sub.
func lastLinesWith(text, sub string, n int) string {
	var hits []string
	for line := range strings.Lines(text) {
		if strings.Contains(line, sub) {
			hits = append(hits, line)
		}
	}
	return strings.Join(hits[max(len(hits)-n, 0):], "")
}

func closeAll(callers []*idleCaller) {
	for _, c := range callers {
		if c != nil {
			c.Close()
		}
	}
}

// idleCaller is one parked caller.
type idleCaller struct {
	net.Conn
	r *bufio.Reader
}

// ask sends one line and waits answerTimeout for its answer.
func (c *idleCaller) ask() error {
	if err := c.SetDeadline(time.Now().Add(answerTimeout)); err != nil {
		return err
	}
	if _, err := c.Write([]byte(`@bbs {"type":"msg","msg":"park"}` + "\x00")); err != nil {
		return err
	}
	frame, err := c.r.ReadBytes(0)
	if err != nil {
		return err
	}
	if string(frame) != "ok\x00" {
		return fmt.Errorf("got %q", frame)
	}
	return nil
}

// parkWindow is how many callers parkCallers connects at once.
const parkWindow = 128

// parkCallers connects n callers to addr, parkWindow at a time, each
// asking once. It returns them all (nil for one that could not connect)
// and an error if any failed.
func parkCallers(ctx context.Context, addr string, n int) ([]*idleCaller, error) {
	callers := make([]*idleCaller, n)
	var failed atomic.Int64
	var first atomic.Value
	sem := make(chan struct{}, parkWindow)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			err := func() error {
				var d net.Dialer
				conn, err := d.DialContext(ctx, "tcp", addr)
				if err != nil {
					return err
				}
				callers[i] = &idleCaller{Conn: conn, r: bufio.NewReader(conn)}
				return callers[i].ask()
			}()
			if err != nil {
				failed.Add(1)
				first.CompareAndSwap(nil, fmt.Errorf("caller %d: %w", i, err))
			}
		}()
	}
	wg.Wait()
	if f := failed.Load(); f > 0 {
		return callers, fmt.Errorf("%d of %d callers failed to park; first: %v", f, n, first.Load())
	}
	return callers, nil
}

// askAll has every caller ask once more, all at once, and counts those
// that get no answer.
func askAll(callers []*idleCaller) int {
	var lost atomic.Int64
	var wg sync.WaitGroup
	for _, c := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c == nil || c.ask() != nil {
				lost.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(lost.Load())
}

// processRSS is the resident memory of process pid, in bytes.
func processRSS(pid int) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kb); err != nil {
				return 0, err
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}
