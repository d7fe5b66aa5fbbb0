package freeport

import (
	"fmt"
	"net"
	"testing"
)

// TestPickIsBindableOutsideTheEphemeralRange: the port picked can be
// listened on, on every address, and lies below the range the kernel
// hands outgoing connections (when that range leaves room below it).
func TestPickIsBindableOutsideTheEphemeralRange(t *testing.T) {
	low := ephemeralLow()
	for range 20 {
		port, err := Pick()
		if err != nil {
			t.Fatal(err)
		}
		if low > 10_000 && port >= low {
			t.Errorf("port %d is in the ephemeral range (from %d)", port, low)
		}
		l, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
		if err != nil {
			t.Fatalf("the picked port %d: %v", port, err)
		}
		l.Close()
	}
}
