package qwk_test

import (
	"testing"

	"github.com/m2bbs/m2bbs/host/qwk"
)

// FuzzParseREP feeds archives to ParseREP: it must never panic, every
// error must be a FormatError, and what it accepts must survive BuildREP
// and a second parse with the same number of messages.
func FuzzParseREP(f *testing.F) {
	good, _ := qwk.BuildREP("M2BBS", sampleReplies())
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("PK\x03\x04"))
	lim := qwk.Limits{MaxPacketBytes: 64 << 10, MaxMessagesBytes: 64 << 10, MaxMessages: 20, MaxBlocks: 64}
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, err := qwk.ParseREP(b, "M2BBS", lim)
		if err != nil {
			return
		}
		roundTrip(t, msgs, lim)
	})
}

// FuzzParseMessages feeds BBSID.MSG contents straight to ParseMessages,
// past the archive, so that the fuzzer reaches the block layout.
func FuzzParseMessages(f *testing.F) {
	head := make([]byte, 128)
	copy(head, "M2BBS")
	msg := append([]byte{}, head...)
	msg = append(msg, []byte(" 1      12-03-26 14:05bob                      ann                      Hi                                               2     \xe1\x01\x00\x00\x00 ")...)
	msg = append(msg, make([]byte, 128)...)
	f.Add(msg)
	f.Add(head)
	lim := qwk.Limits{MaxPacketBytes: 64 << 10, MaxMessagesBytes: 64 << 10, MaxMessages: 20, MaxBlocks: 64}
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs, offsets, err := qwk.ParseMessages(b, "M2BBS", lim)
		if err != nil {
			return
		}
		if len(offsets) != len(msgs) {
			t.Fatalf("%d offsets for %d messages", len(offsets), len(msgs))
		}
		roundTrip(t, msgs, lim)
	})
}

func roundTrip(t *testing.T, msgs []qwk.Message, lim qwk.Limits) {
	t.Helper()
	for i := range msgs {
		msgs[i].ReplyTo = min(msgs[i].ReplyTo, qwk.MaxNumber)
	}
	out, err := qwk.BuildREP("M2BBS", msgs)
	if err != nil {
		t.Fatalf("BuildREP of parsed messages: %v", err)
	}
	lim.MaxPacketBytes, lim.MaxMessagesBytes, lim.MaxBlocks = 1<<24, 1<<24, 1<<16
	again, err := qwk.ParseREP(out, "M2BBS", lim)
	if err != nil {
		t.Fatalf("written REP does not parse: %v", err)
	}
	if len(again) != len(msgs) {
		t.Fatalf("%d messages became %d", len(msgs), len(again))
	}
}
