package files

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// Library is the board's file areas: the settings and the store's
// records, with the files on disk.
type Library struct {
	Settings Settings
	Store    store.FileStore
	// ReceivedRoots are folders, besides the system's temporary folder,
	// that hold what file transfers received (the line's transfers
	// folder): scripts may ingest from them (Ingestible).
	ReceivedRoots []string

	keys keyCache // the link key (Signer)
}

// Sentinel errors of the library, returned wrapped.
var (
	// ErrNoSuchArea means the area named is not one of the settings.
	ErrNoSuchArea = errors.New("files: no such file area")
	// ErrTooLarge means a file is larger than Settings.MaxFileBytes.
	ErrTooLarge = errors.New("files: file too large")
	// ErrNotFile means the path to ingest is not a regular file.
	ErrNotFile = errors.New("files: not a regular file")
)

// Upload is a file to ingest into an area.
type Upload struct {
	// Area names the area; Name is the file's name there (CheckName).
	Area, Name string
	// Path is the file as received; Ingest moves it (or copies and
	// removes it) into place, and removes it when the upload is refused.
	Path string
	// Uploader is the user who sent it.
	Uploader string
	// Description is the uploader's; the file's own (DIZ, SAUCE) wins.
	Description string
	// Approved lists it at once even when the settings want uploads
	// reviewed (the sysop's own).
	Approved bool
}

// Ingest checks u, records it and moves it into its area's folder (or
// the review folder while it waits for the sysop). Refusals wrap
// ErrNoSuchArea, ErrBadName, ErrTooLarge, ErrNotFile, store.ErrFileExists,
// store.ErrDuplicate or store.ErrQuota; the file at u.Path is removed
// whether it was taken or refused.
func (l *Library) Ingest(ctx context.Context, u Upload) (store.File, error) {
	defer os.Remove(u.Path)
	area, ok := l.Settings.Area(u.Area)
	if !ok {
		return store.File{}, fmt.Errorf("%w: %q", ErrNoSuchArea, u.Area)
	}
	name, err := CheckName(u.Name)
	if err != nil {
		return store.File{}, err
	}
	src, info, err := openRegular(u.Path)
	if err != nil {
		return store.File{}, err
	}
	defer src.Close()
	if info.Size() > l.Settings.MaxFileBytes {
		return store.File{}, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, info.Size(), l.Settings.MaxFileBytes)
	}
	sum, err := hashFile(src)
	if err != nil {
		return store.File{}, err
	}
	desc := describe(src, name, info.Size())
	if desc == "" {
		desc = CleanDescription(u.Description)
	}
	approved := u.Approved || !l.Settings.Review
	rec, err := l.Store.AddFile(ctx, store.NewFile{
		Area: area.Name, Name: name, Description: desc, Uploader: u.Uploader, Size: info.Size(), SHA256: sum,
		Approved: approved, AreaQuota: area.Quota, UserQuota: l.Settings.UserQuota,
	})
	if err != nil {
		return store.File{}, err
	}
	if err := place(src, u.Path, l.Path(rec)); err != nil {
		_, _ = l.Store.RemoveFile(ctx, rec.ID)
		return store.File{}, err
	}
	return rec, nil
}

// openRegular opens p if it is a regular file (not a link, a folder or a
// device).
func openRegular(p string) (*os.File, fs.FileInfo, error) {
	info, err := os.Lstat(p)
	if err != nil {
		return nil, nil, fmt.Errorf("files: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%w: %s", ErrNotFile, filepath.Base(p))
	}
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("files: %w", err)
	}
	return f, info, nil
}

// hashFile is the SHA-256 of f's content, in hex.
func hashFile(f *os.File) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, 1<<62)); err != nil {
		return "", fmt.Errorf("files: hash: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// place puts the file at from (open as src) at to, never replacing a
// file there: a hard link when both are on one file system, else a copy.
func place(src *os.File, from, to string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o750); err != nil {
		return fmt.Errorf("files: %w", err)
	}
	err := os.Link(from, to)
	if err == nil {
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		// Bytes with no record (a crash between a record's removal and
		// its bytes', or before an upload's record went) give way to a
		// file of the same content; any other stays and refuses it.
		if sameContent(src, to) {
			return nil
		}
		return fmt.Errorf("files: %s is already on disk: %w", filepath.Base(to), store.ErrFileExists)
	}
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("files: %w", err)
	}
	_, err = io.Copy(dst, io.NewSectionReader(src, 0, 1<<62))
	if err = errors.Join(err, dst.Sync(), dst.Close()); err != nil {
		os.Remove(to)
		return fmt.Errorf("files: copy: %w", err)
	}
	return nil
}

// sameFile reports whether a and b are one file (two links to it).
func sameFile(a, b string) bool {
	ai, err1 := os.Lstat(a)
	bi, err2 := os.Lstat(b)
	return err1 == nil && err2 == nil && os.SameFile(ai, bi)
}

// sameContent reports whether the regular file at p holds what src
// holds (same SHA-256).
func sameContent(src *os.File, p string) bool {
	other, _, err := openRegular(p)
	if err != nil {
		return false
	}
	defer other.Close()
	a, err1 := hashFile(src)
	b, err2 := hashFile(other)
	return err1 == nil && err2 == nil && a == b
}

// Path is where f's bytes are: its area's folder once approved, the
// review folder while it waits.
func (l *Library) Path(f store.File) string {
	if f.Waiting() {
		return filepath.Join(l.Settings.Root, reviewFolder, f.Area, f.Name)
	}
	area, ok := l.Settings.Area(f.Area)
	if !ok {
		// An area the sysop removed: its files stay where they were.
		area = Area{Name: f.Area, Folder: f.Area}
	}
	return filepath.Join(l.Settings.Dir(area), f.Name)
}

// Approve lists a file that waited for review: its bytes are linked
// into its area's folder first (refused if a file of that name is there
// already), then its record is approved, then the review copy goes.
func (l *Library) Approve(ctx context.Context, id int64) (store.File, error) {
	f, err := l.Store.File(ctx, id)
	if err != nil {
		return store.File{}, err
	}
	if !f.Waiting() {
		return store.File{}, fmt.Errorf("files: %s is not waiting: %w", f.Name, store.ErrNotFound)
	}
	from := l.Path(f)
	listed := f
	listed.Approved = time.Now()
	to := l.Path(listed)
	if err := os.MkdirAll(filepath.Dir(to), 0o750); err != nil {
		return store.File{}, fmt.Errorf("files: %w", err)
	}
	if err := os.Link(from, to); err != nil && !(errors.Is(err, fs.ErrExist) && sameFile(from, to)) {
		// The same file there already is an approval a crash cut short.
		return store.File{}, fmt.Errorf("files: approve %s: %w", f.Name, err)
	}
	approved, err := l.Store.ApproveFile(ctx, id)
	if err != nil {
		_ = os.Remove(to)
		return store.File{}, err
	}
	_ = os.Remove(from)
	return approved, nil
}

// Remove forgets a file (the sysop's refusal of an upload, or a removal)
// and deletes its bytes.
func (l *Library) Remove(ctx context.Context, id int64) (store.File, error) {
	f, err := l.Store.RemoveFile(ctx, id)
	if err != nil {
		return store.File{}, err
	}
	if err := os.Remove(l.Path(f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return f, fmt.Errorf("files: remove %s: %w", f.Name, err)
	}
	return f, nil
}

// Open opens an approved file's bytes for a download.
func (l *Library) Open(ctx context.Context, id int64) (*os.File, store.File, error) {
	f, err := l.Store.File(ctx, id)
	if err != nil {
		return nil, store.File{}, err
	}
	if f.Waiting() {
		return nil, store.File{}, fmt.Errorf("files: %s waits for review: %w", f.Name, store.ErrNotFound)
	}
	fh, err := os.OpenFile(l.Path(f), os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, store.File{}, fmt.Errorf("files: open %s: %w", f.Name, err)
	}
	return fh, f, nil
}

// IncomingDir is the folder HTTP uploads are received in.
func (l *Library) IncomingDir() string { return filepath.Join(l.Settings.Root, incomingFolder) }

// Ingestible reports whether p may be ingested from a script: a path in
// the system's temporary folder (where transfers leave what they
// received), with no symbolic link on the way below it, so that a script
// cannot take (and remove) a file from anywhere else on the machine, nor
// an HTTP upload being received in the incoming folder.
func (l *Library) Ingestible(p string) bool {
	abs, err := filepath.Abs(p)
	if err != nil {
		return false
	}
	for _, root := range append([]string{os.TempDir()}, l.ReceivedRoots...) {
		r, err := filepath.Abs(root)
		if err != nil || !strings.HasPrefix(abs, r+string(filepath.Separator)) {
			continue
		}
		rel, err := filepath.Rel(r, abs)
		if err != nil {
			continue
		}
		rootReal, err1 := filepath.EvalSymlinks(r)
		real, err2 := filepath.EvalSymlinks(abs)
		if err1 == nil && err2 == nil && real == filepath.Join(rootReal, rel) {
			return true
		}
	}
	return false
}
