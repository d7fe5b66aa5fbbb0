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

// TestPickNHandsOutNoPortTwice: ports picked twice, or held already, are
// picked again; a picker that never finds another gives up.
func TestPickNHandsOutNoPortTwice(t *testing.T) {
	next := []int{5, 5, 7, 9, 5}
	pick := func() (int, error) {
		p := next[0]
		next = next[1:]
		return p, nil
	}
	ports, err := pickN(2, []int{7}, pick)
	if err != nil || fmt.Sprint(ports) != "[5 9]" {
		t.Errorf("pickN(2, exclude 7) over 5, 5, 7, 9 = %v, %v; want [5 9]", ports, err)
	}
	if _, err := pickN(1, []int{3}, func() (int, error) { return 3, nil }); err == nil {
		t.Error("pickN over a picker that only returns a taken port succeeded")
	}
	ports, err = PickN(8)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] {
			t.Errorf("PickN(8) = %v: %d twice", ports, p)
		}
		seen[p] = true
	}
}
