package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/telnet"
	"github.com/m2bbs/m2bbs/host/qwk"
	"github.com/m2bbs/m2bbs/host/qwk/qwktest"
)

// TestOfflineMailByZMODEM is issue 18's QWK test over telnet with real
// sz and rz on both ends: ann's packet, downloaded by ZMODEM from the
// shipped Offline mail menu, is read by the independent reader and is no
// longer new after; a malformed REP uploaded by ZMODEM is refused with a
// report and posts nothing; a file that is not a REP is refused; a REP
// with two replies and a mail posts them where zed reads them; a
// download cancelled moves nothing.
func TestOfflineMailByZMODEM(t *testing.T) {
	needLrzsz(t)
	dir := t.TempDir()
	port := freePorts(t, 1)[0]
	b := startBBS(t, viaBuiltIn, "", append([]string{"-config", filesConfig(t, dir), "-web-port", "-1", "-telnet-port", fmt.Sprint(port)}, fastCallers...)...)
	zed := b.call(t)
	arrive(t, zed, "zed", "pw", "pw", "y")
	if out := visit(t, zed, "B", "1", "W", "Hello board", "First post.", "."); !strings.Contains(out, "Hello board") {
		t.Fatalf("zed's first post:\n%s", out)
	}
	if out := visit(t, zed, "Q", "2", "W", "Modems", "56k or bust.", "."); !strings.Contains(out, "Modems") {
		t.Fatalf("zed's post in tech:\n%s", out)
	}
	visit(t, zed, "Q", "Q")

	ann := dialTelnetCaller(t, port)
	ann.answer("ann", "pw", "pw", "y")
	if out := visit(t, zed, "M", "S", "ann", "Lunch", "Noon at the diner?", ".", "Q"); !strings.Contains(out, "Mail sent.") {
		t.Fatalf("zed's mail to ann:\n%s", out)
	}
	ann.answer("O", "D")
	mine := t.TempDir()
	ann.expect("download now")
	ann.expect("\n")
	zmodem(t, ann, mine, "rz", "-b")
	ann.expect("Sent. What it holds is no longer new to you.")
	time.Sleep(2 * telnet.AfterBinaryQuiet) // a person, after their program's transfer
	data, err := os.ReadFile(filepath.Join(mine, "M2BBS.QWK"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := qwktest.Read(data)
	if err != nil {
		t.Fatalf("independent reader: %v", err)
	}
	if len(p.Msgs) != 3 || p.Msgs[0].Subject != "Lunch" || p.Msgs[1].Subject != "Hello board" || p.Msgs[2].Subject != "Modems" ||
		p.Confs[p.Msgs[2].Conference] != "tech" || p.Control[6] != "ANN" {
		t.Fatalf("packet read: %+v, %v, %q", p.Msgs, p.Confs, p.Control)
	}
	ann.answer("D")
	ann.expect("No packet: no new messages in your areas.")

	// A malformed REP, and a file that is not a REP.
	if err := os.WriteFile(filepath.Join(mine, "M2BBS.REP"), []byte("PK\x03\x04 not really a zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	ann.answer("U")
	ann.expect("upload now")
	ann.expect("\n")
	zmodem(t, ann, mine, "sz", "-b", "M2BBS.REP")
	ann.expect("The reply packet was refused, nothing was posted: ")
	time.Sleep(2 * telnet.AfterBinaryQuiet)
	if err := os.WriteFile(filepath.Join(mine, "NOTES.TXT"), []byte("not a packet"), 0o644); err != nil {
		t.Fatal(err)
	}
	ann.answer("U")
	ann.expect("upload now")
	ann.expect("\n")
	zmodem(t, ann, mine, "sz", "-b", "NOTES.TXT")
	ann.expect("NOTES.TXT refused: not a reply packet")
	ann.expect("Nothing received: no reply packet (a .REP file) among what arrived.")
	time.Sleep(2 * telnet.AfterBinaryQuiet)
	if out := visit(t, zed, "B"); !strings.Contains(out, "1 post\n") || strings.Contains(out, "2 posts") {
		t.Errorf("the areas after a malformed REP:\n%s", out)
	}
	visit(t, zed, "Q")

	rep, err := qwk.BuildREP("M2BBS", []qwk.Message{
		{Conference: p.Msgs[1].Conference, To: "zed", Subject: "Re: Hello board", ReplyTo: int64(p.Msgs[1].Number), Lines: []string{"Hello from my reader."}},
		{Conference: p.Msgs[2].Conference, To: "zed", ReplyTo: int64(p.Msgs[2].Number), Lines: []string{"33.6 is plenty."}},
		{Conference: 0, Private: true, To: "zed", Subject: "Offline hello", Lines: []string{"Written offline."}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mine, "M2BBS.REP"), rep, 0o644); err != nil {
		t.Fatal(err)
	}
	ann.answer("U")
	ann.expect("upload now")
	ann.expect("\n")
	zmodem(t, ann, mine, "sz", "-b", "M2BBS.REP")
	out := ann.expect("3 posted, 0 refused.")
	for _, want := range []string{`1. in general, "Re: Hello board": posted as #3`, `2. in tech, "Re: Modems": posted as #4`,
		`3. mail to zed, "Offline hello": sent`} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}

	if out := visit(t, zed, "M"); !strings.Contains(out, "Offline hello") {
		t.Errorf("zed's mailbox:\n%s", out)
	}
	if out := visit(t, zed, "1", "", "Q"); !strings.Contains(out, "Written offline.") {
		t.Errorf("reading ann's mail:\n%s", out)
	}
	if out := visit(t, zed, "B"); !strings.Contains(out, "2 posts") {
		t.Errorf("the areas after the REP:\n%s", out)
	}
	if out := visit(t, zed, "N"); !strings.Contains(out, "Hello from my reader.") {
		t.Errorf("zed's new scan:\n%s", out)
	}

	// A download cancelled (the caller's program stopped, Ctrl-X) moves
	// nothing: the next packet holds the same post.
	b.play(t, "zed", "pw", "y", "B", "1", "W", "Late news", "Just in.", ".", "Q", "Q", "Q")
	time.Sleep(2 * telnet.AfterBinaryQuiet)
	ann.answer("D")
	if out := ann.expect("download now"); !strings.Contains(out, "Packet M2BBS.QWK: 1 messages (general 1)") {
		t.Fatalf("the packet offered after the REP:\n%s", out)
	}
	ann.expect("\n")
	_ = ann.lrzszUntil(t.TempDir(), 1, false, "rz", "-b")
	ann.expect("Your new messages stay new.")
	time.Sleep(2 * telnet.AfterBinaryQuiet)
	ann.answer("D")
	if out := ann.expect("download now"); !strings.Contains(out, "Packet M2BBS.QWK: 1 messages (general 1)") {
		t.Errorf("after a cancelled download, the packet offered:\n%s", out)
	}
}

// zmodem runs the caller's side of a transfer (args) in dir. Its error
// is only logged: the board's notice after the last byte may end the
// program before it exits by itself (the helper stops it there); what
// arrived and what the board says are what the test checks.
func zmodem(t *testing.T, c *termCaller, dir string, args ...string) {
	t.Helper()
	if err := c.lrzsz(dir, args...); err != nil {
		t.Logf("%s: %v (the board then said %q)", args[0], err, c.pending)
	}
}
