package message

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
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

// FuzzAppendJSON: whatever a message holds, its JSON is valid and decodes
// back to the same fields.
func FuzzAppendJSON(f *testing.F) {
	f.Add("prompt", "Name?\x1b[1m", "> ", true)
	f.Add("", "\xff\u2028\x00", "", false)
	f.Fuzz(func(t *testing.T, typ, msg, pchar string, secret bool) {
		m := Message{Type: typ, Msg: msg, PChar: pchar, Secret: secret}
		out := m.AppendJSON(nil)
		var w struct { // encoding/json's own reading, independent of Decode
			Type   string `json:"type"`
			Msg    string `json:"msg"`
			PChar  string `json:"pchar"`
			Secret bool   `json:"secret"`
		}
		if err := json.Unmarshal(out, &w); err != nil {
			t.Fatalf("AppendJSON(%+v) = %q: %v", m, out, err)
		}
		valid := func(s string) string { // each invalid byte one U+FFFD
			var b strings.Builder
			for _, r := range s {
				b.WriteRune(r)
			}
			return b.String()
		}
		if w.Type != valid(typ) || w.Msg != valid(msg) || w.PChar != valid(pchar) || w.Secret != secret {
			t.Fatalf("AppendJSON(%+v) = %q decodes to %+v", m, out, w)
		}
	})
}

// quoteByRune is AppendString's quoting written rune by rune, the way it
// was before plain runs were copied at once.
func quoteByRune(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			b.WriteString(`\ufffd`)
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// FuzzAppendStringByRuns: copying plain runs at once writes the same bytes
// as quoting rune by rune.
func FuzzAppendStringByRuns(f *testing.F) {
	for _, seed := range []string{"", "plain text", "a\"b\\c\n\r\t\x00\x7f", "\xff\u2028\u2029\uFFFDé", "--- 1 of 2 ---\nFrom: zed"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(AppendString(nil, s)), quoteByRune(s); got != want {
			t.Fatalf("AppendString(%q) = %s, rune by rune %s", s, got, want)
		}
	})
}

func BenchmarkAppendString(b *testing.B) {
	s := strings.Repeat("From: zed\nA line of a message, as callers write them.\n", 8)
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		buf = AppendString(buf[:0], s)
	}
}
