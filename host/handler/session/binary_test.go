package session

import "testing"

// TestCancelCANs: five Ctrl-X in a row cancel a ZMODEM transfer, even
// split across pieces; ZMODEM's escaped CANs (CAN and another byte) and
// fewer than five never do.
func TestCancelCANs(t *testing.T) {
	for _, tc := range []struct {
		pieces []string
		want   bool
	}{
		{[]string{"\x18\x18\x18\x18\x18"}, true},
		{[]string{"data\x18\x18", "\x18\x18\x18\b\b"}, true},
		{[]string{"\x18X\x18X\x18X\x18X\x18X\x18X"}, false},
		{[]string{"\x18\x18\x18\x18", "x\x18"}, false},
	} {
		j := &joined{}
		got := false
		for _, p := range tc.pieces {
			got = got || cancelled(j, []byte(p))
		}
		if got != tc.want {
			t.Errorf("%q: cancelled %v, want %v", tc.pieces, got, tc.want)
		}
	}
}
