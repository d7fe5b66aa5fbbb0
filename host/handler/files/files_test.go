package files

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// newLibrary is a library over a fresh store in a temp folder, with one
// area "games" (quota 1 MiB) and review on.
func newLibrary(t *testing.T) *Library {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "bbs.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s, err := ParseSettings(map[string]any{
		"review": true, "max_file": float64(200 << 10),
		"areas": []any{map[string]any{"name": "Games", "description": "Games", "quota": float64(1 << 20)}},
	}, filepath.Join(dir, "bbs.db"))
	if err != nil {
		t.Fatal(err)
	}
	return &Library{Settings: s, Store: st}
}

// temp writes data to a new file in t's temp folder.
func temp(t *testing.T, data []byte) string {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "up")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return f.Name()
}

// zipWith is a .zip holding the named entries.
func zipWith(t testing.TB, entries map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range entries {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	zw.Close()
	return buf.Bytes()
}

// TestIngestReviewApprove: a .zip's FILE_ID.DIZ becomes its description;
// the upload waits in the review folder, not in the area, until approved;
// the same content or name again is refused; the temp file goes either
// way.
func TestIngestReviewApprove(t *testing.T) {
	ctx := context.Background()
	lib := newLibrary(t)
	data := zipWith(t, map[string]string{"FILE_ID.DIZ": "Doom shareware\r\n\x1b[31mv1.9\x1b[0m\r\n", "DOOM.EXE": "MZ..."})
	p := temp(t, data)
	f, err := lib.Ingest(ctx, Upload{Area: "games", Name: "DOOM19S.ZIP", Path: p, Uploader: "ann", Description: "mine"})
	if err != nil {
		t.Fatal(err)
	}
	if f.Description != "Doom shareware\n[31mv1.9[0m" || !f.Waiting() {
		t.Errorf("ingested %+v", f)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the temp file stayed: %v", err)
	}
	area, _ := lib.Settings.Area("games")
	listed := filepath.Join(lib.Settings.Dir(area), "DOOM19S.ZIP")
	if _, err := os.Stat(listed); err == nil {
		t.Error("a waiting upload is in the area's folder")
	}
	if got, _ := os.ReadFile(lib.Path(f)); !bytes.Equal(got, data) {
		t.Error("the review copy differs")
	}
	p2 := temp(t, data)
	if _, err := lib.Ingest(ctx, Upload{Area: "games", Name: "COPY.ZIP", Path: p2, Uploader: "bob"}); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("same content: %v", err)
	}
	if _, err := os.Stat(p2); !errors.Is(err, os.ErrNotExist) {
		t.Error("a refused upload's temp file stayed")
	}
	if _, err := lib.Ingest(ctx, Upload{Area: "games", Name: "doom19s.zip", Path: temp(t, []byte("other")), Uploader: "bob"}); !errors.Is(err, store.ErrFileExists) {
		t.Errorf("same name: %v", err)
	}
	if _, err := lib.Approve(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(listed); err != nil || !bytes.Equal(got, data) {
		t.Errorf("approved file: %v", err)
	}
	fh, rec, err := lib.Open(ctx, f.ID)
	if err != nil || rec.Waiting() {
		t.Fatalf("open approved: %v %+v", err, rec)
	}
	fh.Close()
}

// TestIngestRefusesEscapes: names that would leave the area's folder, or
// files past the size limit, are refused, and nothing is written outside
// the area.
func TestIngestRefusesEscapes(t *testing.T) {
	ctx := context.Background()
	lib := newLibrary(t)
	for _, name := range []string{"../../x", "..", "a/b", `a\b`, ".hidden", "-rf", "", "CON.txt", "x\x00y", strings.Repeat("a", 65), "é.txt",
		"COM5.zip", "com9", "LPT4.txt", "lpt0.zip"} {
		_, err := lib.Ingest(ctx, Upload{Area: "games", Name: name, Path: temp(t, []byte(name+"!")), Uploader: "ann"})
		if !errors.Is(err, ErrBadName) {
			t.Errorf("name %q: %v", name, err)
		}
	}
	if _, err := lib.Ingest(ctx, Upload{Area: "../games", Name: "ok.txt", Path: temp(t, []byte("a")), Uploader: "ann"}); !errors.Is(err, ErrNoSuchArea) {
		t.Errorf("area ../games: %v", err)
	}
	big := temp(t, make([]byte, 200<<10+1))
	if _, err := lib.Ingest(ctx, Upload{Area: "games", Name: "big.bin", Path: big, Uploader: "ann"}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
	link := filepath.Join(t.TempDir(), "link")
	os.Symlink("/etc/passwd", link)
	if _, err := lib.Ingest(ctx, Upload{Area: "games", Name: "pw.txt", Path: link, Uploader: "ann"}); !errors.Is(err, ErrNotFile) {
		t.Errorf("a symlink: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(lib.Settings.Root))
	for _, e := range entries {
		if e.Name() != "files" && !strings.HasPrefix(e.Name(), "bbs.db") {
			t.Errorf("written beside the root: %s", e.Name())
		}
	}
	inTemp := temp(t, []byte("ok"))
	if lib.Ingestible("/etc/passwd") || !lib.Ingestible(inTemp) || lib.Ingestible(os.TempDir()+"/../etc/passwd") {
		t.Error("Ingestible")
	}
	// A folder in the temporary folder that is a link to elsewhere.
	hop := filepath.Join(t.TempDir(), "hop")
	if err := os.Symlink("/etc", hop); err != nil {
		t.Fatal(err)
	}
	if lib.Ingestible(filepath.Join(hop, "passwd")) {
		t.Error("a path through a symbolic link to /etc is ingestible")
	}
	if lib.Ingestible(filepath.Join(lib.IncomingDir(), "abc.part")) {
		t.Error("an HTTP upload being received is ingestible from a script")
	}
}

// TestSauceTitle: an art file's SAUCE title and author describe it.
func TestSauceTitle(t *testing.T) {
	lib := newLibrary(t)
	rec := make([]byte, 128)
	copy(rec, "SAUCE00")
	copy(rec[7:], fmt.Sprintf("%-35s", "Acid Logo"))
	copy(rec[42:], fmt.Sprintf("%-20s", "Zed"))
	art := append([]byte("\x1b[1mhello\x1a"), rec...)
	f, err := lib.Ingest(context.Background(), Upload{Area: "games", Name: "LOGO.ANS", Path: temp(t, art), Uploader: "ann", Description: "x"})
	if err != nil || f.Description != "Acid Logo by Zed" {
		t.Errorf("%+v, %v", f, err)
	}
}

// TestDIZLimits: a DIZ past its limit, a damaged archive or none keep the
// uploader's description; DESC.SDI counts; CP437 is decoded.
func TestDIZLimits(t *testing.T) {
	big := zipWith(t, map[string]string{"FILE_ID.DIZ": strings.Repeat("x", MaxDIZBytes+1)})
	if _, err := ReadDIZ(bytes.NewReader(big), int64(len(big))); err == nil {
		t.Error("an oversized DIZ was read")
	}
	sdi := zipWith(t, map[string]string{"desc.sdi": "caf\x82 \xb0"})
	if d, err := ReadDIZ(bytes.NewReader(sdi), int64(len(sdi))); err != nil || d != "café ░" {
		t.Errorf("DESC.SDI: %q %v", d, err)
	}
	if _, err := ReadDIZ(bytes.NewReader([]byte("PK junk")), 7); err == nil {
		t.Error("junk read as a zip")
	}
	none := zipWith(t, map[string]string{"sub/FILE_ID.DIZ": "deep"})
	if _, err := ReadDIZ(bytes.NewReader(none), int64(len(none))); !errors.Is(err, ErrNoDescription) {
		t.Errorf("a DIZ in a folder: %v", err)
	}
	for _, hidden := range []string{"\u202e", "\u200b", "\ufeff", "\u2066", "\ufffe", "\ufdd0"} {
		if got := CleanDescription("abc" + hidden + "def"); got != "abcdef" {
			t.Errorf("%q kept: %q", hidden, got)
		}
	}
	if got := CleanDescription(strings.Repeat("line\n", 50)); strings.Count(got, "\n") != MaxDescriptionLines-1 {
		t.Errorf("lines: %d", strings.Count(got, "\n"))
	}
}

// TestLinks: a signed link checks; a forged, altered, other-key or
// expired one does not.
func TestLinks(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	s := Signer{Key: []byte("0123456789abcdef0123456789abcdef")}
	l := Link{Kind: KindDownload, FileID: 42, User: "ann", ConnID: "17", Expires: now.Add(time.Minute), Nonce: NewNonce()}
	p := s.Path(l)
	got, err := s.Check(p, now)
	if err != nil || got != l {
		t.Fatalf("check %s: %+v %v", p, got, err)
	}
	if _, err := s.Check(p, now.Add(time.Minute)); !errors.Is(err, ErrExpired) {
		t.Errorf("expired: %v", err)
	}
	if _, err := (Signer{Key: []byte("other")}).Check(p, now); !errors.Is(err, ErrBadLink) {
		t.Errorf("other key: %v", err)
	}
	forged := l
	forged.FileID = 43
	other := Signer{Key: []byte("guess")}.Path(forged)
	sig := p[strings.LastIndexByte(p, '.'):]
	if _, err := s.Check(other[:strings.LastIndexByte(other, '.')]+sig, now); !errors.Is(err, ErrBadLink) {
		t.Errorf("altered payload: %v", err)
	}
	for _, bad := range []string{"/files/d/", "/files/x/abc.def", "/files/d/!!!.@@@", "/status", "/files/d/" + strings.Repeat("A", MaxTokenBytes)} {
		if _, err := s.Check(bad, now); !errors.Is(err, ErrBadLink) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	up := Link{Kind: KindUpload, Area: "games", User: "ann", ConnID: "17", Expires: now.Add(time.Minute), Nonce: "n1"}
	if got, err := s.Check(s.Path(up), now); err != nil || got != up {
		t.Errorf("upload link: %+v %v", got, err)
	}
}

// TestUploadPieces: pieces in order make the file; out of order is 409
// with the bytes so far; too fast is 429; past the size limit is 413 and
// the partial file goes; a piece too large or a bad name is 400.
func TestUploadPieces(t *testing.T) {
	ctx := context.Background()
	lib := newLibrary(t)
	lib.Settings.UploadRate = 64 << 10
	now := time.Unix(1_800_000_000, 0)
	u := &Uploads{Library: lib, Now: func() time.Time { return now }}
	link := Link{Kind: KindUpload, Area: "games", User: "ann", ConnID: "1", Expires: now.Add(time.Hour), Nonce: "abc"}
	piece := bytes.Repeat([]byte("z"), MaxPieceBytes)
	for i := range 4 {
		if code, body := u.Answer(ctx, link, fmt.Sprintf("offset=%d", i*MaxPieceBytes), piece); code != 200 {
			t.Fatalf("piece %d: %d %s", i, code, body)
		}
	}
	if code, body := u.Answer(ctx, link, "offset=0", piece); code != 409 || !strings.Contains(string(body), `"received":65536`) {
		t.Errorf("out of order: %d %s", code, body)
	}
	if code, _ := u.Answer(ctx, link, "offset=65536", piece); code != 429 {
		t.Errorf("too fast: %d", code)
	}
	now = now.Add(time.Second)
	if code, body := u.Answer(ctx, link, "offset=65536&done=1&name=z.txt&desc=zzz", []byte("end")); code != 200 || !strings.Contains(string(body), `"waiting":true`) {
		t.Errorf("last piece: %d %s", code, body)
	}
	f, err := lib.Store.FileByName(ctx, "games", "z.txt")
	if err != nil || f.Size != 65539 || f.Uploader != "ann" {
		t.Errorf("uploaded %+v %v", f, err)
	}
	if code, _ := u.Answer(ctx, link, "offset=0", make([]byte, MaxPieceBytes+1)); code != 400 {
		t.Errorf("piece too large: %d", code)
	}
	if code, _ := u.Answer(ctx, link, "offset=0&done=1&name=../../x", nil); code != 400 {
		t.Errorf("name ../../x: %d", code)
	}
	lib.Settings.MaxFileBytes, lib.Settings.UploadRate = 20<<10, 1<<30
	big := link
	big.Nonce = "big"
	u.Answer(ctx, big, "offset=0", piece)
	if code, _ := u.Answer(ctx, big, fmt.Sprintf("offset=%d", MaxPieceBytes), piece); code != 413 {
		t.Errorf("past the size limit: %d", code)
	}
	if entries, _ := os.ReadDir(lib.IncomingDir()); len(entries) != 0 {
		t.Errorf("partial files left: %v", entries)
	}

	// A partial upload a stopped host left goes once its link's time is
	// over; a fresh one stays.
	stale, fresh := filepath.Join(lib.IncomingDir(), "old.part"), filepath.Join(lib.IncomingDir(), "new.part")
	os.WriteFile(stale, []byte("x"), 0o600)
	os.WriteFile(fresh, []byte("x"), 0o600)
	old := time.Now().Add(-UploadIdle - time.Second)
	os.Chtimes(stale, old, old)
	(&Uploads{Library: lib}).Sweep()
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Error("a stale partial upload stayed")
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh partial upload went: %v", err)
	}
}

// TestSettings: bad settings are refused with a reason each.
func TestSettings(t *testing.T) {
	_, err := ParseSettings(map[string]any{"areas": []any{
		map[string]any{"name": "a", "folder": "../x"},
		map[string]any{"name": "a"},
		map[string]any{"name": "b", "folder": "review"},
		map[string]any{"name": "c", "colour": "red"},
	}, "max_file": "big"}, "/tmp/x.db")
	for _, want := range []string{"../x", "defined twice", "the board's own", "colour", "max_file"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	if _, err := ParseSettings(nil, ""); !errors.Is(err, ErrNotConfigured) {
		t.Error(err)
	}
}

// TestUploadAcrossHosts: with phone lines, each piece may reach another
// host; the bytes received are the partial file's, so the upload goes on.
func TestUploadAcrossHosts(t *testing.T) {
	ctx := context.Background()
	lib := newLibrary(t)
	hosts := []*Uploads{{Library: lib}, {Library: lib}}
	link := Link{Kind: KindUpload, Area: "games", User: "ann", ConnID: "1", Expires: time.Now().Add(time.Hour), Nonce: "two"}
	piece := bytes.Repeat([]byte("y"), 1000)
	for i := range 3 {
		q := fmt.Sprintf("offset=%d", i*1000)
		if i == 2 {
			q += "&done=1&name=y.txt"
		}
		if code, body := hosts[i%2].Answer(ctx, link, q, piece); code != 200 {
			t.Fatalf("piece %d on host %d: %d %s", i, i%2, code, body)
		}
	}
	if f, err := lib.Store.FileByName(ctx, "games", "y.txt"); err != nil || f.Size != 3000 {
		t.Errorf("%+v %v", f, err)
	}
}

// TestUploadsPerUser: one user may have MaxUploadsPerUser uploads going
// at once; another user is not held up by them.
func TestUploadsPerUser(t *testing.T) {
	ctx := context.Background()
	lib := newLibrary(t)
	u := &Uploads{Library: lib}
	link := func(user, nonce string) Link {
		return Link{Kind: KindUpload, Area: "games", User: user, ConnID: "1", Expires: time.Now().Add(time.Hour), Nonce: nonce}
	}
	for i := range MaxUploadsPerUser {
		if code, body := u.Answer(ctx, link("ann", fmt.Sprint("a", i)), "offset=0", []byte("x")); code != 200 {
			t.Fatalf("ann's upload %d: %d %s", i, code, body)
		}
	}
	if code, _ := u.Answer(ctx, link("ANN", "a-more"), "offset=0", []byte("x")); code != 503 {
		t.Errorf("ann's upload past her bound: %d", code)
	}
	if code, _ := u.Answer(ctx, link("bob", "b0"), "offset=0", []byte("x")); code != 200 {
		t.Errorf("bob's upload: %d", code)
	}
}

// TestParseRange: the ranges a browser or curl sends to go on with a
// download.
func TestParseRange(t *testing.T) {
	for _, c := range []struct {
		header   string
		first, n int64
		whole    bool
		err      error
	}{
		{"", 0, 1000, true, nil},
		{"bytes=0-", 0, 1000, true, nil},
		{"bytes=400-", 400, 600, false, nil},
		{"bytes=400-499", 400, 100, false, nil},
		{"bytes=400-5000", 400, 600, false, nil},
		{"bytes=-100", 900, 100, false, nil},
		{"bytes=1000-", 0, 0, false, ErrRange},
		{"bytes=1-2,4-5", 0, 1000, true, nil},
		{"lines=1-2", 0, 1000, true, nil},
		{"bytes=5-1", 0, 1000, true, nil},
	} {
		first, n, whole, err := ParseRange(c.header, 1000)
		if first != c.first || n != c.n || whole != c.whole || !errors.Is(err, c.err) {
			t.Errorf("%q: %d, %d, %v, %v", c.header, first, n, whole, err)
		}
	}
}

// TestDIZRefusesHugeDirectories: a zip whose end record claims more
// entries or a larger directory than the limits is not read (archive/zip
// would hold every entry in memory).
func TestDIZRefusesHugeDirectories(t *testing.T) {
	eocd := func(entries uint16, dirSize uint32) []byte {
		b := []byte("PK\x05\x06\x00\x00\x00\x00")
		b = append(b, byte(entries), byte(entries>>8), byte(entries), byte(entries>>8))
		b = append(b, byte(dirSize), byte(dirSize>>8), byte(dirSize>>16), byte(dirSize>>24), 0, 0, 0, 0, 0, 0)
		return b
	}
	for _, c := range []struct {
		entries uint16
		size    uint32
		want    string
	}{{MaxZipEntries + 1, 100, "entries"}, {10, maxDirectoryBytes + 1, "central directory"}, {0xFFFF, 0, "ZIP64"}} {
		data := append(bytes.Repeat([]byte{0}, 100), eocd(c.entries, c.size)...)
		if _, err := ReadDIZ(bytes.NewReader(data), int64(len(data))); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%d entries, %d bytes: %v", c.entries, c.size, err)
		}
	}
	ok := zipWith(t, map[string]string{"FILE_ID.DIZ": "fine"})
	if d, err := ReadDIZ(bytes.NewReader(ok), int64(len(ok))); err != nil || d != "fine" {
		t.Errorf("a plain zip: %q %v", d, err)
	}
}

// TestUploadPage: the page says whose link it is and where it uploads,
// escaped.
func TestUploadPage(t *testing.T) {
	page := string(UploadPage(Link{Area: "games", User: "ann<b>"}, 1000))
	for _, want := range []string{"Upload a file to games", "uploads as <strong>ann&lt;b&gt;</strong>", "up to 1000 bytes", "const piece = 16384;"} {
		if !strings.Contains(page, want) {
			t.Errorf("the upload page lacks %q", want)
		}
	}
}

// TestAbandonedUploadsFreeTheirSlots: uploads that get no piece for
// UploadIdle are dropped with their partial files, so that callers who
// start uploads and stop cannot keep everyone else out for the links'
// lifetime.
func TestAbandonedUploadsFreeTheirSlots(t *testing.T) {
	ctx := context.Background()
	lib := newLibrary(t)
	now := time.Unix(1_800_000_000, 0)
	u := &Uploads{Library: lib, Now: func() time.Time { return now }}
	link := func(user, nonce string) Link {
		return Link{Kind: KindUpload, Area: "games", User: user, ConnID: "1", Expires: now.Add(time.Hour), Nonce: nonce}
	}
	for i := range MaxUploads {
		if code, body := u.Answer(ctx, link(fmt.Sprint("user", i/2), fmt.Sprint("n", i)), "offset=0", []byte("x")); code != 200 {
			t.Fatalf("upload %d: %d %s", i, code, body)
		}
	}
	if code, _ := u.Answer(ctx, link("honest", "h"), "offset=0", []byte("x")); code != 503 {
		t.Fatalf("with every slot taken: %d", code)
	}
	now = now.Add(UploadIdle)
	if code, body := u.Answer(ctx, link("honest", "h"), "offset=0", []byte("x")); code != 200 {
		t.Errorf("after the others sat idle for %v: %d %s", UploadIdle, code, body)
	}
	if entries, _ := os.ReadDir(lib.IncomingDir()); len(entries) != 1 {
		t.Errorf("partial files left: %d, want the honest caller's only", len(entries))
	}
}

// TestAreaFoldersApart: an area's folder may not be the board's own
// folders, however spelled, nor share or nest in another area's.
func TestAreaFoldersApart(t *testing.T) {
	for _, folders := range [][]string{{"./incoming"}, {"review/"}, {"games/../review"}, {"review/x"}, {"."}, {"/tmp/board/files/incoming"},
		{"games", "games/"}, {"games", "games/new"}} {
		var areas []any
		for i, f := range folders {
			areas = append(areas, map[string]any{"name": fmt.Sprint("a", i), "folder": f})
		}
		if _, err := ParseSettings(map[string]any{"dir": "/tmp/board/files", "areas": areas}, ""); err == nil {
			t.Errorf("folders %q accepted", folders)
		}
	}
	if _, err := ParseSettings(map[string]any{"dir": "/tmp/board/files", "areas": []any{
		map[string]any{"name": "games"}, map[string]any{"name": "gamesx"}, map[string]any{"name": "art", "folder": "/srv/art"},
	}}, ""); err != nil {
		t.Errorf("areas apart refused: %v", err)
	}
}

// TestApproveAfterACrash: a host killed between linking an approved
// upload into its area and updating its record leaves both links; the
// approval done again completes. Bytes left with no record (a crash in
// a removal) give way to an upload of the same content.
func TestApproveAfterACrash(t *testing.T) {
	ctx := context.Background()
	lib := newLibrary(t)
	f, err := lib.Ingest(ctx, Upload{Area: "games", Name: "a.txt", Path: temp(t, []byte("aaa")), Uploader: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	listed := f
	listed.Approved = time.Now()
	os.MkdirAll(filepath.Dir(lib.Path(listed)), 0o750)
	if err := os.Link(lib.Path(f), lib.Path(listed)); err != nil { // the crash's half
		t.Fatal(err)
	}
	if _, err := lib.Approve(ctx, f.ID); err != nil {
		t.Fatalf("approving again after a crash: %v", err)
	}
	if _, err := os.Stat(lib.Path(f)); !errors.Is(err, os.ErrNotExist) {
		t.Error("the review copy stayed")
	}

	// A removal cut short: the record went, the bytes stayed.
	if _, err := lib.Store.RemoveFile(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	again, err := lib.Ingest(ctx, Upload{Area: "games", Name: "a.txt", Path: temp(t, []byte("aaa")), Uploader: "bob", Approved: true})
	if err != nil {
		t.Fatalf("the same file uploaded again over its orphan bytes: %v", err)
	}
	if got, _ := os.ReadFile(lib.Path(again)); string(got) != "aaa" {
		t.Errorf("the file now holds %q", got)
	}
	b, err := lib.Ingest(ctx, Upload{Area: "games", Name: "b.txt", Path: temp(t, []byte("bbb")), Uploader: "bob", Approved: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lib.Store.RemoveFile(ctx, b.ID); err != nil { // b.txt's record goes, its bytes stay
		t.Fatal(err)
	}
	if _, err := lib.Ingest(ctx, Upload{Area: "games", Name: "b.txt", Path: temp(t, []byte("other")), Uploader: "cy", Approved: true}); !errors.Is(err, store.ErrFileExists) {
		t.Errorf("other content over orphan bytes: %v", err)
	}
}
