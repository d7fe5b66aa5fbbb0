package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// newFile is a file of n bytes by uploader in area, content told apart
// by name.
func newFile(area, name, uploader string, size int64) NewFile {
	return NewFile{Area: area, Name: name, Uploader: uploader, Size: size,
		SHA256: fmt.Sprintf("%x", sha256.Sum256([]byte(fmt.Sprint(name, size)))), Description: "about " + name}
}

// TestFilesAddListApprove: uploads wait for review, are refused by name
// (any case) and by content, listed once approved, searched by name and
// description, new since a scan, counted when downloaded.
func TestFilesAddListApprove(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	f, err := s.AddFile(ctx, newFile("Games", "DOOM.ZIP", "ann", 100))
	if err != nil {
		t.Fatal(err)
	}
	if !f.Waiting() || f.Area != "games" || f.Name != "DOOM.ZIP" {
		t.Fatalf("added %+v", f)
	}
	if _, err := s.AddFile(ctx, newFile("games", "doom.zip", "bob", 7)); !errors.Is(err, ErrFileExists) {
		t.Errorf("same name, other case: %v", err)
	}
	dup := newFile("utils", "other.zip", "bob", 9)
	dup.SHA256 = f.SHA256
	if _, err := s.AddFile(ctx, dup); !errors.Is(err, ErrDuplicate) {
		t.Errorf("same content elsewhere: %v", err)
	}
	if n, _ := s.FileCount(ctx, FileQuery{Area: "games"}); n != 0 {
		t.Errorf("a waiting file is listed: %d", n)
	}
	if w, _ := s.Files(ctx, FileQuery{Waiting: true}); len(w) != 1 || w[0].ID != f.ID {
		t.Errorf("waiting: %+v", w)
	}
	before := time.Now().Add(-time.Second)
	if _, err := s.ApproveFile(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveFile(ctx, f.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("approved twice: %v", err)
	}
	ok := newFile("games", "tetris_1.zip", "ann", 5)
	ok.Approved = true
	if _, err := s.AddFile(ctx, ok); err != nil {
		t.Fatal(err)
	}
	for search, want := range map[string]int{"doom": 1, "ABOUT": 2, "_1": 1, "%": 0, "nothing": 0} {
		if n, err := s.FileCount(ctx, FileQuery{Area: "GAMES", Search: search}); err != nil || n != want {
			t.Errorf("search %q: %d, %v; want %d", search, n, err, want)
		}
	}
	if err := s.MarkFileScan(ctx, "Ann", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkFileScan(ctx, "ann", before); err != nil {
		t.Fatal(err)
	}
	last, _ := s.LastFileScan(ctx, "ANN")
	if n, _ := s.FileCount(ctx, FileQuery{Since: last}); n != 0 {
		t.Errorf("the scan went back: %d new since %v", n, last)
	}
	if n, _ := s.FileCount(ctx, FileQuery{Since: before}); n != 2 {
		t.Errorf("new since before: %d", n)
	}
	if err := s.CountDownload(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.FileByName(ctx, "games", "doom.zip"); got.Downloads != 1 {
		t.Errorf("downloads: %+v", got)
	}
	if _, err := s.RemoveFile(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.File(ctx, f.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("removed file: %v", err)
	}
}

// TestFilesQuota: an area's and a user's bytes are bounded, waiting files
// included.
func TestFilesQuota(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	a := newFile("a", "one", "ann", 60)
	a.AreaQuota, a.UserQuota = 100, 1000
	if _, err := s.AddFile(ctx, a); err != nil {
		t.Fatal(err)
	}
	b := newFile("a", "two", "bob", 50)
	b.AreaQuota = 100
	if _, err := s.AddFile(ctx, b); !errors.Is(err, ErrQuota) || !strings.Contains(err.Error(), "area") {
		t.Errorf("past the area's quota: %v", err)
	}
	c := newFile("b", "three", "ANN", 50)
	c.UserQuota = 100
	if _, err := s.AddFile(ctx, c); !errors.Is(err, ErrQuota) {
		t.Errorf("past the user's quota: %v", err)
	}
}

// TestFilesQueueAndKey: a queue holds approved files only, up to its
// bound; the link key is made once.
func TestFilesQueueAndKey(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	w, _ := s.AddFile(ctx, newFile("a", "wait", "ann", 1))
	if err := s.QueueFile(ctx, "ann", w.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("queued a waiting file: %v", err)
	}
	var ids []int64
	for i := range MaxQueuedFiles + 1 {
		nf := newFile("a", fmt.Sprintf("f%03d", i), "ann", int64(i+2))
		nf.Approved = true
		f, err := s.AddFile(ctx, nf)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, f.ID)
	}
	for _, id := range ids[:MaxQueuedFiles] {
		if err := s.QueueFile(ctx, "Bob", id); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.QueueFile(ctx, "bob", ids[0]); err != nil {
		t.Errorf("queued again: %v", err)
	}
	if err := s.QueueFile(ctx, "bob", ids[MaxQueuedFiles]); !errors.Is(err, ErrQueueFull) {
		t.Errorf("past the bound: %v", err)
	}
	if err := s.UnqueueFile(ctx, "bob", ids[0]); err != nil {
		t.Fatal(err)
	}
	q, _ := s.Queued(ctx, "BOB")
	if len(q) != MaxQueuedFiles-1 || q[0].ID != ids[1] {
		t.Errorf("queue: %d files, first %+v", len(q), q[0])
	}
	k1, err := s.FileLinkKey(ctx)
	if err != nil || len(k1) != 32 {
		t.Fatalf("key: %d bytes, %v", len(k1), err)
	}
	if k2, _ := s.FileLinkKey(ctx); string(k1) != string(k2) {
		t.Error("the key changed")
	}
}
