package ftn

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/ftn/pkt"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// board is one board of a test: its store, settings, tosser and scanner.
type board struct {
	st   *store.SQLite
	set  *Settings
	toss *Tosser
	scan *Scanner
}

// newBoard opens a board at address addr with one uplink, up, and the
// echo M2.TEST in its area "fido".
func newBoard(t testing.TB, addr, up string) *board {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(boardDB(t, dir), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	set, err := ParseSettings(map[string]any{
		"address": addr,
		"uplinks": []any{map[string]any{"address": up, "host": "127.0.0.1", "password": "sess", "packet_password": "PKTPW"}},
		"echoes":  map[string]any{"M2.TEST": "fido"},
		"origin":  "Board " + addr,
	}, filepath.Join(dir, "bbs.db"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, u := range []string{"sysop", "ann", "bob"} {
		if err := st.RegisterUser(ctx, u, "password1"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.DefineArea(ctx, "fido", "the test echo"); err != nil {
		t.Fatal(err)
	}
	if err := st.LinkEchoes(ctx, []string{"fido"}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &board{st: st, set: &set,
		toss: &Tosser{Settings: &set, Store: st, Log: log},
		scan: &Scanner{Settings: &set, Store: st, Log: log}}
}

// deliver plays the mailer: it moves every packet in from's outbound (as
// listed in its flo files) into to's inbound, and empties the flo files.
// It returns the packets' bytes.
func deliver(t testing.TB, from, to *board) [][]byte {
	t.Helper()
	var out [][]byte
	for _, up := range from.set.Uplinks {
		out = append(out, deliverTo(t, from, up.Addr, to)...)
	}
	return out
}

// putInbound writes a file into b's inbound.
func putInbound(t testing.TB, b *board, name string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(b.set.InboundDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.set.InboundDir(), name), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustScan(t testing.TB, b *board) ScanResult {
	t.Helper()
	r, err := b.scan.Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustToss(t *testing.T, b *board) TossResult {
	t.Helper()
	r, err := b.toss.Toss(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestEchoRoundTripThreadsAndDupes(t *testing.T) {
	ctx := context.Background()
	a := newBoard(t, "21:1/100", "21:1/101")
	b := newBoard(t, "21:1/101", "21:1/100")
	post, err := a.st.Post(ctx, store.NewPost{Area: "fido", Author: "ann", Subject: "Hello network", Lines: []string{"Grüße from A", "--- not a tear"}})
	if err != nil {
		t.Fatal(err)
	}
	if r := mustScan(t, a); r.Posts != 1 || r.Packets != 1 {
		t.Fatalf("scan A = %+v", r)
	}
	if r := mustScan(t, a); r.Posts != 0 {
		t.Fatalf("second scan exported again: %+v", r)
	}
	packets := deliver(t, a, b)
	if len(packets) != 1 {
		t.Fatalf("%d packets delivered", len(packets))
	}
	if r := mustToss(t, b); r.Tossed != 1 || r.Bad != 0 {
		t.Fatalf("toss B = %+v", r)
	}
	list, _ := b.st.Posts(ctx, "fido", 0, 10, store.OldestFirst)
	if len(list) != 1 || list[0].Author != "ann@21:1/100" || list[0].Subject != "Hello network" {
		t.Fatalf("B's echo = %+v", list)
	}
	got, _ := b.st.ReadPost(ctx, list[0].ID)
	want := []string{"Grüße from A", "---- not a tear", "--- m2bbs", " * Origin: Board 21:1/100 (21:1/100)"}
	if strings.Join(got.Lines, "|") != strings.Join(want, "|") {
		t.Errorf("B reads %q, want %q", got.Lines, want)
	}
	// The same packet delivered again: dropped as a duplicate.
	putInbound(t, b, "again.pkt", packets[0])
	if r := mustToss(t, b); r.Tossed != 0 || r.Dupes != 1 {
		t.Errorf("re-delivered packet: %+v", r)
	}
	// bob replies on B; the reply reaches A under ann's post.
	if _, err := b.st.Post(ctx, store.NewPost{Author: "bob", Lines: []string{"Hi ann"}, ReplyTo: list[0].ID}); err != nil {
		t.Fatal(err)
	}
	if r := mustScan(t, b); r.Posts != 1 {
		t.Fatalf("scan B = %+v", r)
	}
	reply := deliver(t, b, a)
	p, _ := pkt.Parse(reply[0])
	text := pkt.ParseText(p.Messages[0].Text)
	if r, _ := text.Kludge("REPLY"); !strings.HasPrefix(r, "21:1/100 ") || p.Messages[0].To != "ann" {
		t.Errorf("reply's REPLY kludge %q, to %q", r, p.Messages[0].To)
	}
	if r := mustToss(t, a); r.Tossed != 1 {
		t.Fatalf("toss A = %+v", r)
	}
	thread, _ := a.st.Thread(ctx, post.ID)
	if len(thread) != 2 || thread[1].Author != "bob@21:1/101" || thread[1].ParentID != post.ID || thread[1].Subject != "Re: Hello network" {
		t.Errorf("A's thread = %+v", thread)
	}
	// A tossed reply is not exported back.
	if r := mustScan(t, a); r.Posts != 0 {
		t.Errorf("A re-exported a tossed post: %+v", r)
	}
}

func TestNetmailRoundTrip(t *testing.T) {
	ctx := context.Background()
	a := newBoard(t, "21:1/100", "21:1/101")
	b := newBoard(t, "21:1/101", "21:1/100")
	if _, err := a.st.WriteMail(ctx, "bob@21:1/101", "ann", "Private", []string{"just for you"}); err != nil {
		t.Fatal(err)
	}
	if r := mustScan(t, a); r.Netmail != 1 {
		t.Fatalf("scan = %+v", r)
	}
	deliver(t, a, b)
	if r := mustToss(t, b); r.Tossed != 1 {
		t.Fatalf("toss = %+v", r)
	}
	list, _ := b.st.ListMail(ctx, "bob", 0, 10)
	if len(list) != 1 || list[0].From != "ann@21:1/100" || list[0].Subject != "Private" {
		t.Fatalf("bob's mailbox = %+v", list)
	}
	// bob answers to the From shown: it goes back with REPLY.
	if _, err := b.st.WriteMail(ctx, list[0].From, "bob", "Re: Private", []string{"thanks"}); err != nil {
		t.Fatal(err)
	}
	mustScan(t, b)
	back := deliver(t, b, a)
	text := pkt.ParseText(mustParse(t, back[0]).Messages[0].Text)
	if r, _ := text.Kludge("REPLY"); !strings.HasPrefix(r, "21:1/100 ") {
		t.Errorf("netmail reply without REPLY: %+v", text.Kludges)
	}
	mustToss(t, a)
	if _, unread, _ := a.st.MailCount(ctx, "ann"); unread != 1 {
		t.Errorf("ann has %d unread", unread)
	}
	// Netmail to a user B does not have is counted bad, not lost silently.
	a.st.WriteMail(ctx, "Nobody Here@21:1/101", "ann", "x", []string{"x"})
	mustScan(t, a)
	deliver(t, a, b)
	if r := mustToss(t, b); r.Bad != 1 {
		t.Errorf("netmail to nobody: %+v", r)
	}
}

func mustParse(t testing.TB, b []byte) *pkt.Packet {
	t.Helper()
	p, err := pkt.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBadPacketsSetAsideWhileTheRestTosses(t *testing.T) {
	ctx := context.Background()
	b, good := boardAndPacket(t)
	// A bundle holding a corrupt packet and the good one; a corrupt
	// packet on its own; a packet with the wrong password; an ARJ bundle.
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	w, _ := zw.Create("00000001.pkt")
	w.Write(good[:70])
	w, _ = zw.Create("00000002.pkt")
	w.Write(good)
	zw.Close()
	putInbound(t, b, "0000abcd.su0", zbuf.Bytes())
	putInbound(t, b, "corrupt.pkt", []byte("not a packet at all"))
	wrong := mustParse(t, good)
	wrong.Header.Password = "WRONG"
	putInbound(t, b, "wrongpw.pkt", wrong.Bytes())
	putInbound(t, b, "0000abcd.mo1", []byte("\x60\xea arj bundle"))
	r := mustToss(t, b)
	if r.Tossed != 1 || r.Bad != 3 || r.Refused != 1 {
		t.Errorf("toss = %+v; want 1 tossed, 3 bad, 1 refused", r)
	}
	bad, _ := os.ReadDir(b.set.BadDir())
	var names []string
	for _, e := range bad {
		names = append(names, e.Name())
	}
	if len(names) != 4 {
		t.Errorf("bad folder holds %v", names)
	}
	if left, _ := os.ReadDir(b.set.InboundDir()); len(left) != 0 {
		t.Errorf("inbound still holds %d files", len(left))
	}
	if n, _ := b.st.PostCount(ctx, "fido"); n != 1 {
		t.Errorf("%d posts in the echo", n)
	}
}

// TestScanSurvivesACrash plays the two crashes the scanner guards
// against: after writing a packet and before marking (the packet is
// dropped and written again, once), and after marking and before
// handing over (the staged packet is handed over, once).
func TestScanSurvivesACrash(t *testing.T) {
	ctx := context.Background()
	a := newBoard(t, "21:1/100", "21:1/101")
	b := newBoard(t, "21:1/101", "21:1/100")
	a.st.Post(ctx, store.NewPost{Area: "fido", Author: "ann", Lines: []string{"one"}})

	// Crash 1: a staged file the store does not know.
	os.MkdirAll(a.set.StagingDir(), 0o700)
	os.WriteFile(filepath.Join(a.set.StagingDir(), "deadbeef.pkt"), []byte("half"), 0o600)
	if r := mustScan(t, a); r.Posts != 1 || r.Packets != 1 {
		t.Fatalf("scan after crash 1 = %+v", r)
	}
	if _, err := os.Stat(filepath.Join(a.set.StagingDir(), "deadbeef.pkt")); err == nil {
		t.Error("the orphan staged packet is still there")
	}

	// Crash 2: marked and staged, not handed over (the node was busy).
	a.st.Post(ctx, store.NewPost{Area: "fido", Author: "ann", Lines: []string{"two"}})
	bsy := a.set.nodeBase(a.set.Uplinks[0].Addr) + ".bsy"
	os.WriteFile(bsy, []byte("1\n"), 0o600) // pid 1 is alive: busy
	if r := mustScan(t, a); r.Posts != 1 || r.Packets != 0 {
		t.Fatalf("scan with the node busy = %+v", r)
	}
	os.Remove(bsy)
	if r := mustScan(t, a); r.Posts != 0 || r.Packets != 0 {
		t.Fatalf("scan after the node freed = %+v", r)
	}
	if staged, _ := a.st.StagedPackets(ctx); len(staged) != 0 {
		t.Errorf("still staged: %+v", staged)
	}
	deliver(t, a, b)
	if r := mustToss(t, b); r.Tossed != 2 || r.Dupes != 0 {
		t.Errorf("B tossed %+v; want both posts once", r)
	}
}

// TestCP437Export: a board that exports in CP437 writes its text in that
// charset with CHRS saying so; the other board decodes it to UTF-8.
func TestCP437Export(t *testing.T) {
	ctx := context.Background()
	a := newBoard(t, "21:1/100", "21:1/101")
	b := newBoard(t, "21:1/101", "21:1/100")
	a.set.Charset = "CP437 2"
	a.st.Post(ctx, store.NewPost{Area: "fido", Author: "ann", Subject: "Café", Lines: []string{"½ café, ░▒▓ and ✓"}})
	mustScan(t, a)
	raw := deliver(t, a, b)[0]
	m := mustParse(t, raw).Messages[0]
	text := pkt.ParseText(m.Text)
	if chrs, _ := text.Kludge("CHRS"); chrs != "CP437 2" || m.Subject != "Caf\x82" || text.Lines[0] != "\xab caf\x82, \xb0\xb1\xb2 and ?" {
		t.Errorf("exported CHRS %q, subject %q, line %q", chrs, m.Subject, text.Lines[0])
	}
	mustToss(t, b)
	list, _ := b.st.Posts(ctx, "fido", 0, 1, store.NewestFirst)
	p, _ := b.st.ReadPost(ctx, list[0].ID)
	if p.Subject != "Café" || p.Lines[0] != "½ café, ░▒▓ and ?" {
		t.Errorf("B reads %q: %q", p.Subject, p.Lines)
	}
}

// BenchmarkTossPacket tosses a packet of 100 echomail messages into the
// store (each message its own transaction, as the tosser does).
func BenchmarkTossPacket(b *testing.B) {
	dir := b.TempDir()
	st, err := store.Open(filepath.Join(dir, "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	st.DefineArea(ctx, "fido", "")
	set, err := ParseSettings(map[string]any{"address": "21:1/101",
		"uplinks": []any{map[string]any{"address": "21:1/100", "host": "x"}}, "echoes": map[string]any{"BENCH": "fido"}}, filepath.Join(dir, "bbs.db"))
	if err != nil {
		b.Fatal(err)
	}
	tosser := &Tosser{Settings: &set, Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	round := 0
	for b.Loop() {
		p := pkt.Packet{Header: pkt.Header{Orig: pkt.Addr{Zone: 21, Net: 1, Node: 100}, Dest: pkt.Addr{Zone: 21, Net: 1, Node: 101}}}
		for i := 0; i < 100; i++ {
			text := pkt.Text{Area: "BENCH", Lines: []string{"a line of text", "another one"}, HasTear: true, Origin: "B (21:1/100)"}
			text.SetKludge("MSGID", fmt.Sprintf("21:1/100 %04x%04x", round, i))
			p.Messages = append(p.Messages, pkt.Message{OrigNet: 1, OrigNode: 100, DestNet: 1, DestNode: 101,
				Date: pkt.FormatDate(time.Now()), To: "All", From: "Bench", Subject: "bench", Text: text.Bytes()})
		}
		round++
		r, err := tosser.TossPacket(ctx, "bench.pkt", p.Bytes())
		if err != nil || r.Tossed != 100 {
			b.Fatalf("%+v %v", r, err)
		}
	}
}

// TestEchoUplinks: a board on two networks sends each echo only to the
// uplinks that carry it, lists only those in SEEN-BY, and tosses an
// echo's mail only from them.
func TestEchoUplinks(t *testing.T) {
	ctx := context.Background()
	a := newBoard(t, "21:1/100", "21:1/101")
	fido := Uplink{Addr: pkt.Addr{Zone: 2, Net: 5020, Node: 1}, Host: "127.0.0.1", PacketPassword: "PKTPW"}
	a.set.Addresses = append(a.set.Addresses, pkt.Addr{Zone: 2, Net: 5020, Node: 999})
	a.set.Uplinks = append(a.set.Uplinks, fido)
	a.set.Echoes = []Echo{
		{Tag: "M2BBS.TEST", Area: "fido", Uplinks: []pkt.Addr{{Zone: 21, Net: 1, Node: 101}}},
	}
	a.st.Post(ctx, store.NewPost{Area: "fido", Author: "ann", Lines: []string{"for fsxNet only"}})
	if r := mustScan(t, a); r.Packets != 1 {
		t.Fatalf("scan = %+v; want one packet, to 21:1/101", r)
	}
	if files := a.set.OutboundFor(fido.Addr); len(files) != 0 {
		t.Errorf("the FidoNet uplink got the fsxNet echo: %v", files)
	}
	files := a.set.OutboundFor(a.set.Uplinks[0].Addr)
	if len(files) != 1 {
		t.Fatalf("the fsxNet uplink's outbound: %v", files)
	}
	raw, _ := os.ReadFile(files[0])
	text := pkt.ParseText(mustParse(t, raw).Messages[0].Text)
	if got := joinNetNodes(text.SeenBy); got != "1/100 1/101" {
		t.Errorf("SEEN-BY %q lists uplinks that do not carry the echo", got)
	}
	// The same echo from the FidoNet uplink is not tossed.
	m := mustParse(t, raw)
	m.Header.Orig, m.Header.Dest = fido.Addr, pkt.Addr{Zone: 2, Net: 5020, Node: 999}
	r, err := a.toss.TossPacket(ctx, "x.pkt", m.Bytes())
	if err != nil || r.Tossed != 0 || r.Bad != 1 {
		t.Errorf("the echo from an uplink that does not carry it: %+v, %v", r, err)
	}
}

// deliverTo plays the mailer for one uplink of from: the packets listed
// for it go into to's inbound. It returns them.
func deliverTo(t testing.TB, from *board, up pkt.Addr, to *board) [][]byte {
	t.Helper()
	var out [][]byte
	for _, f := range from.set.OutboundFor(up) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
		putInbound(t, to, filepath.Base(f), b)
		os.Remove(f)
	}
	os.Remove(from.set.nodeBase(up) + ".flo")
	return out
}

// TestForwardBetweenUplinks: B links A and C in one echo. A's post
// reaches C through B with all three in SEEN-BY and A, B in PATH; it is
// not sent back to A, and C's copy is not passed on again.
func TestForwardBetweenUplinks(t *testing.T) {
	ctx := context.Background()
	addrA, addrB, addrC := pkt.Addr{Zone: 21, Net: 1, Node: 100}, pkt.Addr{Zone: 21, Net: 1, Node: 101}, pkt.Addr{Zone: 21, Net: 1, Node: 102}
	a := newBoard(t, "21:1/100", "21:1/101")
	b := newBoard(t, "21:1/101", "21:1/100")
	c := newBoard(t, "21:1/102", "21:1/101")
	b.set.Uplinks = append(b.set.Uplinks, Uplink{Addr: addrC, Host: "127.0.0.1", PacketPassword: "PKTPW"})
	a.st.Post(ctx, store.NewPost{Area: "fido", Author: "ann", Subject: "round", Lines: []string{"to everyone"}})
	mustScan(t, a)
	deliverTo(t, a, addrB, b)
	if r := mustToss(t, b); r.Tossed != 1 {
		t.Fatalf("B tossed %+v", r)
	}
	kept, err := b.st.UnforwardedPosts(ctx, 10)
	if err != nil || len(kept) != 1 || mustParse(t, kept[0].Packet).Header.Password != "" {
		t.Errorf("the packet kept to pass on (%v) holds a password, or is missing: %d", err, len(kept))
	}
	if r := mustScan(t, b); r.Forwarded != 1 || r.Posts != 0 {
		t.Fatalf("B's scan = %+v; want the post passed on", r)
	}
	if back := b.set.OutboundFor(addrA); len(back) != 0 {
		t.Errorf("B sent A's post back to A: %v", back)
	}
	toC := deliverTo(t, b, addrC, c)
	if len(toC) != 1 {
		t.Fatalf("%d packets for C", len(toC))
	}
	p := mustParse(t, toC[0])
	if p.Header.Password != "PKTPW" || p.Header.Orig != addrB {
		t.Errorf("forwarded packet header %+v", p.Header)
	}
	text := pkt.ParseText(p.Messages[0].Text)
	if got := joinNetNodes(text.SeenBy); got != "1/100 1/101 1/102" {
		t.Errorf("SEEN-BY %q", got)
	}
	if got := joinNetNodes(text.Path); got != "1/100 1/101" {
		t.Errorf("PATH %q", got)
	}
	if id, _ := text.Kludge("MSGID"); !strings.HasPrefix(id, "21:1/100 ") || text.Origin != "Board 21:1/100 (21:1/100)" {
		t.Errorf("the forwarded message's MSGID %q or origin %q changed", id, text.Origin)
	}
	if r := mustToss(t, c); r.Tossed != 1 {
		t.Fatalf("C tossed %+v", r)
	}
	list, _ := c.st.Posts(ctx, "fido", 0, 1, store.NewestFirst)
	if len(list) != 1 || list[0].Subject != "round" || list[0].Author != "ann@21:1/100" {
		t.Errorf("C's echo: %+v", list)
	}
	if r := mustScan(t, b); r.Forwarded != 0 {
		t.Errorf("B passed the post on twice: %+v", r)
	}
	if r := mustScan(t, c); r.Forwarded != 0 || r.Packets != 0 {
		t.Errorf("C passed on a post its only uplink had seen: %+v", r)
	}
}
