package pkt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// le builds little-endian bytes from a list of words and byte strings,
// so that the golden packets below read as the standards' tables.
func le(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case int:
			b = binary.LittleEndian.AppendUint16(b, uint16(v))
		case byte:
			b = append(b, v)
		case string:
			b = append(b, v...)
		case []byte:
			b = append(b, v...)
		default:
			panic("le: bad part")
		}
	}
	return b
}

// echoText is the text of the golden echomail message.
const echoText = "AREA:M2BBS.TEST\r" +
	"\x01MSGID: 21:1/100 5f3a0b01\r" +
	"\x01PID: m2bbs 1\r" +
	"\x01TZUTC: 0100\r" +
	"\x01CHRS: CP437 2\r" +
	"Hello from node 100, caf\x82.\r" +
	"\r" +
	"--- m2bbs\r" +
	" * Origin: Test Board (21:1/100)\r" +
	"SEEN-BY: 1/100 101 2/5\r" +
	"\x01PATH: 1/100\r"

// goldenEcho is a type 2+ packet from 21:1/100 to 21:1/101 with
// password "SECRET" and one echomail message, laid out field by field
// as FSC-0048 and FTS-0001 describe them.
func goldenEcho() []byte {
	return le(
		// packet header (FSC-0048)
		100, 101, // origNode, destNode
		2026, 11, 3, 10, 20, 30, // year, month (0-based: December), day, hour, minute, second
		0, 2, // baud, packet type
		1, 1, // origNet, destNet
		byte(0xFE), byte(1), // product code (low), revision major
		"SECRET\x00\x00", // password, 8 bytes
		21, 21,           // QOrgZone, QDestZone
		0,                // AuxNet
		0x0100,           // capability word validation copy (byte-swapped)
		byte(0), byte(2), // product code (high), revision minor
		0x0001, // capability word
		21, 21, // origZone, destZone
		0, 0, // origPoint, destPoint
		"\x00\x00\x00\x00", // product specific data
		// packed message (FTS-0001)
		2, 100, 101, 1, 1, // type, origNode, destNode, origNet, destNet
		0, 0, // attribute, cost
		"03 Dec 26  10:20:30\x00",
		"All\x00", "Ann Example\x00", "First post\x00",
		echoText, "\x00",
		0, // end of packet
	)
}

func TestParseGoldenEcho(t *testing.T) {
	p, err := Parse(goldenEcho())
	if err != nil {
		t.Fatal(err)
	}
	wantHeader := Header{
		Orig:        Addr{21, 1, 100, 0},
		Dest:        Addr{21, 1, 101, 0},
		Created:     time.Date(2026, 12, 3, 10, 20, 30, 0, time.UTC),
		Password:    "SECRET",
		ProductCode: 0xFE, RevMajor: 1, RevMinor: 2,
		Plus: true,
	}
	if p.Header != wantHeader {
		t.Errorf("header = %+v\nwant %+v", p.Header, wantHeader)
	}
	if len(p.Messages) != 1 {
		t.Fatalf("%d messages, want 1", len(p.Messages))
	}
	m := p.Messages[0]
	if m.From != "Ann Example" || m.To != "All" || m.Subject != "First post" || m.OrigNode != 100 || m.DestNode != 101 {
		t.Errorf("message = %+v", m)
	}
	if d, ok := ParseDate(m.Date); !ok || !d.Equal(wantHeader.Created) {
		t.Errorf("date %q = %v %v", m.Date, d, ok)
	}
	text := ParseText(m.Text)
	if text.Area != "M2BBS.TEST" {
		t.Errorf("area %q", text.Area)
	}
	for name, want := range map[string]string{"MSGID": "21:1/100 5f3a0b01", "PID": "m2bbs 1", "TZUTC": "0100", "CHRS": "CP437 2"} {
		if got, _ := text.Kludge(name); got != want {
			t.Errorf("kludge %s = %q, want %q", name, got, want)
		}
	}
	if got := Decode("CP437 2", text.Lines[0]); got != "Hello from node 100, café." {
		t.Errorf("decoded line %q", got)
	}
	if !text.HasTear || text.Tear != "m2bbs" || text.Origin != "Test Board (21:1/100)" {
		t.Errorf("tear %q origin %q", text.Tear, text.Origin)
	}
	if a, ok := OriginAddr(text.Origin); !ok || a != (Addr{21, 1, 100, 0}) {
		t.Errorf("origin address %v %v", a, ok)
	}
	wantSeen := []NetNode{{1, 100}, {1, 101}, {2, 5}}
	if !reflect.DeepEqual(text.SeenBy, wantSeen) || !reflect.DeepEqual(text.Path, []NetNode{{1, 100}}) {
		t.Errorf("seen-by %v path %v", text.SeenBy, text.Path)
	}
	if got := text.Bytes(); string(got) != echoText {
		t.Errorf("text written back:\n%q\nwant\n%q", got, echoText)
	}
}

func TestAppendGoldenEcho(t *testing.T) {
	p := Packet{
		Header: Header{
			Orig: Addr{21, 1, 100, 0}, Dest: Addr{21, 1, 101, 0},
			Created:  time.Date(2026, 12, 3, 10, 20, 30, 0, time.UTC),
			Password: "SECRET", ProductCode: 0xFE, RevMajor: 1, RevMinor: 2,
		},
		Messages: []Message{{
			OrigNet: 1, OrigNode: 100, DestNet: 1, DestNode: 101,
			Date: FormatDate(time.Date(2026, 12, 3, 10, 20, 30, 0, time.UTC)),
			To:   "All", From: "Ann Example", Subject: "First post",
			Text: []byte(echoText),
		}},
	}
	got := p.Bytes()
	if !bytes.Equal(got, goldenEcho()) {
		t.Fatalf("written packet differs from the golden one:\n% x\nwant\n% x", got, goldenEcho())
	}
	golden := filepath.Join("testdata", "echomail.pkt")
	if os.Getenv("UPDATE") == "1" {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, got) {
		t.Error("testdata/echomail.pkt differs from the packet written (UPDATE=1 rewrites it)")
	}
}

// TestParseType2 reads a plain FTS-0001 type 2 header: no capability
// word, so the zone comes from the QOrgZone fields and there are no
// points.
func TestParseType2(t *testing.T) {
	b := le(
		5, 7, 1999, 0, 1, 0, 0, 0, 2400, 2, 300, 400,
		byte(0), byte(0), "\x00\x00\x00\x00\x00\x00\x00\x00",
		2, 3, // origZone, destZone (FTS-0001 "fill" in older ones)
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
		2, 5, 7, 300, 400, AttrPrivate, 0,
		"01 Jan 99  00:00:00\x00", "Bob\x00", "Al\x00", "hi\x00",
		"\x01INTL 3:400/7 2:300/5\rHello\r\x00",
		0,
	)
	p, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if p.Header.Plus || p.Header.Orig != (Addr{2, 300, 5, 0}) || p.Header.Dest != (Addr{3, 400, 7, 0}) {
		t.Errorf("header %+v", p.Header)
	}
	if !p.Header.Created.Equal(time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("created %v", p.Header.Created)
	}
	text := ParseText(p.Messages[0].Text)
	if v, _ := text.Kludge("INTL"); v != "3:400/7 2:300/5" || text.Area != "" {
		t.Errorf("text %+v", text)
	}
	if d, ok := ParseDate(p.Messages[0].Date); !ok || d.Year() != 1999 {
		t.Errorf("date %v %v", d, ok)
	}
}

// TestPointHeader checks FSC-0048's rule for a point: origin net 0xFFFF
// on the wire and the real net in AuxNet, read back as the point's
// address.
func TestPointHeader(t *testing.T) {
	p := Packet{Header: Header{Orig: Addr{2, 5020, 1, 7}, Dest: Addr{2, 5020, 1, 0}}}
	b := p.Bytes()
	if w := binary.LittleEndian.Uint16(b[20:]); w != 0xFFFF {
		t.Errorf("origNet on the wire = %#x, want 0xffff", w)
	}
	if w := binary.LittleEndian.Uint16(b[38:]); w != 5020 {
		t.Errorf("AuxNet = %d, want 5020", w)
	}
	back, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.Header.Orig != p.Header.Orig || back.Header.Dest != p.Header.Dest || len(back.Messages) != 0 {
		t.Errorf("read back %+v", back.Header)
	}
}

func TestParseErrors(t *testing.T) {
	good := goldenEcho()
	cases := []struct {
		name string
		b    []byte
		kind error
	}{
		{"short header", good[:30], ErrMalformed},
		{"bad packet type", append(append([]byte{}, good[:18]...), append([]byte{9, 0}, good[20:]...)...), ErrMalformed},
		{"message cut in its text", good[:len(good)-20], ErrMalformed},
		{"bad message type", append(append([]byte{}, good[:HeaderSize]...), 7, 0), ErrMalformed},
		{"name too long", le(good[:HeaderSize], 2, 1, 1, 1, 1, 0, 0, "03 Dec 26  10:20:30\x00", string(bytes.Repeat([]byte("x"), 40))+"\x00"), ErrTooLarge},
		{"packet too large", make([]byte, MaxPacketBytes+1), ErrTooLarge},
	}
	for _, c := range cases {
		_, err := Parse(c.b)
		var fe *FormatError
		if !errors.Is(err, c.kind) || !errors.As(err, &fe) {
			t.Errorf("%s: err = %v, want %v as a *FormatError", c.name, err, c.kind)
		}
	}
	// A missing terminator at the very end is tolerated.
	if p, err := Parse(good[:len(good)-2]); err != nil || len(p.Messages) != 1 {
		t.Errorf("without terminator: %v", err)
	}
}

func TestAddr(t *testing.T) {
	for in, want := range map[string]Addr{
		"2:5020/1":      {2, 5020, 1, 0},
		"21:1/100.5":    {21, 1, 100, 5},
		"1:2/3@fidonet": {1, 2, 3, 0},
		" 3:633/280.0 ": {3, 633, 280, 0},
	} {
		got, err := ParseAddr(in)
		if err != nil || got != want {
			t.Errorf("ParseAddr(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "1/2", "0:1/2", "1:2", "1:2/x", "1:99999/1", "a:b/c.d", "1:-2/3"} {
		if _, err := ParseAddr(bad); !errors.Is(err, ErrBadAddr) {
			t.Errorf("ParseAddr(%q) err = %v", bad, err)
		}
	}
	if s := (Addr{21, 1, 100, 5}).String(); s != "21:1/100.5" {
		t.Error(s)
	}
}

func TestNetNodes(t *testing.T) {
	list := ParseNetNodes([]string{" 1/100 101 102", "2/5 junk 6.1"}, 100)
	want := []NetNode{{1, 100}, {1, 101}, {1, 102}, {2, 5}, {2, 6}}
	if !reflect.DeepEqual(list, want) {
		t.Fatalf("parsed %v", list)
	}
	lines := FormatNetNodes("SEEN-BY: ", want, 79)
	if len(lines) != 1 || lines[0] != "SEEN-BY: 1/100 101 102 2/5 6" {
		t.Errorf("formatted %q", lines)
	}
	var many []NetNode
	for i := 0; i < 40; i++ {
		many = append(many, NetNode{uint16(i), 1000})
	}
	for _, l := range FormatNetNodes("SEEN-BY: ", many, 79) {
		if len(l) > 79 {
			t.Errorf("line of %d bytes", len(l))
		}
	}
	if got := ParseNetNodes(FormatNetNodes("", many, 79), 1000); !reflect.DeepEqual(got, many) {
		t.Error("long list does not read back")
	}
}

func TestCharsets(t *testing.T) {
	if got := Decode("CP866 2", "\x8f\xe0\xa8\xa2\xa5\xe2"); got != "Привет" {
		t.Errorf("CP866: %q", got)
	}
	if got := Decode("UTF-8 4", "ok \xff"); got != "ok \uFFFD" {
		t.Errorf("UTF-8: %q", got)
	}
	if got := Decode("", "\x82"); got != "é" {
		t.Errorf("default: %q", got)
	}
	if got := Encode("CP437 2", "café ✓"); got != "caf\x82 ?" {
		t.Errorf("encode: %q", got)
	}
	if !KnownCharset("latin-1 2") || KnownCharset("EBCDIC 2") {
		t.Error("KnownCharset")
	}
}

func TestTextTearInBody(t *testing.T) {
	text := ParseText([]byte("a\r---\rb\r--- real\r * Origin: x (1:2/3)\r"))
	if !reflect.DeepEqual(text.Lines, []string{"a", "---", "b"}) || text.Tear != "real" {
		t.Errorf("%+v", text)
	}
}

// netmailText is the text of the golden netmail: from point 2:5020/1.7 to
// 1:123/45, so INTL carries the zones and FMPT the point (FTS-0001 and
// its kludges).
const netmailText = "\x01INTL 1:123/45 2:5020/1\r" +
	"\x01FMPT 7\r" +
	"\x01MSGID: 2:5020/1.7 00c0ffee\r" +
	"\x01CHRS: UTF-8 4\r" +
	"Привет!\r" +
	"\x01Via 2:5020/1 @20261203.102030 m2bbs\r"

// goldenNetmail is a type 2+ packet from the point 2:5020/1.7 to
// 2:5020/1 (its boss) holding a private netmail for another zone, laid
// out as FSC-0048 says a point writes it: origin net 0xFFFF, the real net
// in AuxNet.
func goldenNetmail() []byte {
	return le(
		1, 1, // origNode, destNode
		2026, 11, 3, 10, 20, 30,
		0, 2,
		0xFFFF, 5020, // origNet (a point: -1), destNet
		byte(0xFE), byte(1),
		"\x00\x00\x00\x00\x00\x00\x00\x00", // no password
		2, 2,                               // QOrgZone, QDestZone
		5020,   // AuxNet: the point's net
		0x0100, // capability word, byte-swapped copy
		byte(0), byte(0),
		0x0001,
		2, 2, // origZone, destZone
		7, 0, // origPoint, destPoint
		"\x00\x00\x00\x00",
		2, 1, 45, 5020, 123, // type, origNode, destNode, origNet, destNet
		AttrPrivate, 0,
		"03 Dec 26  10:20:30\x00",
		"Joe Remote\x00", "Ann Point\x00", "Zone to zone\x00",
		netmailText, "\x00",
		0,
	)
}

func TestGoldenNetmail(t *testing.T) {
	p, err := Parse(goldenNetmail())
	if err != nil {
		t.Fatal(err)
	}
	if p.Header.Orig != (Addr{2, 5020, 1, 7}) || p.Header.Dest != (Addr{2, 5020, 1, 0}) || !p.Header.Plus {
		t.Errorf("header %+v", p.Header)
	}
	m := p.Messages[0]
	text := ParseText(m.Text)
	if v, _ := text.Kludge("INTL"); v != "1:123/45 2:5020/1" || m.Attr != AttrPrivate || m.DestNet != 123 || m.DestNode != 45 {
		t.Errorf("message %+v, text %+v", m, text)
	}
	if v, _ := text.Kludge("FMPT"); v != "7" || len(text.Via) != 1 || Decode("UTF-8 4", text.Lines[0]) != "Привет!" {
		t.Errorf("text %+v", text)
	}
	if string(text.Bytes()) != netmailText {
		t.Errorf("text written back:\n%q", text.Bytes())
	}
	if out := p.Bytes(); !bytes.Equal(out, goldenNetmail()) {
		t.Errorf("written back:\n% x\nwant\n% x", out, goldenNetmail())
	}
	golden := filepath.Join("testdata", "netmail.pkt")
	if os.Getenv("UPDATE") == "1" {
		if err := os.WriteFile(golden, goldenNetmail(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if file, err := os.ReadFile(golden); err != nil || !bytes.Equal(file, goldenNetmail()) {
		t.Errorf("testdata/netmail.pkt differs (UPDATE=1 rewrites it): %v", err)
	}
}
