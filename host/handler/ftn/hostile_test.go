package ftn

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/ftn/pkt"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// dirBytes is the total size of the files in dir.
func dirBytes(t *testing.T, dir string) (int64, []string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var n int64
	var names []string
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		n += info.Size()
		names = append(names, e.Name())
	}
	return n, names
}

// TestZipBombBundleSetAsideWhole: a bundle of packets that unpack to far
// more than MaxBundleBytes is set aside whole, as it came; its entries
// are not unpacked into the bad folder one by one (a bundle of a few
// hundred kilobytes filling the disk with 16 MB files).
func TestZipBombBundleSetAsideWhole(t *testing.T) {
	b := newBoard(t, "21:1/101", "21:1/100")
	zeros := make([]byte, pkt.MaxPacketBytes)
	var zbuf bytes.Buffer
	zw := zip.NewWriter(&zbuf)
	for _, name := range []string{"00000001.pkt", "00000002.pkt", "00000003.pkt"} {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(zeros)
	}
	zw.Close()
	putInbound(t, b, "0000abcd.we0", zbuf.Bytes())
	r := mustToss(t, b)
	if r.Bad != 1 || r.Tossed != 0 {
		t.Errorf("toss = %+v; want the bundle counted bad once", r)
	}
	size, names := dirBytes(t, b.set.BadDir())
	if size > int64(zbuf.Len()) || len(names) != 1 || names[0] != "0000abcd.we0" {
		t.Errorf("bad folder holds %v, %d bytes; want only the %d-byte bundle", names, size, zbuf.Len())
	}
}

// TestCorruptBundleDoesNotStopTheToss: a file that starts like a ZIP
// archive but is none is set aside, and the packets after it toss in the
// same run.
func TestCorruptBundleDoesNotStopTheToss(t *testing.T) {
	ctx := context.Background()
	a := newBoard(t, "21:1/100", "21:1/101")
	b := newBoard(t, "21:1/101", "21:1/100")
	a.st.Post(ctx, store.NewPost{Area: "fido", Author: "ann", Lines: []string{"one"}})
	mustScan(t, a)
	good := deliver(t, a, b)[0]
	os.RemoveAll(b.set.InboundDir())
	putInbound(t, b, "0000abcd.th0", []byte("PK\x03\x04 but not a zip archive at all"))
	putInbound(t, b, "zzzzzzzz.pkt", good)
	// The bundle is the older file: it is tossed first.
	old := filepath.Join(b.set.InboundDir(), "0000abcd.th0")
	fixedTime := time.Now().Add(-time.Hour)
	if err := os.Chtimes(old, fixedTime, fixedTime); err != nil {
		t.Fatal(err)
	}
	r, err := b.toss.Toss(ctx)
	if err != nil {
		t.Fatalf("toss stopped: %v (%+v)", err, r)
	}
	if r.Tossed != 1 || r.Bad != 1 {
		t.Errorf("toss = %+v; want 1 tossed, 1 bad", r)
	}
}
