package qwk_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/qwk"
	"github.com/m2bbs/m2bbs/host/qwk/qwktest"
)

var when = time.Date(2026, 12, 3, 14, 5, 0, 0, time.UTC)

func samplePacket() *qwk.Packet {
	return &qwk.Packet{
		BBSID: "M2BBS", BoardName: "The Board", Location: "Earth", Phone: "telnet", Sysop: "Sysop",
		User: "ann", Created: when, Door: "m2bbs", Version: "1",
		Conferences: []qwk.Conference{{0, "Mail"}, {1, "general"}, {3, "tech"}},
		Messages: []qwk.Message{
			{Conference: 1, Number: 7, To: "All", From: "bob", Subject: "Hello", Written: when,
				Lines: []string{"first line", "", "café"}},
			{Conference: 3, Number: 12, To: "All", From: "carol", Subject: strings.Repeat("long subject ", 4),
				Written: when, ReplyTo: 9, Lines: []string{strings.Repeat("x", 300)}},
			{Conference: 1, Number: 13, To: "ann", From: "bob", Subject: "Re: Hello", Written: when, ReplyTo: 7},
		},
	}
}

// TestPacketReadByIndependentReader: what Zip writes is what a reader
// built from the format's description finds.
func TestPacketReadByIndependentReader(t *testing.T) {
	data, err := samplePacket().Zip()
	if err != nil {
		t.Fatal(err)
	}
	p, err := qwktest.Read(data)
	if err != nil {
		t.Fatalf("independent reader: %v", err)
	}
	if got := p.Control[:11]; !reflect.DeepEqual(got, []string{"The Board", "Earth", "telnet", "Sysop",
		"00000,M2BBS", "12-03-2026,14:05:00", "ANN", "", "0", "3", "2"}) {
		t.Errorf("CONTROL.DAT head = %q", got)
	}
	if !reflect.DeepEqual(p.Confs, map[int]string{0: "Mail", 1: "general", 3: "tech"}) {
		t.Errorf("conferences = %v", p.Confs)
	}
	if p.DoorID["DOOR"] != "m2bbs" {
		t.Errorf("DOOR.ID = %v", p.DoorID)
	}
	if len(p.Msgs) != 3 {
		t.Fatalf("%d messages", len(p.Msgs))
	}
	m := p.Msgs[0]
	if m.Number != 7 || m.From != "bob" || m.To != "All" || m.Subject != "Hello" || m.Date != "12-03-26" ||
		m.Time != "14:05" || m.Conference != 1 || m.Status != ' ' || m.Record != 2 {
		t.Errorf("first message = %+v", m)
	}
	if !reflect.DeepEqual(m.Text, []string{"first line", "", "caf\x82"}) {
		t.Errorf("first text = %q (CP437 é is 0x82)", m.Text)
	}
	long := p.Msgs[1]
	if long.Ref != 9 || long.Blocks != 4 || len(long.Subject) != 25 {
		t.Errorf("second message = %+v", long)
	}
	if long.Long["Subject"] != strings.Repeat("long subject ", 4) || long.Long["Sender"] != "carol" {
		t.Errorf("HEADERS.DAT section = %v", long.Long)
	}
	if p.Msgs[0].Long != nil {
		t.Errorf("a message with short fields got a HEADERS.DAT section")
	}
	if got := p.Index["001.NDX"]; !reflect.DeepEqual(got, []int{2, p.Msgs[2].Record}) {
		t.Errorf("001.NDX = %v", got)
	}
	if got := p.Index["003.NDX"]; !reflect.DeepEqual(got, []int{p.Msgs[1].Record}) {
		t.Errorf("003.NDX = %v", got)
	}
}

func TestMSBIN(t *testing.T) {
	for n, want := range map[uint32][4]byte{
		0: {}, 1: {0, 0, 0, 0x81}, 2: {0, 0, 0, 0x82}, 3: {0, 0, 0x40, 0x82}, 10: {0, 0, 0x20, 0x84},
	} {
		if got := qwk.MSBIN(n); got != want {
			t.Errorf("MSBIN(%d) = % x, want % x", n, got, want)
		}
	}
	for _, n := range []uint32{0, 1, 2, 127, 128, 4095, 1 << 20, 1<<24 - 1} {
		if got := qwk.FromMSBIN(qwk.MSBIN(n)); got != n {
			t.Errorf("FromMSBIN(MSBIN(%d)) = %d", n, got)
		}
	}
}

func sampleReplies() []qwk.Message {
	return []qwk.Message{
		{Conference: 1, To: "bob", Subject: "Re: Hello", ReplyTo: 7, Written: when, Lines: []string{"hi bob", "", "naïve"}},
		{Conference: 0, Private: true, To: "a rather long recipient name here", Subject: "a subject that is longer than twenty-five",
			Written: when, Lines: []string{"private"}},
	}
}

func TestREPRoundTrip(t *testing.T) {
	data, err := qwk.BuildREP("M2BBS", sampleReplies())
	if err != nil {
		t.Fatal(err)
	}
	got, err := qwk.ParseREP(data, "m2bbs", qwk.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	want := sampleReplies()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parsed\n%+v\nwant\n%+v", got, want)
	}
}

// rep zips files as a reader would.
func rep(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	zw.Close()
	return buf.Bytes()
}

// msgFile is a BBSID.MSG of the sample replies with edit applied.
func msgFile(t *testing.T, edit func([]byte) []byte) []byte {
	t.Helper()
	data, err := qwk.BuildREP("M2BBS", sampleReplies())
	if err != nil {
		t.Fatal(err)
	}
	zr, _ := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	rc, _ := zr.File[0].Open()
	var b bytes.Buffer
	b.ReadFrom(rc)
	return edit(b.Bytes())
}

func TestREPRefused(t *testing.T) {
	small := qwk.Limits{MaxPacketBytes: 1 << 20, MaxMessagesBytes: 1 << 20, MaxMessages: 1, MaxBlocks: 256}
	for _, tc := range []struct {
		name string
		data []byte
		lim  qwk.Limits
		kind error
	}{
		{"not a zip", []byte("hello"), qwk.DefaultLimits, qwk.ErrMalformed},
		{"no MSG", rep(t, map[string][]byte{"OTHER.MSG": msgFile(t, func(b []byte) []byte { return b })}), qwk.DefaultLimits, qwk.ErrMalformed},
		{"another board", rep(t, map[string][]byte{"M2BBS.MSG": msgFile(t, func(b []byte) []byte { copy(b, "OTHERBBS"); return b })}), qwk.DefaultLimits, qwk.ErrMalformed},
		{"partial block", rep(t, map[string][]byte{"M2BBS.MSG": msgFile(t, func(b []byte) []byte { return b[:len(b)-1] })}), qwk.DefaultLimits, qwk.ErrMalformed},
		{"block count not a number", rep(t, map[string][]byte{"M2BBS.MSG": msgFile(t, func(b []byte) []byte { copy(b[128+116:], "abc   "); return b })}), qwk.DefaultLimits, qwk.ErrMalformed},
		{"block count past the end", rep(t, map[string][]byte{"M2BBS.MSG": msgFile(t, func(b []byte) []byte { copy(b[128+116:], "99    "); return b })}), qwk.DefaultLimits, qwk.ErrMalformed},
		{"too many messages", rep(t, map[string][]byte{"M2BBS.MSG": msgFile(t, func(b []byte) []byte { return b })}), small, qwk.ErrTooLarge},
		{"too many blocks", rep(t, map[string][]byte{"M2BBS.MSG": msgFile(t, func(b []byte) []byte { return b })}), qwk.Limits{MaxPacketBytes: 1 << 20, MaxMessagesBytes: 1 << 20, MaxMessages: 10, MaxBlocks: 1}, qwk.ErrTooLarge},
		{"archive too large", rep(t, map[string][]byte{"M2BBS.MSG": msgFile(t, func(b []byte) []byte { return b })}), qwk.Limits{MaxPacketBytes: 10, MaxMessagesBytes: 1 << 20, MaxMessages: 10, MaxBlocks: 10}, qwk.ErrTooLarge},
		{"zip bomb", rep(t, map[string][]byte{"M2BBS.MSG": append(msgFile(t, func(b []byte) []byte { return b }), make([]byte, 8<<20)...)}), qwk.DefaultLimits, qwk.ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs, err := qwk.ParseREP(tc.data, "M2BBS", tc.lim)
			var fe *qwk.FormatError
			if !errors.As(err, &fe) || !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want a FormatError wrapping %v", err, tc.kind)
			}
			if msgs != nil {
				t.Errorf("messages returned with an error: %v", msgs)
			}
		})
	}
}

func TestREPLenientText(t *testing.T) {
	// A reader that ends lines with CR LF, leaves the number field blank
	// (the binary conference only) and kills a message.
	b := msgFile(t, func(b []byte) []byte {
		copy(b[128+1:], "       ")
		copy(b[256:], "one\r\ntwo\r\n")
		b[256+10] = ' '
		return b
	})
	second := 128 + 2*128
	b[second+122] = 0xE2
	msgs, err := qwk.ParseREP(rep(t, map[string][]byte{"m2bbs.msg": b}), "M2BBS", qwk.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Conference != 1 || !reflect.DeepEqual(msgs[0].Lines[:2], []string{"one", "two"}) {
		t.Errorf("messages = %+v", msgs)
	}
}
