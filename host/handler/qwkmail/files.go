package qwkmail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// PacketFile writes packet token of user as dir/TOKEN/BBSID.QWK (the
// name offline readers expect) and returns its path: what a transfer
// sends. The folder is the caller's alone (mode 0700); a file already
// there is written again. Remove it with RemovePacketFile.
func (s *Service) PacketFile(ctx context.Context, dir string, b Board, user, token string) (string, error) {
	b = b.withDefaults()
	if !ValidToken(token) {
		return "", fmt.Errorf("qwk: %q is not a packet token", token)
	}
	data, err := s.Store.QWKPacketData(ctx, user, token)
	if err != nil {
		return "", err
	}
	if err := privateDir(dir); err != nil {
		return "", err
	}
	removeStale(dir, s.now().Add(-StaleFileAge))
	folder := filepath.Join(dir, token)
	if err := os.Mkdir(folder, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("qwk packet file: %w", err)
	}
	// An existing folder must be one of ours too (never a link).
	if err := ownFolder(folder, true); err != nil {
		return "", err
	}
	path := filepath.Join(folder, strings.ToUpper(b.BBSID)+".QWK")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return "", fmt.Errorf("qwk packet file: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return "", fmt.Errorf("qwk packet file: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("qwk packet file: %w", err)
	}
	return path, nil
}

// privateDir makes dir (mode 0700) if it is missing and refuses one
// that is not the host's own (ownFolder): the folder may be under a
// shared /tmp, where another account could plant one to swap packets or
// redirect the host's writes.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("qwk packet folder: %w", err)
	}
	return ownFolder(dir, false)
}

// ownFolder checks that dir is a folder (not a link) owned by the
// host's user that no one else may write to; private also refuses one
// others may enter.
func ownFolder(dir string, private bool) error {
	info, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("qwk packet folder: %w", err)
	}
	mask := fs.FileMode(0o022)
	if private {
		mask = 0o077
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !info.IsDir() || info.Mode().Perm()&mask != 0 || !ok || int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("qwk packet folder %s: not a folder of the host's own that only it writes to (%v)", dir, info.Mode())
	}
	return nil
}

// StaleFileAge is how long a packet's file may be left behind (a
// session that ended in the middle of a transfer) before the next
// PacketFile removes it.
const StaleFileAge = 2 * time.Hour

// removeStale removes the packet folders under dir last changed before
// cutoff: left behind by transfers that never finished.
func removeStale(dir string, cutoff time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		info, err := e.Info()
		if err == nil && e.IsDir() && ValidToken(e.Name()) && info.ModTime().Before(cutoff) {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// RemovePacketFile removes what PacketFile wrote for token under dir.
func RemovePacketFile(dir, token string) error {
	if !ValidToken(token) {
		return nil
	}
	return os.RemoveAll(filepath.Join(dir, token))
}

// ReadREP reads a REP file a transfer received, refusing one larger than
// the REP limit (MaxPacketBytes of the Limits) without reading it all:
// refused then says why, for the report.
func (s *Service) ReadREP(path string) (data []byte, refused string, err error) {
	limit := s.limits().MaxPacketBytes
	f, err := os.Open(path)
	if err != nil {
		return nil, "", fmt.Errorf("qwk reply packet: %w", err)
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return nil, "", fmt.Errorf("qwk reply packet: %w", err)
	}
	if len(data) > limit {
		return nil, fmt.Sprintf("larger than %d bytes", limit), nil
	}
	return data, "", nil
}

// PacketName is the name of b's packets, BBSID.QWK, that offline
// readers expect.
func PacketName(b Board) string {
	return strings.ToUpper(b.withDefaults().BBSID) + ".QWK"
}
