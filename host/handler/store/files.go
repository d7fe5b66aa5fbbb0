package store

import (
	"context"
	"errors"
	"time"
)

// FileStore keeps the files of the file areas (host/handler/files): one
// record per file, each user's last scan for new files and their download
// queue, and the board's key for signed file links. The areas themselves
// are the sysop's settings; a record names its area in lower case. The
// files' bytes are on disk, kept by host/handler/files. *SQLite
// implements it, on both engines.
//
// FileStore is not part of Store, so that a storage engine without file
// areas may still serve the board; the host asks for it with a type
// assertion.
type FileStore interface {
	// AddFile records a file, refusing a name taken in its area (in any
	// case: ErrFileExists), content already on the board (ErrDuplicate),
	// and a file past its area's or its uploader's quota (ErrQuota), all
	// in one transaction.
	AddFile(ctx context.Context, f NewFile) (File, error)
	// File returns one file; ErrNotFound if there is none.
	File(ctx context.Context, id int64) (File, error)
	// FileByName returns the file named name (any case) in area;
	// ErrNotFound if there is none.
	FileByName(ctx context.Context, area, name string) (File, error)
	// Files lists a page of the files q selects, oldest first (newest
	// first with q.Newest); FileCount counts them all.
	Files(ctx context.Context, q FileQuery) ([]File, error)
	FileCount(ctx context.Context, q FileQuery) (int, error)
	// ApproveFile lists a file that waited for review; ErrNotFound if no
	// file of that id waits.
	ApproveFile(ctx context.Context, id int64) (File, error)
	// RemoveFile forgets a file and returns what it was; ErrNotFound if
	// there is none. The caller removes its bytes.
	RemoveFile(ctx context.Context, id int64) (File, error)
	// CountDownload adds one to a file's download count.
	CountDownload(ctx context.Context, id int64) error
	// LastFileScan is when user last scanned for new files (the zero
	// time if never); MarkFileScan moves it to at (never back).
	LastFileScan(ctx context.Context, user string) (time.Time, error)
	MarkFileScan(ctx context.Context, user string, at time.Time) error
	// QueueFile adds an approved file to user's download queue (again:
	// no change); ErrQueueFull past MaxQueuedFiles, ErrNotFound for no
	// such approved file. Queued lists the queue in the order it was
	// filled; UnqueueFile takes a file out (no error if it was not in).
	QueueFile(ctx context.Context, user string, id int64) error
	Queued(ctx context.Context, user string) ([]File, error)
	UnqueueFile(ctx context.Context, user string, id int64) error
	// FileLinkKey returns the board's 32-byte key for signed file links,
	// made at random on first use. Never log it.
	FileLinkKey(ctx context.Context) ([]byte, error)
}

// File is a file in a file area.
type File struct {
	ID          int64
	Area        string // the area's name, lower case
	Name        string // its name on disk in the area's folder
	Description string
	Uploader    string
	Size        int64
	SHA256      string    // hex
	Uploaded    time.Time // UTC, millisecond precision
	Approved    time.Time // zero while it waits for review
	Downloads   int
}

// Waiting reports whether f waits for the sysop's review.
func (f File) Waiting() bool { return f.Approved.IsZero() }

// NewFile is a file to record with FileStore.AddFile.
type NewFile struct {
	Area, Name, Description, Uploader string
	Size                              int64
	SHA256                            string
	// Approved lists the file at once; otherwise it waits for review.
	Approved bool
	// AreaQuota and UserQuota bound the bytes of the area's files and of
	// the uploader's files on the whole board, this one included (0: no
	// bound). Files waiting for review count.
	AreaQuota, UserQuota int64
}

// FileQuery selects files for FileStore.Files and FileCount.
type FileQuery struct {
	// Area is the area ("" for every area).
	Area string
	// Waiting selects the files that wait for review instead of the
	// listed ones.
	Waiting bool
	// Search, if set, keeps files whose name or description contains it
	// (any case).
	Search string
	// Since, if set, keeps files approved after it.
	Since time.Time
	// Offset and Limit page the list as in Boards.Posts (Files only).
	Offset, Limit int
	// Newest lists newest first.
	Newest bool
}

// Limits of the file store.
const (
	// MaxQueuedFiles is the most files one user's download queue holds.
	MaxQueuedFiles = 50
	// MaxFileSearch is the longest search text, in bytes.
	MaxFileSearch = 64
)

// Sentinel errors of the file store, returned wrapped; test for them with
// errors.Is. ErrNotFound is shared with Store.
var (
	// ErrFileExists means a file of that name is already in the area.
	ErrFileExists = errors.New("store: a file of that name is already in the area")
	// ErrDuplicate means the same content is already on the board.
	ErrDuplicate = errors.New("store: that file is already on the board")
	// ErrQuota means the file would take its area or its uploader past
	// their disk quota.
	ErrQuota = errors.New("store: disk quota exceeded")
	// ErrQueueFull means a download queue holds MaxQueuedFiles already.
	ErrQueueFull = errors.New("store: download queue full")
)

// wrapFiles is wrap keeping the file store's sentinels.
func wrapFiles(op string, err error) error {
	for _, sentinel := range []error{ErrFileExists, ErrDuplicate, ErrQuota, ErrQueueFull} {
		if errors.Is(err, sentinel) {
			return err
		}
	}
	return wrap(op, err)
}
