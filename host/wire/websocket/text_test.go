package websocket

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzStripControlStrings: whatever the board sends a browser, a JSON
// object stays a JSON object with the same keys, and its msg holds no
// control string.
func FuzzStripControlStrings(f *testing.F) {
	for _, seed := range []string{
		`{"type":"screen","msg":"hi"}`,
		`{"type":"screen","msg":"a\u001b]0;t\u0007b"}`,
		`{"type":"prompt","msg":"x","pchar":"\u001b]52;c;eA==\u001b\\> "}`,
		`{"msg":"\u009b2J\u001b[1m"}`,
		`{"msg":1}`, `not json`, "{\"msg\":\"\xc2\x9d0;t\"}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		out := stripControlStrings(payload)
		var in, got map[string]json.RawMessage
		if json.Unmarshal(payload, &in) != nil {
			return
		}
		if err := json.Unmarshal(out, &got); err != nil || len(got) != len(in) {
			t.Fatalf("%q became %q (%v)", payload, out, err)
		}
		var msg string
		if json.Unmarshal(got["msg"], &msg) == nil && strings.Contains(msg, "\x1b]") {
			t.Fatalf("%q became %q: msg keeps an OSC", payload, out)
		}
	})
}
