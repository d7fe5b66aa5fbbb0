package websocket

import (
	"bytes"
	"encoding/json"

	"github.com/m2bbs/m2bbs/host/shared/termtext"
)

// stripControlStrings removes control strings (OSC such as a window title
// or a clipboard write, DCS, APC, PM, SOS) and C1 controls from the msg
// and pchar of a classic JSON message bound for a browser behind
// Mongrel2, as the built-in browser bridge and the telnet gateway do:
// colour and cursor sequences pass. A payload that is not a JSON object,
// or holds nothing to remove, is returned as it is.
func stripControlStrings(payload []byte) []byte {
	if !mayHoldControlStrings(payload) {
		return payload
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		return payload
	}
	changed := false
	for _, key := range []string{"msg", "pchar"} {
		var s string
		if raw, ok := m[key]; !ok || json.Unmarshal(raw, &s) != nil {
			continue
		}
		if clean := termtext.StripStrings(s); clean != s {
			m[key], _ = json.Marshal(clean)
			changed = true
		}
	}
	if !changed {
		return payload
	}
	out, err := json.Marshal(m)
	if err != nil {
		return payload
	}
	return out
}

// mayHoldControlStrings reports whether a JSON payload may hold an ESC or
// a C1 control, escaped (\u001b, \u0080–\u009f) or raw.
func mayHoldControlStrings(p []byte) bool {
	for _, s := range []string{`\u001b`, `\u001B`, "\x1b", `\u008`, `\u009`, "\xc2"} {
		if bytes.Contains(p, []byte(s)) {
			return true
		}
	}
	return false
}
