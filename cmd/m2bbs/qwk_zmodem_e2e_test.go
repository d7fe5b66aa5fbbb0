package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/telnet"
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
	zedPosts(t, zed)

	ann := dialTelnetCaller(t, port)
	ann.answer("ann", "pw", "pw", "y")
	zedMailsAnn(t, zed)
	ann.answer("O", "D")
	mine := t.TempDir()
	zmodem(t, ann, "download now", mine, "rz", "-b")
	ann.expect("Sent. What it holds is no longer new to you.")
	time.Sleep(2 * telnet.AfterBinaryQuiet) // a person, after their program's transfer
	data, err := os.ReadFile(filepath.Join(mine, "M2BBS.QWK"))
	if err != nil {
		t.Fatal(err)
	}
	p := readAnnsPacket(t, data)
	ann.answer("D")
	ann.expect("No packet: no new messages in your areas.")

	// A malformed REP, and a file that is not a REP.
	if err := os.WriteFile(filepath.Join(mine, "M2BBS.REP"), []byte("PK\x03\x04 not really a zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	ann.answer("U")
	zmodem(t, ann, "upload now", mine, "sz", "-b", "M2BBS.REP")
	ann.expect("The reply packet was refused, nothing was posted: ")
	time.Sleep(2 * telnet.AfterBinaryQuiet)
	if err := os.WriteFile(filepath.Join(mine, "NOTES.TXT"), []byte("not a packet"), 0o644); err != nil {
		t.Fatal(err)
	}
	ann.answer("U")
	zmodem(t, ann, "upload now", mine, "sz", "-b", "NOTES.TXT")
	ann.expect("NOTES.TXT refused: not a reply packet")
	ann.expect("Nothing received: no reply packet (a .REP file) among what arrived.")
	time.Sleep(2 * telnet.AfterBinaryQuiet)
	checkNothingPosted(t, zed)

	rep := annsReplies(t, "M2BBS", p)
	if err := os.WriteFile(filepath.Join(mine, "M2BBS.REP"), rep, 0o644); err != nil {
		t.Fatal(err)
	}
	ann.answer("U")
	zmodem(t, ann, "upload now", mine, "sz", "-b", "M2BBS.REP")
	out := ann.expect("3 posted, 0 refused.")
	checkRepliesReport(t, out)

	zedReadsReplies(t, zed)

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

// zmodem waits for the board's mark (its line that the transfer starts)
// and runs the caller's side of the transfer (args) in dir. Its error is
// only logged: the board's notice after the last byte may end the
// program before it exits by itself (the helper stops it there); what
// arrived and what the board says are what the test checks.
func zmodem(t *testing.T, c *termCaller, mark, dir string, args ...string) {
	t.Helper()
	c.expect(mark)
	c.expect("\n")
	if err := c.lrzsz(dir, args...); err != nil {
		t.Logf("%s: %v (the board then said %q)", args[0], err, c.pending)
	}
}
