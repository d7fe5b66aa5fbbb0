package throttle

import (
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestPerHandle(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	th := New(Limits{PerHandle: 3, PerPeer: 100, Window: time.Minute}, c.now)
	for range 3 {
		if w := th.Wait("Ann", "10.0.0.1"); w != 0 {
			t.Fatalf("refused after fewer failures than allowed: %v", w)
		}
		th.Failed("ann", "10.0.0.1")
		c.t = c.t.Add(10 * time.Second)
	}
	if w := th.Wait("ANN", "10.0.0.2"); w != 30*time.Second {
		t.Errorf("wait = %v, want 30s (until the first failure leaves the window)", w)
	}
	if w := th.Wait("bob", "10.0.0.1"); w != 0 {
		t.Errorf("another handle is refused: %v", w)
	}
	c.t = c.t.Add(40 * time.Second)
	if w := th.Wait("ann", ""); w != 0 {
		t.Errorf("still refused after the window: %v", w)
	}
	th.Failed("ann", "")
	th.Succeeded("ann", "")
	if w := th.Wait("ann", ""); w != 0 {
		t.Errorf("a success did not clear the handle: %v", w)
	}
}

func TestPerPeer(t *testing.T) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	th := New(Limits{PerHandle: 100, PerPeer: 2, Window: time.Minute}, c.now)
	th.Failed("a", "192.0.2.1")
	th.Failed("b", "192.0.2.1")
	th.Succeeded("c", "192.0.2.1")
	if w := th.Wait("d", "192.0.2.1"); w != time.Minute {
		t.Errorf("a guessing peer: wait = %v, want 1m", w)
	}
	if w := th.Wait("d", "192.0.2.2"); w != 0 {
		t.Errorf("another peer refused: %v", w)
	}
}

func TestMemoryIsBounded(t *testing.T) {
	th := New(Limits{}, nil)
	for i := range MaxTracked + 10 {
		th.Failed(string(rune('a'+i%26))+time.Duration(i).String(), "")
	}
	if n := len(th.entries); n > MaxTracked {
		t.Errorf("tracking %d keys, more than %d", n, MaxTracked)
	}
}
