package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/cmd/internal/filelink"
	"github.com/m2bbs/m2bbs/host/handler/files"
	"github.com/m2bbs/m2bbs/host/shared/pgtest"
)

// filesConfig writes a settings file with two file areas under dir
// (uploads reviewed; "art" open to the sysop's uploads only) and returns
// its path.
func filesConfig(t *testing.T, dir string) string { return filesConfigLinks(t, dir, 120) }

// filesConfigLinks is filesConfig with links that work for lifetime
// seconds.
func filesConfigLinks(t *testing.T, dir string, lifetime int) string {
	t.Helper()
	conf := filepath.Join(dir, "config.lua")
	src := fmt.Sprintf(`files = {
		dir = %q, review = true, max_file = 24 * 1024 * 1024,
		upload_rate = 256 * 1024 * 1024, download_rate = 16 * 1024 * 1024, link_lifetime = %d,
		areas = {
			{name = 'uploads', description = 'Uploads from callers'},
			{name = 'art', description = 'ANSI art', upload = 'sysop'},
		},
	}
	`, filepath.Join(dir, "files"), lifetime)
	if err := os.WriteFile(conf, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return conf
}

// startFilesBoard starts a board with file areas behind frontEnd; zed,
// the first caller, is its sysop.
func startFilesBoard(t *testing.T, frontEnd string) *bbs {
	t.Helper()
	dir := t.TempDir()
	extra := []string{"-config", filesConfig(t, dir)}
	if frontEnd == viaBuiltIn {
		extra = append(extra, "-web-port", "-1", "-telnet-port", "-1")
	}
	b := startBBS(t, frontEnd, "", append(extra, fastCallers...)...)
	b.play(t, "zed", "pw", "pw", "y", "Q")
	return b
}

// linkIn returns the last link re finds in a transcript.
func linkIn(t *testing.T, re *regexp.Regexp, transcript string) string {
	t.Helper()
	link := filelink.Last(re, transcript)
	if link == "" {
		t.Fatalf("no link in:\n%s", transcript)
	}
	return link
}

// post sends one upload request and returns its status and answer.
func post(t *testing.T, url string, body []byte) (int, filelink.Answer) {
	t.Helper()
	code, a, err := filelink.Post(t.Context(), url, body)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	return code, a
}

// upload sends data to link in pieces, named name, and returns the last
// answer.
func upload(t *testing.T, addr, link, name string, data []byte) (int, filelink.Answer) {
	t.Helper()
	code, a, err := filelink.Upload(t.Context(), addr, link, name, data)
	if err != nil {
		t.Fatalf("upload %s: %v", name, err)
	}
	return code, a
}

// TestFileAreasEndToEnd: a caller gets an upload link from the Files
// menu and uploads a .zip over HTTP in pieces; its FILE_ID.DIZ becomes
// its description and it waits for review; the sysop approves it in the
// sysop menu; another caller searches, sees its details, gets a download
// link and downloads it byte-identical, and it counts. Hostile requests
// (a forged link, a piece past the limit, ../../x, a file past the size
// limit, a link whose call ended) are refused while a third caller's
// menu keeps answering; a large download does not slow that caller
// either (figures logged).
func TestFileAreasEndToEnd(t *testing.T) {
	b := startFilesBoard(t, viaBuiltIn)
	ann := b.call(t)
	out := arrive(t, ann, "ann", "pw", "pw", "y", "F", "U", "1")
	if !strings.Contains(out, "1. uploads") || strings.Contains(out, ". art ") {
		t.Errorf("the upload areas shown to ann:\n%s", out)
	}
	upLink := linkIn(t, filelink.UploadRE, out)

	cy := b.call(t)
	arrive(t, cy, "cy", "pw", "pw", "y")
	stop := make(chan struct{})
	done := make(chan []filelink.Trip)
	go func() {
		// Within the board's rate for one caller (-rate 1000).
		trips, err := filelink.MenuRoundTrips(cy, stop, 2*time.Millisecond, readTimeout)
		if err != nil {
			t.Errorf("the second caller: %v", err)
		}
		done <- trips
	}()

	// Hostile requests first.
	forged := upLink[:len(upLink)-3] + "AAA"
	if code, _ := post(t, "http://"+b.addr+forged+"?offset=0", []byte("x")); code != http.StatusForbidden {
		t.Errorf("a forged link: %d", code)
	}
	if code, _ := post(t, "http://"+b.addr+upLink+"?offset=0", make([]byte, files.MaxPieceBytes+1)); code != http.StatusBadRequest {
		t.Errorf("a piece past the limit: %d", code)
	}
	if code, a := post(t, "http://"+b.addr+upLink+"?offset=0&done=1&name=..%2F..%2Fx", []byte("evil")); code != http.StatusBadRequest || !strings.Contains(a.Error, "invalid file name") {
		t.Errorf("../../x: %d %+v", code, a)
	}
	big := make([]byte, 24<<20+1)
	if code, a := upload(t, b.addr, upLink, "big.bin", big); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a file past max_file: %d %+v", code, a)
	}

	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	w, _ := zw.Create("FILE_ID.DIZ")
	w.Write([]byte("Tetris for DOS\r\nfalling blocks\r\n"))
	w, _ = zw.CreateHeader(&zip.FileHeader{Name: "TETRIS.EXE", Method: zip.Store})
	payload := make([]byte, 100<<10)
	rand.Read(payload)
	w.Write(payload)
	zw.Close()
	code, a := upload(t, b.addr, upLink, "TETRIS.ZIP", zipped.Bytes())
	if code != http.StatusOK || !a.Waiting || a.Name != "TETRIS.ZIP" {
		t.Fatalf("upload: %d %+v", code, a)
	}
	if code, a := upload(t, b.addr, upLink, "AGAIN.ZIP", zipped.Bytes()); code != http.StatusUnprocessableEntity || !strings.Contains(a.Error, "already on the board") {
		t.Errorf("the same file again: %d %+v", code, a)
	}
	if err := ann.Send(""); err != nil {
		t.Fatal(err)
	}
	if out, err := ann.Run([]string{"Q"}, readTimeout); err != nil {
		t.Fatalf("ann's goodbye: %v\n%s", err, out)
	}
	waitGone(t, b, "ann")
	if code, _ := post(t, "http://"+b.addr+upLink+"?offset=0", []byte("x")); code != http.StatusGone {
		t.Errorf("the link of a call that ended: %d", code)
	}

	sysop := b.play(t, "zed", "pw", "y", "S", "R", "A", "Q", "Q")
	for _, want := range []string{"R. Uploads waiting for review.", "TETRIS.ZIP to uploads by ann", "Tetris for DOS", "TETRIS.ZIP is listed.", "No upload waits for review."} {
		if !strings.Contains(sysop, want) {
			t.Errorf("the sysop's review lacks %q:\n%s", want, sysop)
		}
	}

	bob := b.call(t)
	out = arrive(t, bob, "bob", "pw", "pw", "y", "F", "S", "falling", "1", "L")
	for _, want := range []string{"1. TETRIS.ZIP", "Uploaded by ann", "Tetris for DOS\nfalling blocks"} {
		if !strings.Contains(out, want) {
			t.Errorf("bob's search lacks %q:\n%s", want, out)
		}
	}
	got := download(t, "http://"+b.addr+linkIn(t, filelink.DownloadRE, out))
	if !bytes.Equal(got, zipped.Bytes()) {
		t.Errorf("downloaded %d bytes, not the %d uploaded", len(got), zipped.Len())
	}
	out = visit(t, bob, "", "A", "1", "1")
	if !strings.Contains(out, "downloaded 1 times") {
		t.Errorf("the download did not count:\n%s", out)
	}

	// A large file, uploaded by the sysop and approved, downloaded while
	// cy's menu is timed.
	large := make([]byte, 20<<20)
	rand.Read(large)
	zc := b.call(t)
	out = arrive(t, zc, "zed", "pw", "y", "F", "U", "2")
	if code, a := upload(t, b.addr, linkIn(t, filelink.UploadRE, out), "LARGE.BIN", large); code != http.StatusOK {
		t.Fatalf("large upload: %d %+v", code, a)
	}
	out = visit(t, zc, "", "", "S", "R", "A", "", "Q", "F", "A", "2", "1", "L")
	largeLink := linkIn(t, filelink.DownloadRE, out)

	// A reader that stops reading is hung up on by the front end, and
	// the host stops sending.
	stalled := stallDownload(t, b.addr, largeLink)
	b.logs.WaitFor(t, readTimeout, "download cut short", "file=2")
	if n := drain(stalled); n >= int64(len(large)) {
		t.Errorf("a reader that stopped got all %d bytes", n)
	}

	start := time.Now()
	got = download(t, "http://"+b.addr+largeLink)
	took := time.Since(start)
	close(stop)
	trips := <-done
	if !bytes.Equal(got, large) {
		t.Fatalf("large download: %d bytes, want %d", len(got), len(large))
	}
	during := filelink.During(trips, start, start.Add(took))
	all := filelink.During(trips, time.Time{}, time.Now())
	slices.Sort(all)
	slices.Sort(during)
	if len(during) < 5 {
		t.Fatalf("only %d menu round trips during the download", len(during))
	}
	median, worst := during[len(during)/2], during[len(during)-1]
	t.Logf("download: %d MiB in %v (%.1f MiB/s); second caller's menu meanwhile: %d round trips, median %v, max %v; over the whole test (hostile requests included): median %v, max %v",
		len(large)>>20, took.Round(time.Millisecond), float64(len(large))/(1<<20)/took.Seconds(), len(during), median, worst,
		all[len(all)/2], all[len(all)-1])
	if median > 250*time.Millisecond || worst > 2*time.Second || all[len(all)-1] > 2*time.Second {
		t.Errorf("the second caller's menu slowed: median %v, max %v during the download; max %v in all", median, worst, all[len(all)-1])
	}
}

// download GETs url and returns the body.
func download(t *testing.T, url string) []byte {
	t.Helper()
	body, err := filelink.Download(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// waitGone waits until user has no session on b.
func waitGone(t *testing.T, b *bbs, user string) {
	t.Helper()
	deadline := time.Now().Add(readTimeout)
	for {
		online := false
		for _, c := range b.status(t).Online {
			online = online || c.User == user
		}
		if !online {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is still online", user)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestFileLinksThroughMongrel2: behind the real Mongrel2, an upload in
// pieces and a download of several pieces work as behind the built-in
// front end, and a forged link is refused.
func TestFileLinksThroughMongrel2(t *testing.T) {
	b := startFilesBoard(t, viaMongrel2)
	ann := b.call(t)
	upLink := linkIn(t, filelink.UploadRE, arrive(t, ann, "ann", "pw", "pw", "y", "F", "U", "1"))
	data := make([]byte, 3<<20+12345)
	rand.Read(data)
	if code, a := upload(t, b.addr, upLink, "DATA.BIN", data); code != http.StatusOK || !a.Waiting {
		t.Fatalf("upload through Mongrel2: %d %+v", code, a)
	}
	if code, _ := post(t, "http://"+b.addr+upLink[:len(upLink)-2]+"AA?offset=0", nil); code != http.StatusForbidden {
		t.Errorf("a forged link through Mongrel2: %d", code)
	}
	b.play(t, "zed", "pw", "y", "S", "R", "A", "", "Q", "Q")
	out := visit(t, ann, "A", "1", "1", "L")
	link := linkIn(t, filelink.DownloadRE, out)
	if got := download(t, "http://"+b.addr+link); !bytes.Equal(got, data) {
		t.Errorf("downloaded %d bytes through Mongrel2, want %d", len(got), len(data))
	}
	// A download cut short goes on from where it stopped.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+b.addr+link, nil)
	req.Header.Set("Range", "bytes=1000000-")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rest, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusPartialContent || !bytes.Equal(rest, data[1000000:]) ||
		resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 1000000-%d/%d", len(data)-1, len(data)) {
		t.Errorf("a ranged download: %s %q, %d bytes, %v", resp.Status, resp.Header.Get("Content-Range"), len(rest), err)
	}
}

// stallDownload starts a download of link with a small receive buffer
// and reads nothing.
func stallDownload(t *testing.T, addr, link string) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	tc := c.(*net.TCPConn)
	_ = tc.SetReadBuffer(4096)
	if _, err := fmt.Fprintf(tc, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", link, addr); err != nil {
		t.Fatal(err)
	}
	return tc
}

// drain reads c to its end, an error or 2 s of its bytes, and returns
// how many came.
func drain(c *net.TCPConn) int64 {
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, _ := io.Copy(io.Discard, c)
	return n
}

// TestFileCallersSurviveAHostKilled: behind real Mongrel2 with phone
// lines, a caller browsing a file area when the host is killed with
// SIGKILL goes on where they were once it is back (the files module's
// answers come from the journal), queues the file, and the download
// link the uploader got before the kill still works for the file's
// uploader's session.
func TestFileCallersSurviveAHostKilled(t *testing.T) {
	dir := t.TempDir()
	fileCallersSurvive(t, dir, filepath.Join(dir, "bbs.db"))
}

// TestFileCallersSurviveAHostKilledOnPostgreSQL is
// TestFileCallersSurviveAHostKilled with the board on PostgreSQL: the
// file records and the link key are in PostgreSQL, the bytes on disk.
func TestFileCallersSurviveAHostKilledOnPostgreSQL(t *testing.T) {
	dir := t.TempDir()
	fileCallersSurvive(t, dir, pgtest.NewDatabase(t), "-data", dir)
}

// fileCallersSurvive is the file callers' restart test on the database
// db, the files in dir.
func fileCallersSurvive(t *testing.T, dir, db string, extra ...string) {
	server := startLinesMongrel2(t, 1)
	conf := filesConfig(t, dir)
	args := append([]string{"-config", conf}, extra...)
	line := startLine(t, server, db, 1, args...)
	zed, _ := callIn(t, server, "zed", "pw", "pw", "y")
	leave(t, zed, "Q")

	ann, out := callIn(t, server, "ann", "pw", "pw", "y", "F", "U", "1")
	data := zipWith(t, "FILE_ID.DIZ", "Survivor's tool\r\n")
	if code, a := upload(t, server.Addr(), linkIn(t, filelink.UploadRE, out), "TOOL.ZIP", data); code != http.StatusOK || !a.Waiting {
		t.Fatalf("upload: %d %+v", code, a)
	}
	zed, _ = callIn(t, server, "zed", "pw", "y", "S", "R", "A")
	leave(t, zed, "", "Q", "Q")
	out = visit(t, ann, "A", "1", "1", "L")
	annLink := linkIn(t, filelink.DownloadRE, out)

	bob, out := callIn(t, server, "bob", "pw", "pw", "y", "F", "A", "1")
	if !strings.Contains(out, "1. TOOL.ZIP") {
		t.Fatalf("bob's listing:\n%s", out)
	}
	line.kill9(t)
	line = startLine(t, server, db, 1, args...)

	out = visit(t, bob, "1", "Q")
	if !strings.Contains(out, "Uploaded by ann") || !strings.Contains(out, "TOOL.ZIP is in your download queue.") {
		t.Errorf("bob after the restart:\n%s", out)
	}
	// ann's session comes back with her next line; her link then works.
	visit(t, ann, "")
	if got := download(t, "http://"+server.Addr()+annLink); !bytes.Equal(got, data) {
		t.Errorf("ann's link after the restart: %d bytes", len(got))
	}
	line.logs.WaitFor(t, readTimeout, "session replayed from its journal")
}

// zipWith is a .zip holding one entry.
func zipWith(t *testing.T, name, body string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(body))
	zw.Close()
	return buf.Bytes()
}

// TestFileUploadInTheBrowser: the browser page (headless Chromium, driven
// by host/gateway/web/e2e/files.mjs) shows the upload link the Files menu
// gives above the terminal; its upload page sends a 300 KiB file in
// pieces through the page's own port; the sysop approves it and another
// caller downloads it byte-identical.
func TestFileUploadInTheBrowser(t *testing.T) {
	webDir := needBrowser(t)
	ports := freePorts(t, 2)
	dir := t.TempDir()
	logs := startM2BBS(t, "run", "-port", fmt.Sprint(ports[0]), "-web-port", fmt.Sprint(ports[1]), "-telnet-port", "-1",
		"-data", dir, "-db", filepath.Join(dir, "bbs.db"), "-scripts", "../../scripts", "-screens", "../../screens",
		"-config", filesConfig(t, dir), "-bcrypt-cost", "4", "-rate", "1000", "-burst", "1000")
	logs.WaitFor(t, 30*time.Second, "m2bbs is ready")
	b := &bbs{addr: fmt.Sprintf("127.0.0.1:%d", ports[0]), logs: logs}
	b.play(t, "zed", "pw", "pw", "y", "Q")

	data := make([]byte, 300<<10)
	rand.Read(data)
	file := filepath.Join(t.TempDir(), "BROWSER.BIN")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), browserTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(webDir, "e2e", "files.mjs"), fmt.Sprintf("http://127.0.0.1:%d/", ports[1]), "webfay", file)
	cmd.Dir = webDir
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Received BROWSER.BIN (307200 bytes): it waits for the sysop's review.") {
		t.Fatalf("the browser test failed (%v):\n%s", err, out)
	}
	b.play(t, "zed", "pw", "y", "S", "R", "A", "", "Q", "Q")
	bob := b.call(t)
	link := linkIn(t, filelink.DownloadRE, arrive(t, bob, "bob", "pw", "pw", "y", "F", "A", "1", "1", "L"))
	if got := download(t, "http://"+b.addr+link); !bytes.Equal(got, data) {
		t.Errorf("downloaded %d bytes, not the %d the browser sent", len(got), len(data))
	}
}

// TestFileLinkExpires: a link past its lifetime (1 s here) is refused
// with 410, though its call is still online.
func TestFileLinkExpires(t *testing.T) {
	dir := t.TempDir()
	b := startBBS(t, viaBuiltIn, "", append([]string{"-config", filesConfigLinks(t, dir, 1), "-web-port", "-1", "-telnet-port", "-1"}, fastCallers...)...)
	ann := b.call(t)
	link := linkIn(t, filelink.UploadRE, arrive(t, ann, "ann", "pw", "pw", "y", "F", "U", "1"))
	if code, _ := post(t, "http://"+b.addr+link+"?offset=0", []byte("x")); code != http.StatusOK {
		t.Fatalf("a fresh link: %d", code)
	}
	time.Sleep(2 * time.Second) // the link's lifetime (1 s, rounded up to whole seconds) passes
	if code, a := post(t, "http://"+b.addr+link+"?offset=1", []byte("y")); code != http.StatusGone || !strings.Contains(a.Error, "expired") {
		t.Errorf("an expired link: %d %+v", code, a)
	}
}
