package pkt

import (
	"fmt"
	"testing"
	"time"
)

// benchPacket is a packet of n echomail messages of about 1 KiB each.
func benchPacket(n int) []byte {
	p := Packet{Header: Header{Orig: Addr{21, 1, 100, 0}, Dest: Addr{21, 1, 101, 0}, Created: time.Now()}}
	for i := 0; i < n; i++ {
		text := Text{Area: "BENCH", HasTear: true, Origin: "Bench (21:1/100)", SeenBy: []NetNode{{1, 100}, {1, 101}}, Path: []NetNode{{1, 100}}}
		text.SetKludge("MSGID", fmt.Sprintf("21:1/100 %08x", i))
		for j := 0; j < 16; j++ {
			text.Lines = append(text.Lines, "The quick brown fox jumps over the lazy dog, again and again.")
		}
		p.Messages = append(p.Messages, Message{OrigNet: 1, OrigNode: 100, DestNet: 1, DestNode: 101,
			Date: FormatDate(time.Now()), To: "All", From: "Bench", Subject: "bench", Text: text.Bytes()})
	}
	return p.Bytes()
}

// BenchmarkParse parses a packet of 100 messages and splits each text.
func BenchmarkParse(b *testing.B) {
	raw := benchPacket(100)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		p, err := Parse(raw)
		if err != nil {
			b.Fatal(err)
		}
		for i := range p.Messages {
			_ = ParseText(p.Messages[i].Text)
		}
	}
}

// BenchmarkAppend writes a packet of 100 messages.
func BenchmarkAppend(b *testing.B) {
	p, err := Parse(benchPacket(100))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_ = p.Bytes()
	}
}
