package hostile

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// TestHostileLongNameLines: callers who answer the name prompt with the
// longest lines a classic frame carries (2.8 KB), built to make a Lua
// pattern backtrack (the shipped trim, s:gsub("%s+$", ""), spent about
// half a second of worker time on each), get a prompt back at once saying
// names are at most 32 characters, and the bystander's menu stays quick
// meanwhile.
func TestHostileLongNameLines(t *testing.T) {
	b := startBoard(t, boardOptions{})
	by := b.bystander(t, "ann")
	line := "x" + strings.Repeat(" ", 2800) + "x" // base64 in a frame of at most 4 KB
	const attackers, lines = 4, 5
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		slowest time.Duration
		wrong   []string
	)
	callers := make([]*caller, attackers)
	for i := range callers {
		callers[i] = b.call(t, attackerIP)
		if _, m, err := callers[i].next(); err != nil || m.Type != "prompt" {
			t.Fatalf("attacker %d: no name prompt: %v", i, err)
		}
	}
	assertResponsive(t, by, func() {
		for _, a := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range lines {
					start := time.Now()
					if err := a.c.Send(line); err != nil {
						return
					}
					out, _, err := a.next()
					took := time.Since(start)
					mu.Lock()
					slowest = max(slowest, took)
					if err != nil || !strings.Contains(out, "names are at most 32 characters") {
						wrong = append(wrong, out)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
	})
	if len(wrong) > 0 {
		t.Errorf("%d long name lines were not refused as too long; first answer:\n%s", len(wrong), wrong[0])
	}
	if slowest >= maxRoundTrip {
		t.Errorf("the slowest answer to a long name line took %v (limit %v)", slowest, maxRoundTrip)
	}
}
