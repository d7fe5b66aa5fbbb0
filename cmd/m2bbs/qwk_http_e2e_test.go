package main

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/cmd/internal/filelink"
	"github.com/m2bbs/m2bbs/host/qwk"
)

// The QWK links in a transcript.
var (
	packetLinkRE = regexp.MustCompile(`/files/q/[A-Za-z0-9_.-]+\?name=[A-Za-z0-9.]+`)
	replyLinkRE  = regexp.MustCompile(`/files/r/[A-Za-z0-9_.-]+`)
)

// TestOfflineMailOverHTTP drives the shipped Offline mail menu as
// shipped, on a board with file links: the packet's download link, a
// caller who says it arrived before it did (nothing moves), the packet
// downloaded over HTTP and read by the independent reader (then, and
// only then, it is no longer new), a REP past the limit refused at the
// link, a malformed REP uploaded and refused with a report, and a REP
// with two replies and a mail uploaded and posted where zed reads them.
func TestOfflineMailOverHTTP(t *testing.T) {
	b := startFilesBoard(t, viaBuiltIn)
	zed := b.call(t)
	arrive(t, zed, "zed", "pw", "y")
	zedPosts(t, zed)
	ann := b.call(t)
	arrive(t, ann, "ann", "pw", "pw", "y")
	zedMailsAnn(t, zed)

	out := visit(t, ann, "O", "D")
	if !strings.Contains(out, "Packet M2BBS.QWK: 3 messages") || !strings.Contains(out, "Download M2BBS.QWK (the link works for 2 minutes") {
		t.Fatalf("the packet offered:\n%s", out)
	}
	link := linkIn(t, packetLinkRE, out)
	if !strings.HasSuffix(link, "?name=M2BBS.QWK") {
		t.Errorf("the packet's link: %s", link)
	}
	if out := visit(t, ann, ""); !strings.Contains(out, "The board has not sent you the whole packet yet.") {
		t.Fatalf("Enter before the download:\n%s", out)
	}
	if out := visit(t, ann, "N"); !strings.Contains(out, "Not sent: the download did not finish. Your new messages stay new.") {
		t.Fatalf("a download given up:\n%s", out)
	}
	out = visit(t, ann, "D")
	data := download(t, "http://"+b.addr+linkIn(t, packetLinkRE, out))
	// The host counts it once the last piece left (after the reader may
	// have it): its log says when.
	b.logs.WaitFor(t, readTimeout, "file downloaded", "qwk_packet=")
	if out := visit(t, ann, ""); !strings.Contains(out, "Sent. What it holds is no longer new to you.") {
		t.Fatalf("after the download:\n%s", out)
	}
	if out := visit(t, ann, "D"); !strings.Contains(out, "No packet: no new messages in your areas.") {
		t.Fatalf("pointers did not move after the download:\n%s", out)
	}
	p := readAnnsPacket(t, data)

	// A REP past the limit is refused at the link; a malformed one is
	// taken, then refused whole with a report.
	out = visit(t, ann, "U")
	if !strings.Contains(out, "Upload your reply packet M2BBS.REP with this link") {
		t.Fatalf("the upload offered:\n%s", out)
	}
	repLink := linkIn(t, replyLinkRE, out)
	// The hostile requests while a third caller's menu is timed.
	cy := b.call(t)
	arrive(t, cy, "cy", "pw", "pw", "y")
	stop, done := make(chan struct{}), make(chan []filelink.Trip)
	go func() {
		trips, err := filelink.MenuRoundTrips(cy, stop, 2*time.Millisecond, readTimeout)
		if err != nil {
			t.Errorf("the third caller: %v", err)
		}
		done <- trips
	}()
	for range 3 {
		if code, a := upload(t, b.addr, repLink, "M2BBS.REP", make([]byte, qwk.DefaultLimits.MaxPacketBytes+1)); code != http.StatusRequestEntityTooLarge {
			t.Errorf("a REP past the limit: %d %+v", code, a)
		}
	}
	if code, _ := post(t, "http://"+b.addr+repLink[:len(repLink)-3]+"AAA?offset=0", []byte("x")); code != http.StatusForbidden {
		t.Errorf("a forged reply link: %d", code)
	}
	close(stop)
	trips := filelink.During(<-done, time.Time{}, time.Now())
	slices.Sort(trips)
	if len(trips) < 5 {
		t.Fatalf("only %d menu round trips", len(trips))
	}
	if median, worst := trips[len(trips)/2], trips[len(trips)-1]; median > 250*time.Millisecond || worst > 2*time.Second {
		t.Errorf("the third caller's menu slowed during the hostile uploads: median %v, max %v", median, worst)
	} else {
		t.Logf("third caller's menu during the hostile uploads: %d round trips, median %v, max %v", len(trips), median, worst)
	}
	if out := visit(t, ann, ""); !strings.Contains(out, "No reply packet has arrived yet.") {
		t.Fatalf("Enter before an upload:\n%s", out)
	}
	if code, a := upload(t, b.addr, repLink, "M2BBS.REP", []byte("PK\x03\x04 not really a zip")); code != http.StatusOK {
		t.Fatalf("a malformed REP's upload: %d %+v", code, a)
	}
	if out := visit(t, ann, ""); !strings.Contains(out, "The reply packet was refused, nothing was posted: ") {
		t.Fatalf("a malformed REP:\n%s", out)
	}
	checkNothingPosted(t, zed)

	rep := annsReplies(t, "M2BBS", p)
	repLink = linkIn(t, replyLinkRE, visit(t, ann, "U"))
	if code, a := upload(t, b.addr, repLink, "M2BBS.REP", rep); code != http.StatusOK || a.Name != "M2BBS.REP" {
		t.Fatalf("the REP's upload: %d %+v", code, a)
	}
	out = visit(t, ann, "")
	checkRepliesReport(t, out)

	zedReadsReplies(t, zed)
}
