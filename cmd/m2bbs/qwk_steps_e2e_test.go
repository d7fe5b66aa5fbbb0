package main

import (
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/qwk"
	"github.com/m2bbs/m2bbs/host/qwk/qwktest"
)

// The steps the offline mail tests share: zed's posts and his mail to
// ann, the packet ann gets, the REP she sends back, and zed reading it.

// zedPosts has zed, at the main menu, post "Hello board" in general and
// "Modems" in tech, and go back to the main menu.
func zedPosts(t *testing.T, zed *classic.Client) {
	t.Helper()
	if out := visit(t, zed, "B", "1", "W", "Hello board", "First post.", "."); !strings.Contains(out, "Hello board") {
		t.Fatalf("zed's first post:\n%s", out)
	}
	if out := visit(t, zed, "Q", "2", "W", "Modems", "56k or bust.", "."); !strings.Contains(out, "Modems") {
		t.Fatalf("zed's post in tech:\n%s", out)
	}
	visit(t, zed, "Q", "Q")
}

// zedMailsAnn has zed send ann a mail from the main menu.
func zedMailsAnn(t *testing.T, zed *classic.Client) {
	t.Helper()
	if out := visit(t, zed, "M", "S", "ann", "Lunch", "Noon at the diner?", ".", "Q"); !strings.Contains(out, "Mail sent.") {
		t.Fatalf("zed's mail to ann:\n%s", out)
	}
}

// readAnnsPacket reads ann's packet with the independent reader: zed's
// mail, then his two posts.
func readAnnsPacket(t *testing.T, data []byte) *qwktest.Packet {
	t.Helper()
	p, err := qwktest.Read(data)
	if err != nil {
		t.Fatalf("independent reader: %v", err)
	}
	if len(p.Msgs) != 3 || p.Msgs[0].Status != '+' || p.Msgs[0].Subject != "Lunch" || p.Msgs[0].Conference != 0 ||
		p.Msgs[1].Subject != "Hello board" || p.Msgs[1].From != "zed" || p.Msgs[2].Subject != "Modems" ||
		p.Confs[p.Msgs[2].Conference] != "tech" || p.Control[6] != "ANN" {
		t.Fatalf("packet read: %+v, %v, %q", p.Msgs, p.Confs, p.Control)
	}
	return p
}

// annsReplies is ann's REP for board bbsid: replies to zed's two posts
// in p, and a mail to zed.
func annsReplies(t *testing.T, bbsid string, p *qwktest.Packet) []byte {
	t.Helper()
	rep, err := qwk.BuildREP(bbsid, []qwk.Message{
		{Conference: p.Msgs[1].Conference, To: "zed", Subject: "Re: Hello board", ReplyTo: int64(p.Msgs[1].Number), Lines: []string{"Hello from my reader."}},
		{Conference: p.Msgs[2].Conference, To: "zed", ReplyTo: int64(p.Msgs[2].Number), Lines: []string{"33.6 is plenty."}},
		{Conference: 0, Private: true, To: "zed", Subject: "Offline hello", Lines: []string{"Written offline."}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// checkRepliesReport checks the report of annsReplies posted.
func checkRepliesReport(t *testing.T, out string) {
	t.Helper()
	for _, want := range []string{`1. in general, "Re: Hello board": posted as #3`, `2. in tech, "Re: Modems": posted as #4`,
		`3. mail to zed, "Offline hello": sent`, "3 posted, 0 refused."} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// zedReadsReplies has zed, at the main menu, find ann's mail in his
// mailbox and her replies in the areas and his new scan.
func zedReadsReplies(t *testing.T, zed *classic.Client) {
	t.Helper()
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

// checkNothingPosted checks, as zed at the main menu, that the areas
// hold only his posts.
func checkNothingPosted(t *testing.T, zed *classic.Client) {
	t.Helper()
	if out := visit(t, zed, "B"); !strings.Contains(out, "1 post\n") || strings.Contains(out, "2 posts") {
		t.Errorf("the areas after a malformed REP:\n%s", out)
	}
	visit(t, zed, "Q")
}
