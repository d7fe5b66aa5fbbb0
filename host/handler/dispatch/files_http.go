package dispatch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/files"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/qwk"
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
//	GET  /files/q/TOKEN   the caller's QWK packet (from the store), sent as
//	                      a file is; sent whole, it counts as fetched:
//	                      the caller's last-read pointers move
//	                      (store.OfflineMail.QWKFetched)
//	GET, POST /files/r/TOKEN   the upload page and pieces of a QWK reply
//	                      packet, kept whole as files.Library.ReplyPath
//	                      for the caller's script (qwk.uploaded), at most
//	                      the REP limit of host/qwk
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
	src      io.ReaderAt
	close    func() error
	name     string // the name the browser saves it under
	size     int64
	what     slog.Attr // what is sent, for the log
	link     files.Link
	first, n int64
	partial  bool
	// whole is run once the download reached the end of the file.
	whole func(ctx context.Context) error
}

// fileRoutes adds the file links' pages to mux when the board has file
// areas.
func (h *Host) fileRoutes(mux *http.ServeMux) {
	if h.deps.Files == nil {
		return
	}
	h.uploads = &files.Uploads{Library: h.deps.Files, Taken: func(link files.Link, f store.File) {
		h.log.Info("file uploaded", "conn_id", link.ConnID, "user", link.User, "area", f.Area, "file", f.ID, "bytes", f.Size, "waiting", f.Waiting())
	}, ReplyLimit: int64(qwk.DefaultLimits.MaxPacketBytes), Replied: func(link files.Link, size int64) {
		h.log.Info("qwk reply packet uploaded", "conn_id", link.ConnID, "user", link.User, "bytes", size)
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
		h.startDownload(w, r, link, "file", h.openFile(link))
	case link.Kind == files.KindPacket && r.Method == http.MethodGet:
		h.startDownload(w, r, link, "packet", h.openPacket(link, packetName(r.URL.Query().Get("name"))))
	case link.Kind == files.KindUpload && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(files.UploadPage(link, h.deps.Files.Settings.MaxFileBytes))
	case link.Kind == files.KindReply && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		page := link
		page.Area = "the Offline mail menu: your QWK reply packet (.REP)"
		_, _ = w.Write(files.UploadPage(page, h.uploads.ReplyLimit))
	case (link.Kind == files.KindUpload || link.Kind == files.KindReply) && r.Method == http.MethodPost:
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

// startDownload opens what the link downloads (open; a file, or a
// packet, "what" it says to the caller) and leaves it for serveHTTP to
// stream (serveDownload).
func (h *Host) startDownload(w http.ResponseWriter, r *http.Request, link files.Link, what string, open func(ctx context.Context) (*download, error)) {
	rw, ok := w.(*replyWriter)
	if !ok {
		writeAnswer(w, http.StatusInternalServerError, []byte("downloads stream only through the front end\n"))
		return
	}
	if !h.downloads.take(link.User) {
		writeAnswer(w, http.StatusServiceUnavailable, []byte("too many downloads at once: try again in a minute\n"))
		return
	}
	d, err := open(r.Context())
	if err != nil {
		h.downloads.give(link.User)
		writeAnswer(w, http.StatusNotFound, []byte("that "+what+" is no longer on the board\n"))
		return
	}
	first, n, whole, err := files.ParseRange(r.Header.Get("range"), d.size)
	if err != nil {
		_ = d.close()
		h.downloads.give(link.User)
		writeAnswer(w, http.StatusRequestedRangeNotSatisfiable, []byte("that range is past the end of the "+what+"\n"))
		return
	}
	d.link, d.first, d.n, d.partial = link, first, n, !whole
	rw.download = d
}

// openFile opens the file of a download link; sent whole, it counts
// and leaves the caller's queue.
func (h *Host) openFile(link files.Link) func(ctx context.Context) (*download, error) {
	return func(ctx context.Context) (*download, error) {
		f, rec, err := h.deps.Files.Open(ctx, link.FileID)
		if err != nil {
			return nil, err
		}
		counted := func(ctx context.Context) error {
			return errors.Join(h.deps.Files.Store.CountDownload(ctx, rec.ID), h.deps.Files.Store.UnqueueFile(ctx, link.User, rec.ID))
		}
		return &download{src: f, close: f.Close, name: rec.Name, size: rec.Size, what: slog.Int64("file", rec.ID), whole: counted}, nil
	}
}

// openPacket reads the QWK packet of a packet link from the store,
// saved under name; sent whole, it counts as fetched.
func (h *Host) openPacket(link files.Link, name string) func(ctx context.Context) (*download, error) {
	return func(ctx context.Context) (*download, error) {
		data, err := h.deps.Store.QWKPacketData(ctx, link.User, link.Packet)
		if err != nil {
			return nil, err
		}
		fetched := func(ctx context.Context) error {
			_, err := h.deps.Store.QWKFetched(ctx, link.User, link.Packet)
			return err
		}
		return &download{src: bytes.NewReader(data), close: func() error { return nil }, name: name, size: int64(len(data)),
			what: slog.String("qwk_packet", link.Packet[:8]), whole: fetched}, nil
	}
}

// packetName is the name a packet download is saved under: the one the
// link asks for (?name=BBSID.QWK) if it is 1 to 8 letters and digits and
// .QWK, else PACKET.QWK.
func packetName(asked string) string {
	base, ok := strings.CutSuffix(strings.ToUpper(asked), ".QWK")
	if !ok || base == "" || len(base) > 8 {
		return "PACKET.QWK"
	}
	for _, c := range base {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return "PACKET.QWK"
		}
	}
	return base + ".QWK"
}

// serveDownload sends d to req's caller through t: the head, the file in
// DownloadPiece pieces paced at the settings' download rate, then the
// hang-up. A download sent whole counts, and leaves the caller's queue.
func (h *Host) serveDownload(ctx context.Context, req *m2proto.Request, t Transport, d *download) {
	defer h.downloads.give(d.link.User)
	defer d.close()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	h.sending.Store(req.ConnID, cancel)
	defer h.sending.Delete(req.ConnID)
	if h.earlyGone.took(req.ConnID) {
		return // hung up before the first piece
	}
	ids := []string{req.ConnID}
	log := h.log.With("conn_id", d.link.ConnID, "download_conn_id", req.ConnID, d.what)
	if err := h.sendVia(t, req.Sender, ids, downloadHead(d)); err != nil {
		log.Warn("download", "err", err)
		return
	}
	sent, err := pace(ctx, io.NewSectionReader(d.src, d.first, d.n), h.deps.Files.Settings.DownloadRate, func(piece []byte) error {
		return h.sendVia(t, req.Sender, ids, piece)
	})
	_ = h.sendVia(t, req.Sender, ids, nil)
	if err != nil || sent != d.n {
		log.Warn("download cut short", "sent", sent, "from", d.first, "size", d.size, "err", err)
		return
	}
	if d.first+d.n != d.size {
		return // a range short of the end: the caller has not got the file yet
	}
	if err := d.whole(context.WithoutCancel(ctx)); err != nil {
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
	disposition := mime.FormatMediaType("attachment", map[string]string{"filename": d.name})
	status, rng := "200 OK", ""
	if d.partial {
		status = "206 Partial Content"
		rng = fmt.Sprintf("Content-Range: bytes %d-%d/%d\r\n", d.first, d.first+d.n-1, d.size)
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
