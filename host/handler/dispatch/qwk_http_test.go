package dispatch

import (
	"bytes"
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/files"
	"github.com/m2bbs/m2bbs/host/handler/qwkmail"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/qwk/qwktest"
)

// packetLink is a signed link for ann's session (conn 7) to download her
// packet token.
func packetLink(t *testing.T, b *board, token string) string {
	t.Helper()
	signer, err := b.host.deps.Files.Signer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return signer.Path(files.Link{Kind: files.KindPacket, Packet: token, User: "ann", ConnID: "7", Expires: time.Now().Add(time.Hour), Nonce: files.NewNonce()})
}

// newToAnn is how many posts of general are new to ann.
func newToAnn(t *testing.T, db store.Store) int {
	t.Helper()
	got, err := db.QWKNew(context.Background(), "ann", []string{"general"}, 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(got[0].Posts)
}

// TestPacketLinkMovesPointersOnlyWhenSentWhole: a QWK packet's link
// whose download is cut short (its caller hung up in the middle) leaves
// the caller's last-read pointers where they were; one sent whole
// delivers the packet (read by the independent reader) and moves them.
func TestPacketLinkMovesPointersOnlyWhenSentWhole(t *testing.T) {
	b, dir, _ := filesBoard(t)
	db := b.host.deps.Store
	ctx := context.Background()
	for _, u := range []string{"ann", "bob"} {
		if err := db.RegisterUser(ctx, u, "secret-password"); err != nil {
			t.Fatal(err)
		}
	}
	hello, err := db.Post(ctx, store.NewPost{Area: "general", Author: "bob", Subject: "Hello", Lines: []string{"hi all"}})
	if err != nil {
		t.Fatal(err)
	}
	confs, err := db.Conferences(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// A packet of 600 KiB sent at 64 KiB/s: the caller hangs up after
	// its first piece.
	big := make([]byte, 600<<10)
	rand.Read(big)
	token := strings.Repeat("ab", 16)
	if err := db.SaveQWKPacket(ctx, store.QWKPacket{Token: token, User: "ann", Data: big, Messages: 1,
		Pointers: map[int]int64{confs[0].Number: hello.ID}}); err != nil {
		t.Fatal(err)
	}
	dir.in <- request("GET", "100", packetLink(t, b, token), "")
	awaitSent(t, dir, "100", "the packet's first piece", func(got [][]byte) bool {
		return len(got) > 1 && strings.HasPrefix(string(got[0]), "HTTP/1.1 200")
	})
	dir.in <- request("JSON", "100", "@*", `{"type":"disconnect"}`)
	awaitSent(t, dir, "100", "hang-up", func(got [][]byte) bool { return len(got) > 0 && len(got[len(got)-1]) == 0 })
	waitDownloadsEnded(t, b.host)
	if fetched, err := db.QWKPacketFetched(ctx, "ann", token); err != nil || fetched {
		t.Errorf("a packet cut short counts as fetched: %v %v", fetched, err)
	}
	if n := newToAnn(t, db); n != 1 {
		t.Errorf("after a download cut short, %d posts new to ann, want 1", n)
	}

	// Another caller's packet, and a forged link, are refused.
	bobs := strings.Repeat("cd", 16)
	if err := db.SaveQWKPacket(ctx, store.QWKPacket{Token: bobs, User: "bob", Data: []byte("bob's"), Messages: 1}); err != nil {
		t.Fatal(err)
	}
	dir.in <- request("GET", "102", packetLink(t, b, bobs), "")
	awaitSent(t, dir, "102", "answer to a link to bob's packet", func(got [][]byte) bool {
		return len(got) > 0 && strings.HasPrefix(string(got[0]), "HTTP/1.1 404")
	})
	forged := packetLink(t, b, token)
	dir.in <- request("GET", "103", forged[:len(forged)-4]+"AAAA", "")
	awaitSent(t, dir, "103", "answer to a forged link", func(got [][]byte) bool {
		return len(got) > 0 && strings.HasPrefix(string(got[0]), "HTTP/1.1 403")
	})

	// A packet built as the menu builds it, sent whole.
	built, err := (&qwkmail.Service{Store: db, Location: time.UTC}).Build(ctx, qwkmail.Board{BBSID: "TESTBBS"}, "ann", []string{"general"})
	if err != nil {
		t.Fatal(err)
	}
	dir.in <- request("GET", "101", packetLink(t, b, built.Token), "")
	got := awaitSent(t, dir, "101", "the whole packet", func(got [][]byte) bool { return len(got) > 0 && len(got[len(got)-1]) == 0 })
	head, _, _ := bytes.Cut(got[0], []byte("\r\n\r\n"))
	if !strings.HasPrefix(string(head), "HTTP/1.1 200") || !strings.Contains(string(head), `filename=PACKET.QWK`) {
		t.Errorf("the packet's head: %q", head)
	}
	p, err := qwktest.Read(bytes.Join(got[1:], nil))
	if err != nil {
		t.Fatalf("independent reader: %v", err)
	}
	if len(p.Msgs) != 1 || p.Msgs[0].Subject != "Hello" || p.Msgs[0].From != "bob" {
		t.Errorf("the packet downloaded: %+v", p.Msgs)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		fetched, err := db.QWKPacketFetched(ctx, "ann", built.Token)
		if err != nil {
			t.Fatal(err)
		}
		if fetched {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a packet sent whole did not count as fetched")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := newToAnn(t, db); n != 0 {
		t.Errorf("after the packet was fetched, %d posts new to ann", n)
	}
}

// waitDownloadsEnded waits until h sends no download: what a download
// does at its end is done by then.
func waitDownloadsEnded(t *testing.T, h *Host) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.downloads.mu.Lock()
		n := h.downloads.total
		h.downloads.mu.Unlock()
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d downloads still being sent", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
