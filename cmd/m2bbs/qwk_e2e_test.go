package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// qwkMain is the shipped board with the Offline mail menu's transfers
// replaced for the test: a packet "sent" is shown by its path and the
// caller says whether it arrived; a reply packet "received" is the file
// at rep.
func qwkMain(t *testing.T, rep string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "qwk_main.lua")
	src := fmt.Sprintf(`require 'bbs'
local ui = require 'ui'
local offline = require 'offline'
offline.BOARD.bbsid = 'E2EBBS'
function offline.send(conn, req, user, path)
    ui.display(conn, req, 'PACKET ' .. path)
    req = ui.ask(conn, req, 'Did it arrive? ')
    return req, ui.trim(req.data.msg):upper() == 'Y', 'the caller said no'
end
function offline.receive(conn, req, user)
    return req, %q
end
return m2bbs
`, rep)
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOfflineMailThroughTheMenu drives the shipped board's Offline mail
// menu: a packet read by the independent reader, pointers left alone by
// a failed transfer and moved by one that arrived, a REP with two
// replies and a mail that its recipient then reads on the board, and a
// malformed REP refused with a report and nothing posted.
func TestOfflineMailThroughTheMenu(t *testing.T) {
	repPath := filepath.Join(t.TempDir(), "E2EBBS.REP")
	b := startBBS(t, viaBuiltIn, "", "-bcrypt-cost", "4", "-rate", "1000", "-burst", "1000", "-main", qwkMain(t, repPath))
	zed := b.call(t)
	arrive(t, zed, "zed", "pw", "pw", "y")
	zedPosts(t, zed)

	ann := b.call(t)
	arrive(t, ann, "ann", "pw", "pw", "y")
	zedMailsAnn(t, zed)
	if out := visit(t, ann, "O"); !strings.Contains(out, "1. [x] general") || !strings.Contains(out, "[U]pload E2EBBS.REP") {
		t.Fatalf("offline mail menu:\n%s", out)
	}
	packetLine := regexp.MustCompile(`PACKET (\S+)`)
	out := visit(t, ann, "D")
	failed := packetLine.FindStringSubmatch(out)
	if failed == nil || !strings.Contains(out, "Packet E2EBBS.QWK: 3 messages (mail 1, general 1, tech 1)") {
		t.Fatalf("a packet offered:\n%s", out)
	}
	if out := visit(t, ann, "N"); !strings.Contains(out, "Your new messages stay new.") {
		t.Fatalf("a packet that did not arrive:\n%s", out)
	}
	if _, err := os.Stat(failed[1]); !os.IsNotExist(err) {
		t.Errorf("the file of a packet that did not arrive was left behind: %v", err)
	}
	out = visit(t, ann, "D")
	m := packetLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no packet sent:\n%s", out)
	}
	data, err := os.ReadFile(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if out := visit(t, ann, "Y"); !strings.Contains(out, "Sent. What it holds is no longer new to you.") {
		t.Fatalf("a packet that arrived:\n%s", out)
	}
	if _, err := os.Stat(m[1]); !os.IsNotExist(err) {
		t.Errorf("the packet file outlived its fetch: %v", err)
	}
	if out := visit(t, ann, "D"); !strings.Contains(out, "No packet: no new messages in your areas.") {
		t.Fatalf("pointers did not move after the packet arrived:\n%s", out)
	}

	p := readAnnsPacket(t, data)

	// A malformed REP: refused whole, nothing posted.
	if err := os.WriteFile(repPath, []byte("PK\x03\x04 not really a zip"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := visit(t, ann, "U"); !strings.Contains(out, "The reply packet was refused, nothing was posted: ") {
		t.Fatalf("a malformed REP:\n%s", out)
	}
	rep := annsReplies(t, "E2EBBS", p)
	if err := os.WriteFile(repPath, rep, 0o600); err != nil {
		t.Fatal(err)
	}
	out = visit(t, ann, "U")
	checkRepliesReport(t, out)
	if out := visit(t, ann, "U"); !strings.Contains(out, "refused: already posted") || !strings.Contains(out, "0 posted, 3 refused.") {
		t.Errorf("the same REP again:\n%s", out)
	}

	// zed reads them as a caller does.
	zedReadsReplies(t, zed)
}
