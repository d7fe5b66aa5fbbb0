package message

import (
	"encoding/json"
	"testing"
)

// FuzzDecode feeds Decode arbitrary bytes: it never panics, and what it
// returns, encoded again, is valid JSON that decodes to the same message.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"type":"prompt","msg":"Name?","pchar":"> "}`, `{"type":"screen","msg":"\u001b[1mhi"}`,
		`{"type":"exit","msg":"","secret":true}`, `{"type":"x","msg":"\ud800"}`, `[]`, `{"type":`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Decode(data)
		if err != nil {
			return
		}
		out := m.AppendJSON(nil)
		if !json.Valid(out) {
			t.Fatalf("AppendJSON(%+v) = %q, not JSON", m, out)
		}
		again, err := Decode(out)
		if err != nil || again.Type != m.Type || again.Msg != m.Msg || again.PChar != m.PChar || again.Secret != m.Secret {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", data, again, err, m)
		}
	})
}
