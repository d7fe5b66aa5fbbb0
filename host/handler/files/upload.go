package files

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// An HTTP upload comes in pieces, because both front ends bound a
// request's body (Mongrel2's limits.content_length, 20 KiB by default):
//
//	POST /files/u/TOKEN?offset=N            body: the next piece (at most MaxPieceBytes)
//	POST /files/u/TOKEN?offset=N&done=1&name=NAME[&desc=TEXT]   body: the last piece (may be empty)
//
// Each answer is JSON: {"received": N} after a piece, the file
// ({"id", "name", "area", "size", "waiting"}) after the last, or
// {"error": "...", "received": N} with status 400 (malformed), 409 (the
// offset is not N, the bytes received so far: resend from there), 413
// (past the file size limit: the upload is dropped), 429 (faster than
// Settings.UploadRate: wait a second and resend the piece), 503 (more
// than MaxUploads uploads at once, or MaxUploadsPerUser of one user),
// or 422 (the file was refused:
// duplicate, bad name, quota).

// Limits of HTTP uploads.
const (
	// MaxPieceBytes bounds one piece: below both front ends' body limit.
	MaxPieceBytes = 16 << 10
	// MaxUploads bounds the uploads being received at once on a host,
	// MaxUploadsPerUser those of one user among them.
	MaxUploads        = 16
	MaxUploadsPerUser = 2
	// UploadIdle is how long an upload may go without a piece before it
	// is dropped, partial file and all, freeing its slot.
	UploadIdle = time.Minute
	// maxQueryBytes bounds an upload request's query string.
	maxQueryBytes = 3 * MaxDescriptionBytes
)

// Errors of uploads.
var (
	// ErrBadPiece means an upload request is malformed.
	ErrBadPiece = errors.New("files: malformed upload request")
	// ErrOffset means a piece does not continue the bytes received.
	ErrOffset = errors.New("files: piece out of order")
	// ErrSlowDown means an upload goes faster than its rate.
	ErrSlowDown = errors.New("files: upload too fast")
	// ErrBusy means too many uploads are being received.
	ErrBusy = errors.New("files: too many uploads at once")
)

// Piece is one request of an HTTP upload.
type Piece struct {
	Offset int64
	Body   []byte
	// Done marks the last piece, which names the file.
	Done              bool
	Name, Description string
}

// ParsePiece reads an upload request's query and body. Errors wrap
// ErrBadPiece.
func ParsePiece(rawQuery string, body []byte) (Piece, error) {
	if len(rawQuery) > maxQueryBytes {
		return Piece{}, fmt.Errorf("%w: query longer than %d bytes", ErrBadPiece, maxQueryBytes)
	}
	if len(body) > MaxPieceBytes {
		return Piece{}, fmt.Errorf("%w: a piece is at most %d bytes", ErrBadPiece, MaxPieceBytes)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return Piece{}, fmt.Errorf("%w: %v", ErrBadPiece, err)
	}
	for k, v := range q {
		if len(v) != 1 {
			return Piece{}, fmt.Errorf("%w: %q given %d times", ErrBadPiece, k, len(v))
		}
		switch k {
		case "offset", "done", "name", "desc":
		default:
			return Piece{}, fmt.Errorf("%w: unknown field %q", ErrBadPiece, k)
		}
	}
	p := Piece{Body: body, Name: q.Get("name"), Description: q.Get("desc"), Done: q.Get("done") == "1"}
	p.Offset, err = strconv.ParseInt(q.Get("offset"), 10, 64)
	if err != nil || p.Offset < 0 {
		return Piece{}, fmt.Errorf("%w: offset must be a number of bytes", ErrBadPiece)
	}
	if d := q.Get("done"); d != "" && d != "1" {
		return Piece{}, fmt.Errorf("%w: done=1 or nothing", ErrBadPiece)
	}
	if p.Done {
		if _, err := CheckName(p.Name); err != nil {
			return Piece{}, err
		}
	} else if p.Name != "" || p.Description != "" {
		return Piece{}, fmt.Errorf("%w: name and desc come with done=1", ErrBadPiece)
	}
	if len(p.Description) > MaxDescriptionBytes {
		return Piece{}, fmt.Errorf("%w: desc longer than %d bytes", ErrBadPiece, MaxDescriptionBytes)
	}
	return p, nil
}

// Uploads receives HTTP uploads into the library's incoming folder.
type Uploads struct {
	Library *Library
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Taken, if set, is told of each upload taken into an area.
	Taken func(link Link, f store.File)
	// ReplyLimit bounds a QWK reply packet uploaded for a KindReply link
	// (the REP limit of host/qwk); when 0, the settings' MaxFileBytes.
	ReplyLimit int64
	// Replied, if set, is told of each reply packet received whole.
	Replied func(link Link, size int64)

	mu     sync.Mutex
	active map[string]*upload // by link nonce
}

// upload is one upload being received. The bytes received so far are
// its partial file's size, not a count kept here, so that with several
// phone lines any host may take the next piece (the directory handler
// spreads them).
type upload struct {
	link     Link
	received int64 // after the last piece this host took
	started  time.Time
	last     time.Time // when its last piece came
	busy     bool
}

// now is the clock.
func (u *Uploads) now() time.Time {
	if u.Now == nil {
		return time.Now()
	}
	return u.Now()
}

// partPath is where link's upload is received.
func (u *Uploads) partPath(l Link) string {
	return filepath.Join(u.Library.IncomingDir(), l.Nonce+".part")
}

// Answer receives one request of the upload link allows and returns the
// HTTP status and JSON body to answer (see the top of this file).
func (u *Uploads) Answer(ctx context.Context, link Link, rawQuery string, body []byte) (int, []byte) {
	p, err := ParsePiece(rawQuery, body)
	if err != nil {
		return answer(http.StatusBadRequest, map[string]any{"error": err.Error()})
	}
	up, err := u.claim(link)
	if err != nil {
		return answer(http.StatusServiceUnavailable, map[string]any{"error": err.Error()})
	}
	f, err := u.receive(ctx, up, p)
	received := up.received
	u.release(up, err != nil && !errors.Is(err, ErrOffset) && !errors.Is(err, ErrSlowDown) || p.Done && err == nil)
	switch {
	case err == nil && p.Done && link.Kind == KindReply:
		if u.Replied != nil {
			u.Replied(link, received)
		}
		return answer(http.StatusOK, map[string]any{"name": p.Name, "size": received, "received": received})
	case err == nil && p.Done:
		if u.Taken != nil {
			u.Taken(link, f)
		}
		return answer(http.StatusOK, map[string]any{"id": f.ID, "name": f.Name, "area": f.Area, "size": f.Size, "waiting": f.Waiting()})
	case err == nil:
		return answer(http.StatusOK, map[string]any{"received": received})
	}
	return answer(uploadStatus(err), map[string]any{"error": err.Error(), "received": received})
}

// uploadStatus is the HTTP status of a refused piece.
func uploadStatus(err error) int {
	switch {
	case errors.Is(err, ErrOffset):
		return http.StatusConflict
	case errors.Is(err, ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrSlowDown):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrBadName), errors.Is(err, store.ErrFileExists), errors.Is(err, store.ErrDuplicate),
		errors.Is(err, store.ErrQuota), errors.Is(err, ErrNoSuchArea):
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// answer is a JSON answer.
func answer(code int, v any) (int, []byte) {
	b, _ := json.Marshal(v)
	return code, append(b, '\n')
}

// claim returns link's upload, marked busy (one piece at a time), after
// dropping the uploads whose links expired.
func (u *Uploads) claim(link Link) (*upload, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := u.now()
	if u.active == nil {
		u.active = map[string]*upload{}
	}
	u.dropIdle(now)
	up := u.active[link.Nonce]
	if up == nil {
		if len(u.active) >= MaxUploads {
			return nil, ErrBusy
		}
		mine := 0
		for _, other := range u.active {
			if strings.EqualFold(other.link.User, link.User) {
				mine++
			}
		}
		if mine >= MaxUploadsPerUser {
			return nil, fmt.Errorf("%w: you have %d uploads going already", ErrBusy, mine)
		}
		up = &upload{link: link, started: now}
		u.active[link.Nonce] = up
	}
	if up.busy {
		return nil, fmt.Errorf("%w: one piece at a time", ErrBusy)
	}
	up.busy, up.last = true, now
	return up, nil
}

// dropIdle forgets, with their partial files, the uploads (not receiving
// a piece) whose links expired or that got no piece for UploadIdle.
// u.mu is held.
func (u *Uploads) dropIdle(now time.Time) {
	for nonce, up := range u.active {
		if !up.busy && (!now.Before(up.link.Expires) || now.Sub(up.last) >= UploadIdle) {
			delete(u.active, nonce)
			_ = os.Remove(u.partPath(up.link))
		}
	}
}

// release ends a piece's turn; with end, the upload is over (taken or
// dropped) and its partial file goes.
func (u *Uploads) release(up *upload, end bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	up.busy = false
	if end {
		delete(u.active, up.link.Nonce)
		_ = os.Remove(u.partPath(up.link))
	}
}

// receive appends p to up's partial file and, with the last piece,
// ingests it.
func (u *Uploads) receive(ctx context.Context, up *upload, p Piece) (store.File, error) {
	lib := u.Library
	up.received = 0
	if info, err := os.Stat(u.partPath(up.link)); err == nil {
		up.received = info.Size()
	}
	if p.Offset != up.received {
		return store.File{}, fmt.Errorf("%w: %d bytes received so far", ErrOffset, up.received)
	}
	total := up.received + int64(len(p.Body))
	if limit := u.limit(up.link); total > limit {
		return store.File{}, fmt.Errorf("%w: at most %d bytes", ErrTooLarge, limit)
	}
	// One second's worth of burst, then Settings.UploadRate.
	allowed := lib.Settings.UploadRate * (1 + int64(u.now().Sub(up.started)/time.Second))
	if total > allowed {
		return store.File{}, fmt.Errorf("%w: at most %d bytes a second", ErrSlowDown, lib.Settings.UploadRate)
	}
	if err := appendPiece(u.partPath(up.link), p.Body); err != nil {
		return store.File{}, err
	}
	up.received = total
	if !p.Done {
		return store.File{}, nil
	}
	if up.link.Kind == KindReply {
		// Kept whole for the caller's script (qwk.uploaded) to post.
		if err := os.Rename(u.partPath(up.link), lib.ReplyPath(up.link.Nonce)); err != nil {
			return store.File{}, fmt.Errorf("files: keep reply packet: %w", err)
		}
		return store.File{}, nil
	}
	return lib.Ingest(ctx, Upload{Area: up.link.Area, Name: p.Name, Path: u.partPath(up.link), Uploader: up.link.User, Description: p.Description})
}

// limit is the size limit of link's upload.
func (u *Uploads) limit(link Link) int64 {
	if link.Kind == KindReply && u.ReplyLimit > 0 {
		return u.ReplyLimit
	}
	return u.Library.Settings.MaxFileBytes
}

// ReplyKeep is how long a reply packet received over HTTP is kept for
// the caller's script to post (Sweep removes it after).
const ReplyKeep = time.Hour

// replyExt is the extension of reply packets kept in the incoming
// folder.
const replyExt = ".rep"

// ReplyPath is where the reply packet of the KindReply link with nonce
// is kept once received whole, in the incoming folder. A nonce not of a
// link's form gives "".
func (l *Library) ReplyPath(nonce string) string {
	if nonce == "" || !plainField(nonce, 32) || strings.Contains(nonce, ".") {
		return ""
	}
	return filepath.Join(l.IncomingDir(), nonce+replyExt)
}

// appendPiece appends b to the file at p, creating it (and its folder).
func appendPiece(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("files: %w", err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("files: %w", err)
	}
	_, err = f.Write(b)
	if err = errors.Join(err, f.Close()); err != nil {
		return fmt.Errorf("files: receive: %w", err)
	}
	return nil
}

// SweepEvery is how often the host sweeps (Sweep).
const SweepEvery = time.Minute

// Sweep drops the uploads idle for UploadIdle, and removes the partial
// uploads in the incoming folder last written more than UploadIdle ago
// (abandoned, or left by a host that stopped, or by another phone line's
// host), and the reply packets received more than ReplyKeep ago. The host sweeps as it starts and every SweepEvery.
func (u *Uploads) Sweep() {
	now := u.now()
	u.mu.Lock()
	u.dropIdle(now)
	u.mu.Unlock()
	dir := u.Library.IncomingDir()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	cutoff := now.Add(-UploadIdle)
	for _, e := range entries {
		info, err := e.Info()
		stale := filepath.Ext(e.Name()) == ".part" && info != nil && info.ModTime().Before(cutoff) ||
			filepath.Ext(e.Name()) == replyExt && info != nil && info.ModTime().Before(now.Add(-ReplyKeep))
		if err == nil && info.Mode().IsRegular() && stale {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
