package dispatch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"
)

// watchedDirs are the folders whose files make up a generation.
func (h *Host) watchedDirs() []string {
	return []string{h.cfg.Session.ScriptsDir, filepath.Dir(h.cfg.Session.MainScript), h.cfg.ScreensDir}
}

// fingerprint sums the names, sizes and modification times of the files
// under dirs: it changes when any file is saved, added or removed.
func fingerprint(dirs []string) (string, error) {
	sum := sha256.New()
	seen := map[string]bool{}
	for _, dir := range dirs {
		if dir == "" || seen[dir] {
			continue
		}
		seen[dir] = true
		err := filepath.WalkDir(dir, func(path string, entry fs.DirEntry, err error) error {
			if err != nil && path == dir && errors.Is(err, fs.ErrNotExist) {
				// A folder that is not there (no screens/): creating it
				// later is a change.
				fmt.Fprintf(sum, "%s\x00absent\n", path)
				return nil
			}
			if err != nil {
				return err
			}
			if entry.IsDir() {
				return nil
			}
			info, err := entry.Info()
			if err != nil {
				return err
			}
			fmt.Fprintf(sum, "%s\x00%d\x00%d\n", path, info.Size(), info.ModTime().UnixNano())
			return nil
		})
		if err != nil {
			return "", fmt.Errorf("watch %s: %w", dir, err)
		}
	}
	return hex.EncodeToString(sum.Sum(nil)), nil
}

// watchScripts reloads the scripts and screens when their files change.
// A change is acted on once the files have stayed the same for one
// interval, so that an editor's save in several steps loads once.
func (h *Host) watchScripts(ctx context.Context) {
	if h.cfg.ReloadInterval < 0 {
		return
	}
	ticker := time.NewTicker(h.cfg.ReloadInterval)
	defer ticker.Stop()
	var pending string
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		fp, err := fingerprint(h.watchedDirs())
		if err != nil {
			h.log.Warn("cannot watch the scripts", "err", err)
			continue
		}
		h.mu.Lock()
		unchanged := fp == h.fingerprt
		h.mu.Unlock()
		if unchanged || fp != pending {
			pending = fp
			continue
		}
		h.reload(ctx, fp)
		pending = ""
	}
}

// reload loads a new generation from the files as they are; on failure
// the current one keeps serving and the error is logged and shown on the
// status page.
func (h *Host) reload(ctx context.Context, fp string) {
	gen, err := h.load()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.deps.OnReload != nil {
		version := 0
		if gen != nil {
			version = gen.version
		}
		defer h.deps.OnReload(version, err)
	}
	h.fingerprt = fp
	if err != nil {
		h.loadErr = err.Error()
		h.log.Error("scripts not reloaded: the previous version keeps serving", "err", err, "version", h.current.version)
		return
	}
	h.loadErr = ""
	h.reloads.Add(1)
	h.install(ctx, gen)
	h.log.Info("scripts reloaded: new callers get the new version", "version", gen.version, "screens", gen.screens.Len())
}
