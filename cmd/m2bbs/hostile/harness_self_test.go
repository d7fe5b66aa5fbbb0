package hostile

import (
	"syscall"
	"testing"
)

// TestBystanderBaseline: with no attack, the bystander registers, uses the
// menu well within the limit, and the board behind Mongrel2 serves them
// alike; a board that is gone fails roundTrip, so the assertions can fail.
func TestBystanderBaseline(t *testing.T) {
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) *board
	}{
		{"builtin", func(t *testing.T) *board { return startBoard(t, boardOptions{}) }},
		{"mongrel2", func(t *testing.T) *board { return startBehindMongrel2(t) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.start(t)
			by := b.bystander(t, "bystander")
			assertResponsive(t, by, func() {})
			if b.server != nil {
				return // behind Mongrel2 the caller stays connected to it
			}
			b.proc.stop(t, syscall.SIGKILL)
			if _, err := by.roundTrip(); err == nil {
				t.Error("a round trip succeeded with the board's process killed")
			}
		})
	}
}
