package throttle

import (
	"testing"
	"time"
)

func TestPause(t *testing.T) {
	p := Policy{MaxPause: 10 * time.Second}.WithDefaults()
	for n, want := range map[int]time.Duration{1: 0, 2: 0, 3: time.Second, 4: 2 * time.Second, 5: 4 * time.Second, 6: 8 * time.Second, 7: 10 * time.Second, 1000: 10 * time.Second} {
		if got := p.Pause(n, true); got != want {
			t.Errorf("Pause(%d, per name) = %v, want %v", n, got, want)
		}
	}
	for n, want := range map[int]time.Duration{9: 0, 10: time.Second, 11: 2 * time.Second} {
		if got := p.Pause(n, false); got != want {
			t.Errorf("Pause(%d, per address) = %v, want %v", n, got, want)
		}
	}
}
