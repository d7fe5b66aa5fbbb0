package qwkmail

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
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
	if err := os.MkdirAll(folder, 0o700); err != nil {
		return "", fmt.Errorf("qwk packet file: %w", err)
	}
	path := filepath.Join(folder, strings.ToUpper(b.BBSID)+".QWK")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return "", fmt.Errorf("qwk packet file: %w", err)
	}
	return path, nil
}

// privateDir makes dir (mode 0700) if it is missing and refuses one that
// is a symbolic link or that others may write to: the folder may be
// under a shared /tmp, where someone could plant one. (Each packet's own
// folder is 0700 and its file 0600.)
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("qwk packet folder: %w", err)
	}
	info, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("qwk packet folder: %w", err)
	}
	if !info.IsDir() || info.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("qwk packet folder %s: not a folder only its owner writes to (%v)", dir, info.Mode())
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
