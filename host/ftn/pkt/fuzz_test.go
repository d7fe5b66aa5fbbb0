package pkt

import (
	"bytes"
	"testing"
)

// FuzzParse feeds packets to Parse: it must never panic, and what it
// accepts must survive a write and a second parse unchanged.
func FuzzParse(f *testing.F) {
	f.Add(goldenEcho())
	f.Add(goldenNetmail())
	f.Add(goldenEcho()[:HeaderSize])
	f.Add(goldenEcho()[:70])
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		for _, m := range p.Messages {
			text := ParseText(m.Text)
			_ = text.Bytes()
		}
		out := p.Bytes()
		q, err := Parse(out)
		if err != nil {
			t.Fatalf("written packet does not parse: %v", err)
		}
		if len(q.Messages) != len(p.Messages) {
			t.Fatalf("%d messages became %d", len(p.Messages), len(q.Messages))
		}
		for i := range p.Messages {
			if !bytes.Equal(p.Messages[i].Text, q.Messages[i].Text) || p.Messages[i].From != q.Messages[i].From {
				t.Fatalf("message %d changed", i)
			}
		}
	})
}

// FuzzParseText feeds message texts to ParseText and Text.Bytes: the
// text written must parse to the same parts (trailing kludges may move
// among the leading ones when nothing separates them).
func FuzzParseText(f *testing.F) {
	f.Add([]byte(echoText))
	f.Add([]byte("\x01INTL 1:2/3 1:2/4\rhi\r\x01Via 1:2/3\r"))
	f.Fuzz(func(t *testing.T, b []byte) {
		text := ParseText(b)
		again := ParseText(text.Bytes())
		if again.Area != text.Area || again.Origin != text.Origin || len(again.Kludges)+len(again.Via) != len(text.Kludges)+len(text.Via) {
			t.Fatalf("text changed on a round trip:\n%+v\n%+v", text, again)
		}
	})
}
