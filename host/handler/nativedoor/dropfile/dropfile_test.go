package dropfile

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

var ann = Caller{
	Name: "ann", RealName: "Ann Example", Level: 20, TimeLeft: 42*time.Minute + 30*time.Second,
	ANSI: true, Width: 80, Height: 25, Node: 3, CommType: CommTelnet, Handle: 3,
	BBSName: "Test Board", SysopName: "Sam Sysop", Now: time.Date(2026, 12, 3, 11, 30, 0, 0, time.UTC),
}

// TestLineCounts: each format has the number of lines its description
// gives, each ending in CR LF.
func TestLineCounts(t *testing.T) {
	want := map[Kind]int{Door32: 11, DoorSys: 52, DorInfo: 13, Chain: 32}
	for _, k := range Kinds() {
		b, err := Write(k, ann)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(b, []byte("\r\n")) {
			t.Errorf("%s does not end in CR LF", k)
		}
		if got := bytes.Count(b, []byte("\r\n")); got != want[k] {
			t.Errorf("%s has %d lines, want %d", k, got, want[k])
		}
		if bytes.Count(b, []byte("\n")) != want[k] {
			t.Errorf("%s has a bare LF", k)
		}
	}
}

// TestFields: the lines doors read most hold the caller's data where the
// formats put them.
func TestFields(t *testing.T) {
	cases := []struct {
		kind Kind
		line int
		want string
	}{
		{Door32, 1, "2"}, {Door32, 2, "3"}, {Door32, 6, "Ann Example"}, {Door32, 7, "ann"},
		{Door32, 8, "20"}, {Door32, 9, "42"}, {Door32, 10, "1"}, {Door32, 11, "3"},
		{DoorSys, 4, "3"}, {DoorSys, 10, "Ann Example"}, {DoorSys, 15, "20"}, {DoorSys, 18, "2550"},
		{DoorSys, 19, "42"}, {DoorSys, 20, "GR"}, {DoorSys, 21, "25"}, {DoorSys, 36, "ann"},
		{DorInfo, 1, "Test Board"}, {DorInfo, 2, "Sam"}, {DorInfo, 3, "Sysop"}, {DorInfo, 7, "Ann"},
		{DorInfo, 8, "Example"}, {DorInfo, 10, "1"}, {DorInfo, 11, "20"}, {DorInfo, 12, "42"},
		{Chain, 2, "ann"}, {Chain, 3, "Ann Example"}, {Chain, 9, "80"}, {Chain, 11, "20"},
		{Chain, 14, "1"}, {Chain, 16, "2550"}, {Chain, 24, "41400"}, {Chain, 32, "3"},
	}
	for _, c := range cases {
		b, _ := Write(c.kind, ann)
		lines := strings.Split(string(b), "\r\n")
		if got := lines[c.line-1]; got != c.want {
			t.Errorf("%s line %d = %q, want %q", c.kind, c.line, got, c.want)
		}
	}
}

// TestHostileName: a caller's name with line breaks, escapes or non-ASCII
// cannot add a line to a drop file nor reach the door as control bytes.
func TestHostileName(t *testing.T) {
	evil := ann
	evil.Name = "eve\r\n999\x1b[2J\x00" + strings.Repeat("é", 100)
	evil.RealName = ""
	evil.Location = "\n\n"
	for _, k := range Kinds() {
		b, _ := Write(k, evil)
		plain := Caller{Node: 1}
		p, _ := Write(k, plain)
		if bytes.Count(b, []byte("\n")) != bytes.Count(p, []byte("\n")) {
			t.Errorf("%s: the name added lines", k)
		}
		for _, c := range b {
			if (c < 0x20 && c != '\r' && c != '\n') || c > 0x7e {
				t.Fatalf("%s holds byte %#x", k, c)
			}
		}
	}
	if got := Safe(evil.Name); len(got) > MaxFieldBytes {
		t.Errorf("Safe kept %d bytes", len(got))
	}
}

// TestParseRoundTrip: what Write puts in DOOR32.SYS and DOOR.SYS, Parse
// reads back.
func TestParseRoundTrip(t *testing.T) {
	for _, k := range []Kind{Door32, DoorSys} {
		b, _ := Write(k, ann)
		in, err := Parse(k, b)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if in.Name != "Ann Example" || in.Alias != "ann" || in.Level != 20 || in.Node != 3 || !in.ANSI {
			t.Errorf("%s read back as %+v", k, in)
		}
		if k == Door32 && (in.TimeLeft != 42*time.Minute || in.Handle != 3 || in.CommType != CommTelnet) {
			t.Errorf("%s read back as %+v", k, in)
		}
		if k == DoorSys && in.TimeLeft != 2550*time.Second {
			t.Errorf("%s time left %v", k, in.TimeLeft)
		}
	}
}

// TestParseErrors: a short or garbled file names the line.
func TestParseErrors(t *testing.T) {
	_, err := Parse(Door32, []byte("2\r\nthree\r\n"))
	if pe, ok := err.(*ParseError); !ok || pe.Line != 2 {
		t.Errorf("err = %v, want line 2", err)
	}
	if _, err := Parse(Door32, bytes.Repeat([]byte("1\n"), MaxFileBytes)); err != ErrTooLong {
		t.Errorf("long file: %v", err)
	}
	if _, err := Parse(Chain, nil); err == nil {
		t.Error("CHAIN.TXT parsed")
	}
}

func TestParseKind(t *testing.T) {
	if k, err := ParseKind("DOOR32.SYS"); err != nil || k != Door32 {
		t.Errorf("ParseKind = %v, %v", k, err)
	}
	if _, err := ParseKind("pcboard.sys"); err == nil {
		t.Error("unknown kind accepted")
	}
}

// FuzzParse: no input makes Parse panic, and what it reads from a file
// Write made is what went in.
func FuzzParse(f *testing.F) {
	for _, k := range []Kind{Door32, DoorSys} {
		b, _ := Write(k, ann)
		f.Add(string(k), b)
	}
	f.Add("door32.sys", []byte("\n\n\r\n-1\n"))
	f.Fuzz(func(t *testing.T, kind string, b []byte) {
		k, err := ParseKind(kind)
		if err != nil {
			return
		}
		_, _ = Parse(k, b)
	})
}
