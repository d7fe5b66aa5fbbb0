package dispatch

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/files"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// filesBoard is a host with a file area holding one 512 KiB file sent at
// 64 KiB/s (8 s whole), its download link for ann online on conn 7, and
// the directory handler's transport (phone lines route /files/ there).
func filesBoard(t *testing.T) (b *board, dir *fakeTransport, link string) {
	t.Helper()
	ctx := context.Background()
	tmp := t.TempDir()
	db, err := store.Open(filepath.Join(tmp, "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	set, err := files.ParseSettings(map[string]any{"download_rate": float64(64 << 10), "areas": []any{map[string]any{"name": "games"}}},
		filepath.Join(tmp, "bbs.db"))
	if err != nil {
		t.Fatal(err)
	}
	lib := &files.Library{Settings: set, Store: db}
	src := filepath.Join(t.TempDir(), "slow.bin")
	if err := os.WriteFile(src, bytes.Repeat([]byte("s"), 512<<10), 0o600); err != nil {
		t.Fatal(err)
	}
	rec, err := lib.Ingest(ctx, files.Upload{Area: "games", Name: "slow.bin", Path: src, Uploader: "ann", Approved: true})
	if err != nil {
		t.Fatal(err)
	}
	signer, err := lib.Signer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir = newFakeTransport()
	b = startBoardDeps(t, `function m2bbs(conn, req) end`, Config{}, Deps{Store: db, Files: lib, Directory: dir})
	b.host.mu.Lock()
	b.host.owners["7"] = &owner{user: "ann"}
	b.host.mu.Unlock()
	t.Cleanup(func() { b.host.mu.Lock(); delete(b.host.owners, "7"); b.host.mu.Unlock() })
	link = signer.Path(files.Link{Kind: files.KindDownload, FileID: rec.ID, User: "ann", ConnID: "7", Expires: time.Now().Add(time.Hour), Nonce: files.NewNonce()})
	return b, dir, link
}

// rawSentTo returns the bodies t has sent to connID so far.
func rawSentTo(t *fakeTransport, connID string) [][]byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out [][]byte
	for _, raw := range t.sent {
		if _, ids, body, err := m2proto.ParseReply(raw); err == nil && len(ids) == 1 && ids[0] == connID {
			out = append(out, body)
		}
	}
	return out
}

// awaitSent waits until ok holds of what t has sent to connID.
func awaitSent(t *testing.T, tr *fakeTransport, connID, what string, ok func([][]byte) bool) [][]byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		tr.mu.Lock()
		notify := tr.notify
		tr.mu.Unlock()
		if got := rawSentTo(tr, connID); ok(got) {
			return got
		}
		select {
		case <-notify:
		case <-time.After(time.Until(deadline)):
			t.Fatalf("conn %s: no %s", connID, what)
		}
	}
}

// TestDirectoryDownloadHoldsUpNoOne: with phone lines, a slow download
// through the directory handler does not hold up its other requests (a
// forged link is refused at once), and the downloader's hang-up, sent to
// the directory, stops it.
func TestDirectoryDownloadHoldsUpNoOne(t *testing.T) {
	_, dir, link := filesBoard(t)
	dir.in <- request("GET", "100", link, "")
	awaitSent(t, dir, "100", "download head", func(got [][]byte) bool {
		return len(got) > 0 && strings.HasPrefix(string(got[0]), "HTTP/1.1 200")
	})
	start := time.Now()
	dir.in <- request("GET", "101", files.LinksPath+"d/Zm9yZ2Vk.AAAAAAAAAAAAAAAAAAAAAA", "")
	awaitSent(t, dir, "101", "answer to a forged link", func(got [][]byte) bool {
		return len(got) > 0 && strings.HasPrefix(string(got[0]), "HTTP/1.1 403")
	})
	if took := time.Since(start); took > time.Second {
		t.Errorf("a forged link waited %v behind a download", took)
	}
	dir.in <- request("JSON", "100", "@*", `{"type":"disconnect"}`)
	got := awaitSent(t, dir, "100", "hang-up", func(got [][]byte) bool { return len(got) > 0 && len(got[len(got)-1]) == 0 })
	sent := 0
	for _, body := range got[1:] {
		sent += len(body)
	}
	if sent >= 512<<10 {
		t.Errorf("the download went on to its end (%d bytes) after its caller hung up", sent)
	}
}

// TestDownloadOfACallerGoneBefore: a hang-up that arrives before the
// download streams stops it before its first piece.
func TestDownloadOfACallerGoneBefore(t *testing.T) {
	b, _, _ := filesBoard(t)
	b.host.downloadGone("200")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f, rec, err := b.host.deps.Files.Open(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	b.host.downloads.take("ann")
	tr := newFakeTransport()
	b.host.serveDownload(ctx, &m2proto.Request{Sender: "s", ConnID: "200"}, tr,
		&download{src: f, close: f.Close, name: rec.Name, size: rec.Size, link: files.Link{User: "ann"}, n: rec.Size,
			whole: func(context.Context) error { return nil }})
	if got := rawSentTo(tr, "200"); len(got) != 0 {
		t.Errorf("sent %d replies to a caller who hung up", len(got))
	}
}
