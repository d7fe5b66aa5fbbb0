package ftn

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/ftn/pkt"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// dirBytes is the total size of the files in dir.
func dirBytes(t testing.TB, dir string) (int64, []string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var n int64
	var names []string
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		n += info.Size()
		names = append(names, e.Name())
	}
	return n, names
}

// TestZipBombBundleSetAsideWhole: a bundle of packets that unpack to far
// more than MaxBundleBytes is set aside whole, as it came; its entries
// are not unpacked into the bad folder one by one (a bundle of a few
// hundred kilobytes filling the disk with 16 MB files).
func TestZipBombBundleSetAsideWhole(t *testing.T) {
	b := newBoard(t, "21:1/101", "21:1/100")
	zeros := make([]byte, pkt.MaxPacketBytes)
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for _, name := range []string{"00000001.pkt", "00000002.pkt", "00000003.pkt"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(zeros)
	}
	zw.Close()
	putInbound(t, b, "0000abcd.we0", zbuf.Bytes())
	r := mustToss(t, b)
	if r.Bad != 1 || r.Tossed != 0 {
		t.Errorf("toss = %+v; want the bundle counted bad once", r)
	}
	size, names := dirBytes(t, b.set.BadDir())
	if size > int64(zbuf.Len()) || len(names) != 1 || names[0] != "0000abcd.we0" {
		t.Errorf("bad folder holds %v, %d bytes; want only the %d-byte bundle", names, size, zbuf.Len())
	}
}

// boardAndPacket is board 21:1/101 with an empty inbound, and a good
// packet to it from its uplink holding one post.
func boardAndPacket(t testing.TB) (*board, []byte) {
	t.Helper()
	a := newBoard(t, "21:1/100", "21:1/101")
	b := newBoard(t, "21:1/101", "21:1/100")
	a.st.Post(context.Background(), store.NewPost{Area: "fido", Author: "ann", Lines: []string{"one"}})
	mustScan(t, a)
	good := deliver(t, a, b)[0]
	os.RemoveAll(b.set.InboundDir())
	return b, good
}

// TestCorruptBundleDoesNotStopTheToss: a file that starts like a ZIP
// archive but is none is set aside, and the packets after it toss in the
// same run.
func TestCorruptBundleDoesNotStopTheToss(t *testing.T) {
	ctx := context.Background()
	b, good := boardAndPacket(t)
	putInbound(t, b, "0000abcd.th0", []byte("PK\x03\x04 but not a zip archive at all"))
	putInbound(t, b, "zzzzzzzz.pkt", good)
	// The bundle is the older file: it is tossed first.
	old := filepath.Join(b.set.InboundDir(), "0000abcd.th0")
	fixedTime := time.Now().Add(-time.Hour)
	if err := os.Chtimes(old, fixedTime, fixedTime); err != nil {
		t.Fatal(err)
	}
	r, err := b.toss.Toss(ctx)
	if err != nil {
		t.Fatalf("toss stopped: %v (%+v)", err, r)
	}
	if r.Tossed != 1 || r.Bad != 1 {
		t.Errorf("toss = %+v; want 1 tossed, 1 bad", r)
	}
}

// echoPacket is a packet from uplink 21:1/100 to board 21:1/101 with one
// M2.TEST message whose text is text.
func echoPacket(t *testing.T, text string) []byte {
	t.Helper()
	orig, _ := pkt.ParseAddr("21:1/100")
	dest, _ := pkt.ParseAddr("21:1/101")
	p := pkt.Packet{
		Header: pkt.Header{Orig: orig, Dest: dest, Password: "PKTPW"},
		Messages: []pkt.Message{{
			OrigNet: 1, OrigNode: 100, DestNet: 1, DestNode: 101,
			Date: "03 Dec 26  10:00:00", To: "All", From: "Carol", Subject: "Hi",
			Text: []byte("AREA:M2.TEST\r" + text),
		}},
	}
	return p.Bytes()
}

// TestOwnPostComingBackIsADupe: a post this board exported that an
// uplink sends back (a loop in the echo's topology) is dropped as a
// duplicate, not stored a second time and passed on again.
func TestOwnPostComingBackIsADupe(t *testing.T) {
	ctx := context.Background()
	a := newBoard(t, "21:1/101", "21:1/100")
	if _, err := a.st.Post(ctx, store.NewPost{Area: "fido", Author: "ann", Subject: "Loop", Lines: []string{"round and round"}}); err != nil {
		t.Fatal(err)
	}
	if r := mustScan(t, a); r.Posts != 1 {
		t.Fatalf("scan = %+v", r)
	}
	var sent [][]byte
	for _, up := range a.set.Uplinks {
		for _, f := range a.set.OutboundFor(up.Addr) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			sent = append(sent, b)
		}
	}
	if len(sent) != 1 {
		t.Fatalf("%d packets in the outbound", len(sent))
	}
	// The uplink echoes the message back, in a packet of its own.
	p := mustParse(t, sent[0])
	p.Header.Orig, p.Header.Dest = p.Header.Dest, p.Header.Orig
	putInbound(t, a, "back.pkt", p.Bytes())
	if r := mustToss(t, a); r.Dupes != 1 || r.Tossed != 0 {
		t.Errorf("own post coming back: %+v; want a duplicate", r)
	}
	if n, _ := a.st.PostCount(ctx, "fido"); n != 1 {
		t.Errorf("%d posts in the echo; want 1", n)
	}
}

// TestMsgIDVariantsAreDupes: the same MSGID written with another case of
// its serial or other white space is the same message.
func TestMsgIDVariantsAreDupes(t *testing.T) {
	ctx := context.Background()
	b := newBoard(t, "21:1/101", "21:1/100")
	for i, id := range []string{"21:1/100 abcd1234", "21:1/100  ABCD1234 ", "21:1/100\tAbCd1234"} {
		putInbound(t, b, fmt.Sprintf("%08x.pkt", i), echoPacket(t, "\x01MSGID: "+id+"\rhello\r"))
		r := mustToss(t, b)
		if want := (TossResult{Files: 1, Tossed: 1}); i == 0 && r != want {
			t.Fatalf("first copy: %+v", r)
		}
		if want := (TossResult{Files: 1, Dupes: 1}); i > 0 && r != want {
			t.Errorf("MSGID %q: %+v; want a duplicate", id, r)
		}
	}
	if n, _ := b.st.PostCount(ctx, "fido"); n != 1 {
		t.Errorf("%d posts; want 1", n)
	}
}

// TestNoMsgIDDupeAcrossRoutes: a message without MSGID that arrives
// again by another way (more SEEN-BY, a longer PATH, a kludge a tosser
// added) is a duplicate.
func TestNoMsgIDDupeAcrossRoutes(t *testing.T) {
	b := newBoard(t, "21:1/101", "21:1/100")
	body := "hello\r--- old tosser\r * Origin: Far away (21:3/7)\r"
	copies := []string{
		body + "SEEN-BY: 3/7 1/100\r\x01PATH: 3/7\r",
		"\x01TID: hub 1.0\r" + body + "SEEN-BY: 2/5 3/7 1/100\r\x01PATH: 3/7 2/5\r",
	}
	for i, c := range copies {
		putInbound(t, b, fmt.Sprintf("%08x.pkt", i), echoPacket(t, c))
		r := mustToss(t, b)
		if i == 1 && r.Dupes != 1 {
			t.Errorf("copy by another route: %+v; want a duplicate", r)
		}
	}
}

// TestScanKeepsPacketsUnderTheTossLimit: many long posts go out over
// several scans in packets the other side's tosser reads (each under
// pkt.MaxPacketBytes), all of them once; one scan no longer writes them
// all into one packet the uplink sets aside whole.
func TestScanKeepsPacketsUnderTheTossLimit(t *testing.T) {
	ctx := context.Background()
	a := newBoard(t, "21:1/100", "21:1/101")
	b := newBoard(t, "21:1/101", "21:1/100")
	line := strings.Repeat("x", 63)
	lines := make([]string, 900)
	for i := range lines {
		lines[i] = line
	}
	const posts = 300 // 300 × 57 KB: 17 MB of text
	for i := 0; i < posts; i++ {
		if _, err := a.st.Post(ctx, store.NewPost{Area: "fido", Author: "ann", Subject: fmt.Sprint("long ", i), Lines: lines}); err != nil {
			t.Fatal(err)
		}
	}
	exported := 0
	for scans := 0; exported < posts; scans++ {
		if scans == 10 {
			t.Fatalf("%d of %d posts exported after 10 scans", exported, posts)
		}
		r := mustScan(t, a)
		exported += r.Posts
		for _, p := range deliver(t, a, b) {
			if len(p) > pkt.MaxPacketBytes {
				t.Fatalf("a packet of %d bytes (the tosser's limit is %d)", len(p), pkt.MaxPacketBytes)
			}
		}
	}
	if r := mustToss(t, b); r.Tossed != posts || r.Bad != 0 {
		t.Errorf("toss = %+v; want %d tossed", r, posts)
	}
}

// TestLongMessageCutNotLost: a post at the board's limits (1,000 lines)
// reaches the other board, its tear and origin line added on the way;
// and a network message longer than a post may be is kept cut, with its
// origin, not counted bad and lost.
func TestLongMessageCutNotLost(t *testing.T) {
	ctx := context.Background()
	a := newBoard(t, "21:1/100", "21:1/101")
	b := newBoard(t, "21:1/101", "21:1/100")
	lines := make([]string, store.MaxLines)
	for i := range lines {
		lines[i] = "line"
	}
	if _, err := a.st.Post(ctx, store.NewPost{Area: "fido", Author: "ann", Subject: "full", Lines: lines}); err != nil {
		t.Fatal(err)
	}
	mustScan(t, a)
	deliver(t, a, b)
	long := strings.Repeat(strings.Repeat("y", 199)+"\r", 1000) // 200 KB
	putInbound(t, b, "long.pkt", echoPacket(t, "\x01MSGID: 21:1/100 00000bad\r"+long+" * Origin: Far (21:1/100)\r"))
	if r := mustToss(t, b); r.Tossed != 2 || r.Bad != 0 {
		t.Fatalf("toss = %+v; want both messages tossed", r)
	}
	list, _ := b.st.Posts(ctx, "fido", 0, 10, store.OldestFirst)
	for _, p := range list {
		got, err := b.st.ReadPost(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(got.Lines); n == 0 || !strings.HasPrefix(got.Lines[n-1], " * Origin: ") {
			t.Errorf("post %q ends %q; want its origin line", p.Subject, got.Lines[n-1:])
		}
	}
}

// TestHugeTossLeavesCallersResponsive: while a packet of thousands of
// messages tosses, a caller's post on the same board is stored within a
// second each time (the toss takes one short transaction per message, on
// the FTN service's goroutine, never a caller's).
func TestHugeTossLeavesCallersResponsive(t *testing.T) {
	if testing.Short() {
		t.Skip("a toss of 3,000 messages")
	}
	ctx := context.Background()
	b := newBoard(t, "21:1/101", "21:1/100")
	if _, err := b.st.DefineArea(ctx, "local", "not an echo"); err != nil {
		t.Fatal(err)
	}
	orig, _ := pkt.ParseAddr("21:1/100")
	dest, _ := pkt.ParseAddr("21:1/101")
	p := pkt.Packet{Header: pkt.Header{Orig: orig, Dest: dest, Password: "PKTPW"}}
	for i := 0; i < 3000; i++ {
		p.Messages = append(p.Messages, pkt.Message{OrigNet: 1, OrigNode: 100, DestNet: 1, DestNode: 101,
			Date: "03 Dec 26  10:00:00", To: "All", From: "Flood", Subject: "flood",
			Text: []byte(fmt.Sprintf("AREA:M2.TEST\r\x01MSGID: 21:1/100 %08x\rflood %d\r", i, i))})
	}
	putInbound(t, b, "flood.pkt", p.Bytes())
	done := make(chan TossResult)
	go func() {
		r, err := b.toss.Toss(ctx)
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	var worst time.Duration
	posts := 0
	for tossing := true; tossing; {
		select {
		case r := <-done:
			if r.Tossed != 3000 {
				t.Errorf("toss = %+v", r)
			}
			tossing = false
		default:
			start := time.Now()
			if _, err := b.st.Post(ctx, store.NewPost{Area: "local", Author: "bob", Subject: "still here", Lines: []string{"hi"}}); err != nil {
				t.Fatal(err)
			}
			worst = max(worst, time.Since(start))
			posts++
		}
	}
	t.Logf("%d posts during the toss; the slowest took %v", posts, worst)
	if worst > time.Second {
		t.Errorf("a caller's post took %v during the toss", worst)
	}
}

// TestLocalPostCannotForgeKludges: a caller's post whose lines look like
// kludges, SEEN-BY, PATH, an origin or an AREA line goes out with them as
// body text: the packet's MSGID, SEEN-BY, PATH and origin are the
// board's.
func TestLocalPostCannotForgeKludges(t *testing.T) {
	ctx := context.Background()
	a := newBoard(t, "21:1/100", "21:1/101")
	forged := []string{"AREA:OTHER.ECHO", "\x01MSGID: 9:9/9 deadbeef", "\x01REPLY: 9:9/9 00000001", "x\r\x01PATH: 9/9",
		"SEEN-BY: 9/9 1/101", "--- forged", " * Origin: Forged (9:9/9)", "\x01Via 9:9/9"}
	if _, err := a.st.Post(ctx, store.NewPost{Area: "fido", Author: "ann", Subject: "forge", Lines: forged}); err != nil {
		t.Fatal(err)
	}
	mustScan(t, a)
	var sent []byte
	for _, f := range a.set.OutboundFor(a.set.Uplinks[0].Addr) {
		sent, _ = os.ReadFile(f)
	}
	text := pkt.ParseText(mustParse(t, sent).Messages[0].Text)
	msgid, _ := text.Kludge("MSGID")
	_, reply := text.Kludge("REPLY")
	if text.Area != "M2.TEST" || !strings.HasPrefix(msgid, "21:1/100 ") || reply || len(text.Via) != 0 {
		t.Errorf("area %q, MSGID %q, REPLY %v, Via %v", text.Area, msgid, reply, text.Via)
	}
	if joinNetNodes(text.SeenBy) != "1/100 1/101" || joinNetNodes(text.Path) != "1/100" || text.Origin != "Board 21:1/100 (21:1/100)" || text.Tear != "m2bbs" {
		t.Errorf("SEEN-BY %v, PATH %v, origin %q, tear %q", text.SeenBy, text.Path, text.Origin, text.Tear)
	}
	if len(text.Lines) != len(forged) {
		t.Errorf("body %q; want the %d lines as text", text.Lines, len(forged))
	}
}

// TestNetmailWrittenAsThisBoardIsRefused: an uplink's netmail that
// claims to come from this board's own address (the sysop here, as the
// recipient would read it) is counted bad, not put in the mailbox.
func TestNetmailWrittenAsThisBoardIsRefused(t *testing.T) {
	ctx := context.Background()
	b := newBoard(t, "21:1/101", "21:1/100")
	orig, _ := pkt.ParseAddr("21:1/100")
	dest, _ := pkt.ParseAddr("21:1/101")
	p := pkt.Packet{Header: pkt.Header{Orig: orig, Dest: dest, Password: "PKTPW"}, Messages: []pkt.Message{{
		OrigNet: 1, OrigNode: 101, DestNet: 1, DestNode: 101, Attr: pkt.AttrPrivate,
		Date: "03 Dec 26  10:00:00", To: "bob", From: "sysop", Subject: "your password",
		Text: []byte("\x01INTL 21:1/101 21:1/101\r\x01MSGID: 21:1/101 00000043\rsend it to me\r"),
	}}}
	putInbound(t, b, "net.pkt", p.Bytes())
	if r := mustToss(t, b); r.Tossed != 0 || r.Bad != 1 {
		t.Errorf("toss = %+v; want it counted bad", r)
	}
	if list, _ := b.st.ListMail(ctx, "bob", 0, 10); len(list) != 0 {
		t.Errorf("bob's mailbox holds %+v", list)
	}
}

// TestEchomailWrittenAsThisBoardIsRefused: echomail from an uplink whose
// origin is this board's own address, and that is not one of its own
// posts coming back, is counted bad, not shown to callers as written
// here.
func TestEchomailWrittenAsThisBoardIsRefused(t *testing.T) {
	ctx := context.Background()
	b := newBoard(t, "21:1/101", "21:1/100")
	putInbound(t, b, "echo.pkt", echoPacket(t, "\x01MSGID: 21:1/101 00000042\rtrust me\r * Origin: Board (21:1/101)\r"))
	if r := mustToss(t, b); r.Tossed != 0 || r.Bad != 1 {
		t.Errorf("toss = %+v; want it counted bad", r)
	}
	if n, _ := b.st.PostCount(ctx, "fido"); n != 0 {
		t.Errorf("%d posts in the echo", n)
	}
}
