package dispatch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/files"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// The file areas' HTTP links (host/handler/files, links.go):
//
//	GET  /files/d/TOKEN   the file, streamed in DownloadPiece pieces at the
//	                      settings' download_rate, with Content-Length;
//	                      the front end's disconnect notice stops it; one
//	                      Range (bytes=N-) goes on with a download cut short
//	GET  /files/u/TOKEN   a small upload page for a browser
//	POST /files/u/TOKEN?offset=N[&done=1&name=NAME&desc=TEXT]  one piece
//	                      of an upload (files.Uploads)
//
// A link works until it expires and while the session that asked for it
// is online as the same user, on this host or another line. Answers:
// 403 for a link that is not valid, 410 for one that expired or whose
// call ended, 503 past MaxDownloads downloads at once (or
// MaxDownloadsPerUser of one user's). Each download
// runs on its own goroutine, paced, so that a large one never holds up
// other callers' replies (the transport carries at most one piece of it
// at a time).

// Limits of HTTP downloads.
const (
	// DownloadPiece is the size of each reply a download is sent in:
	// both front ends keep at most 16 replies waiting for a caller
	// (Mongrel2's DELIVER_OUTSTANDING_MSGS) and hang up past that, so a
	// caller's reader may fall 16 pieces behind the rate, 2 s at the
	// default 2 MiB/s.
	DownloadPiece = 256 << 10
	// MaxDownloads bounds the downloads a host sends at once,
	// MaxDownloadsPerUser those of one user's links among them.
	MaxDownloads        = 16
	MaxDownloadsPerUser = 2
)

// download is a file being sent for a link: n bytes from first (the
// whole file, or the range a caller asked for to go on with a download
// cut short).
type download struct {
	file     *os.File
	rec      store.File
	link     files.Link
	first, n int64
	partial  bool
}

// fileRoutes adds the file links' pages to mux when the board has file
// areas.
func (h *Host) fileRoutes(mux *http.ServeMux) {
	if h.deps.Files == nil {
		return
	}
	h.uploads = &files.Uploads{Library: h.deps.Files, Taken: func(link files.Link, f store.File) {
		h.log.Info("file uploaded", "conn_id", link.ConnID, "user", link.User, "area", f.Area, "file", f.ID, "bytes", f.Size, "waiting", f.Waiting())
	}}
	h.uploads.Sweep()
	mux.Handle(files.LinksPath, http.HandlerFunc(h.filesPage))
}

// sweepUploads sweeps the abandoned uploads every files.SweepEvery
// until ctx ends.
func (h *Host) sweepUploads(ctx context.Context) {
	if h.uploads == nil {
		return
	}
	tick := time.NewTicker(files.SweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			h.uploads.Sweep()
		}
	}
}

// filesPage answers a file link.
func (h *Host) filesPage(w http.ResponseWriter, r *http.Request) {
	link, code, why := h.checkLink(r)
	if code != 0 {
		writeAnswer(w, code, []byte(why+"\n"))
		return
	}
	switch {
	case link.Kind == files.KindDownload && r.Method == http.MethodGet:
		h.startDownload(w, r, link)
	case link.Kind == files.KindUpload && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(files.UploadPage(link, h.deps.Files.Settings.MaxFileBytes))
	case link.Kind == files.KindUpload && r.Method == http.MethodPost:
		body, _ := io.ReadAll(io.LimitReader(r.Body, files.MaxPieceBytes+1))
		code, answer := h.uploads.Answer(r.Context(), link, r.URL.RawQuery, body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write(answer)
	default:
		writeAnswer(w, http.StatusMethodNotAllowed, []byte("use GET for a download, GET or POST for an upload\n"))
	}
}

// checkLink checks r's link: its signature, its time, and that the
// session it was made for is online as its user. A non-zero code is the
// refusal.
func (h *Host) checkLink(r *http.Request) (files.Link, int, string) {
	signer, err := h.deps.Files.Signer(r.Context())
	if err != nil {
		h.log.Error("file link key", "err", err)
		return files.Link{}, http.StatusServiceUnavailable, "file links are not available"
	}
	link, err := signer.Check(r.URL.Path, time.Now())
	switch {
	case errors.Is(err, files.ErrExpired):
		return files.Link{}, http.StatusGone, "this link has expired: ask the board for a new one"
	case err != nil:
		return files.Link{}, http.StatusForbidden, "this is not a valid link"
	case !h.onlineAs(r.Context(), link.ConnID, link.User):
		return files.Link{}, http.StatusGone, "this link ended with the call that asked for it"
	}
	return link, 0, ""
}

// onlineAs reports whether connID is online, logged in as user, on this
// host or (as last looked) on another line.
func (h *Host) onlineAs(ctx context.Context, connID, user string) bool {
	h.mu.Lock()
	o := h.owners[connID]
	local := o != nil && strings.EqualFold(o.user, user)
	h.mu.Unlock()
	if local || o != nil || !h.onRemoteLine(connID) {
		return local
	}
	ctx, cancel := context.WithTimeout(ctx, lineTimeout)
	defer cancel()
	for _, c := range h.remoteCallers(ctx) {
		if c.ConnID == connID {
			return strings.EqualFold(c.User, user)
		}
	}
	return false
}

// startDownload opens the link's file and leaves it for serveHTTP to
// stream (serveDownload).
func (h *Host) startDownload(w http.ResponseWriter, r *http.Request, link files.Link) {
	rw, ok := w.(*replyWriter)
	if !ok {
		writeAnswer(w, http.StatusInternalServerError, []byte("downloads stream only through the front end\n"))
		return
	}
	if !h.downloads.take(link.User) {
		writeAnswer(w, http.StatusServiceUnavailable, []byte("too many downloads at once: try again in a minute\n"))
		return
	}
	f, rec, err := h.deps.Files.Open(r.Context(), link.FileID)
	if err != nil {
		h.downloads.give(link.User)
		writeAnswer(w, http.StatusNotFound, []byte("that file is no longer on the board\n"))
		return
	}
	first, n, whole, err := files.ParseRange(r.Header.Get("range"), rec.Size)
	if err != nil {
		f.Close()
		h.downloads.give(link.User)
		writeAnswer(w, http.StatusRequestedRangeNotSatisfiable, []byte("that range is past the end of the file\n"))
		return
	}
	rw.download = &download{file: f, rec: rec, link: link, first: first, n: n, partial: !whole}
}

// serveDownload sends d to req's caller through t: the head, the file in
// DownloadPiece pieces paced at the settings' download rate, then the
// hang-up. A download sent whole counts, and leaves the caller's queue.
func (h *Host) serveDownload(ctx context.Context, req *m2proto.Request, t Transport, d *download) {
	defer h.downloads.give(d.link.User)
	defer d.file.Close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	h.sending.Store(req.ConnID, cancel)
	defer h.sending.Delete(req.ConnID)
	if h.earlyGone.took(req.ConnID) {
		return // hung up before the first piece
	}
	ids := []string{req.ConnID}
	log := h.log.With("conn_id", d.link.ConnID, "download_conn_id", req.ConnID, "file", d.rec.ID)
	if err := h.sendVia(t, req.Sender, ids, downloadHead(d)); err != nil {
		log.Warn("download", "err", err)
		return
	}
	sent, err := pace(ctx, io.NewSectionReader(d.file, d.first, d.n), h.deps.Files.Settings.DownloadRate, func(piece []byte) error {
		return h.sendVia(t, req.Sender, ids, piece)
	})
	_ = h.sendVia(t, req.Sender, ids, nil)
	if err != nil || sent != d.n {
		log.Warn("download cut short", "sent", sent, "from", d.first, "size", d.rec.Size, "err", err)
		return
	}
	if d.first+d.n != d.rec.Size {
		return // a range short of the end: the caller has not got the file yet
	}
	bg := context.WithoutCancel(ctx)
	if err := errors.Join(h.deps.Files.Store.CountDownload(bg, d.rec.ID),
		h.deps.Files.Store.UnqueueFile(bg, d.link.User, d.rec.ID)); err != nil {
		log.Warn("download count", "err", err)
	}
	log.Info("file downloaded", "user", d.link.User, "bytes", sent)
}

// pace reads r to its end and hands it to send in DownloadPiece pieces,
// at most rate bytes a second; it returns the bytes sent.
func pace(ctx context.Context, r io.Reader, rate int64, send func([]byte) error) (int64, error) {
	start := time.Now()
	var sent int64
	for {
		buf := make([]byte, DownloadPiece) // a fresh one: the transport keeps what it is given
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if err := send(buf[:n]); err != nil {
				return sent, err
			}
			sent += int64(n)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return sent, nil
		}
		if err != nil {
			return sent, err
		}
		due := start.Add(time.Duration(float64(sent) / float64(rate) * float64(time.Second)))
		if wait := time.Until(due); wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				timer.Stop()
				return sent, ctx.Err()
			}
		}
	}
}

// downloadHead is the head of a download's answer: its length (and its
// range, for a part), and a name for the browser to save it under.
func downloadHead(d *download) []byte {
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": d.rec.Name})
	status, rng := "200 OK", ""
	if d.partial {
		status = "206 Partial Content"
		rng = fmt.Sprintf("Content-Range: bytes %d-%d/%d\r\n", d.first, d.first+d.n-1, d.rec.Size)
	}
	return fmt.Appendf(nil, "HTTP/1.1 %s\r\nContent-Type: application/octet-stream\r\nContent-Length: %s\r\n%s"+
		"Accept-Ranges: bytes\r\nContent-Disposition: %s\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n",
		status, strconv.FormatInt(d.n, 10), rng, disposition)
}

// downloadsCounter counts the downloads being sent (Host.downloads), in
// all and by user.
type downloadsCounter struct {
	mu     sync.Mutex
	total  int
	byUser map[string]int
}

// take counts one more download of user's, unless that passes
// MaxDownloads or MaxDownloadsPerUser.
func (c *downloadsCounter) take(user string) bool {
	user = strings.ToLower(user)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.total >= MaxDownloads || c.byUser[user] >= MaxDownloadsPerUser {
		return false
	}
	if c.byUser == nil {
		c.byUser = map[string]int{}
	}
	c.total++
	c.byUser[user]++
	return true
}

// give counts a download of user's as ended.
func (c *downloadsCounter) give(user string) {
	user = strings.ToLower(user)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total--
	if c.byUser[user]--; c.byUser[user] <= 0 {
		delete(c.byUser, user)
	}
}

// downloadGone stops the download sent to connID: its caller hung up
// (the front end's disconnect notice). A notice that comes before the
// download starts streaming is kept for a while (goneBefore), so that the
// download does not start.
func (h *Host) downloadGone(connID string) {
	if cancel, ok := h.sending.Load(connID); ok {
		cancel.(context.CancelFunc)()
		return
	}
	h.earlyGone.add(connID, time.Now())
}

// goneBefore keeps the HTTP callers who hung up with no download
// streaming to them, for goneTTL, at most maxGone of them.
type goneBefore struct {
	mu  sync.Mutex
	ids map[string]time.Time
}

// Bounds of goneBefore.
const (
	goneTTL = time.Minute
	maxGone = 4096
)

// add keeps connID; past maxGone entries, those older than goneTTL go
// (all of them if that is not enough).
func (g *goneBefore) add(connID string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.ids == nil {
		g.ids = map[string]time.Time{}
	}
	if len(g.ids) >= maxGone {
		for id, at := range g.ids {
			if now.Sub(at) > goneTTL {
				delete(g.ids, id)
			}
		}
		if len(g.ids) >= maxGone {
			clear(g.ids)
		}
	}
	g.ids[connID] = now
}

// took reports whether connID hung up already, and forgets it.
func (g *goneBefore) took(connID string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, ok := g.ids[connID]
	delete(g.ids, connID)
	return ok
}
