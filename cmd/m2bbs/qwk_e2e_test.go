package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/qwk"
	"github.com/m2bbs/m2bbs/host/qwk/qwktest"
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
	if out := visit(t, zed, "B", "1", "W", "Hello board", "First post.", "."); !strings.Contains(out, "Hello board") {
		t.Fatalf("zed's first post:\n%s", out)
	}
	if out := visit(t, zed, "Q", "2", "W", "Modems", "56k or bust.", "."); !strings.Contains(out, "Modems") {
		t.Fatalf("zed's post in tech:\n%s", out)
	}
	visit(t, zed, "Q", "Q")

	ann := b.call(t)
	arrive(t, ann, "ann", "pw", "pw", "y")
	if out := visit(t, zed, "M", "S", "ann", "Lunch", "Noon at the diner?", ".", "Q"); !strings.Contains(out, "Mail sent.") {
		t.Fatalf("zed's mail to ann:\n%s", out)
	}
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

	p, err := qwktest.Read(data)
	if err != nil {
		t.Fatalf("independent reader: %v", err)
	}
	if len(p.Msgs) != 3 || p.Msgs[0].Status != '+' || p.Msgs[0].Subject != "Lunch" || p.Msgs[0].Conference != 0 {
		t.Fatalf("the packet's first message is not zed's mail: %+v", p.Msgs)
	}
	p.Msgs = p.Msgs[1:]
	if len(p.Msgs) != 2 || p.Msgs[0].Subject != "Hello board" || p.Msgs[0].From != "zed" || p.Msgs[1].Subject != "Modems" ||
		p.Confs[p.Msgs[1].Conference] != "tech" || p.Control[6] != "ANN" {
		t.Fatalf("packet read: %+v, %v, %q", p.Msgs, p.Confs, p.Control)
	}

	// A malformed REP: refused whole, nothing posted.
	if err := os.WriteFile(repPath, []byte("PK\x03\x04 not really a zip"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := visit(t, ann, "U"); !strings.Contains(out, "The reply packet was refused, nothing was posted: ") {
		t.Fatalf("a malformed REP:\n%s", out)
	}
	rep, err := qwk.BuildREP("E2EBBS", []qwk.Message{
		{Conference: p.Msgs[0].Conference, To: "zed", Subject: "Re: Hello board", ReplyTo: int64(p.Msgs[0].Number), Lines: []string{"Hello from my reader."}},
		{Conference: p.Msgs[1].Conference, To: "zed", ReplyTo: int64(p.Msgs[1].Number), Lines: []string{"33.6 is plenty."}},
		{Conference: 0, Private: true, To: "zed", Subject: "Offline hello", Lines: []string{"Written offline."}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(repPath, rep, 0o600); err != nil {
		t.Fatal(err)
	}
	out = visit(t, ann, "U")
	for _, want := range []string{`1. in general, "Re: Hello board": posted as #3`, `2. in tech, "Re: Modems": posted as #4`,
		`3. mail to zed, "Offline hello": sent`, "3 posted, 0 refused."} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if out := visit(t, ann, "U"); !strings.Contains(out, "refused: already posted") || !strings.Contains(out, "0 posted, 3 refused.") {
		t.Errorf("the same REP again:\n%s", out)
	}

	// zed reads them as a caller does.
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
}
