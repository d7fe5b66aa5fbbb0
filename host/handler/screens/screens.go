// Package screens loads the BBS's screens: text files named NAME.txt in a
// folder, shown to callers by ui.screen, ui.prompt and ui.exit, and ANSI
// art named NAME.ans (CP437 with an optional SAUCE record, art.go), shown
// instead of NAME.txt to callers whose terminal shows ANSI.
package screens

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// MaxScreenBytes bounds one screen file.
const MaxScreenBytes = 64 << 10

// ErrNotFound is returned for a screen with no file.
var ErrNotFound = errors.New("no such screen")

// ErrBadName is returned for a name that is not a plain screen name.
var ErrBadName = errors.New("bad screen name")

// Dir serves screens from a folder, caching each after its first use. It is
// safe for concurrent use.
type Dir struct {
	dir   string
	mu    sync.RWMutex
	cache map[string]string
	art   map[string]Art
}

// NewDir returns the screens stored in dir.
func NewDir(dir string) *Dir {
	return &Dir{dir: dir, cache: make(map[string]string), art: make(map[string]Art)}
}

// Screen returns the text of dir/NAME.txt with one trailing newline
// removed or, if there is none, the plain text of dir/NAME.ans (Art.Plain).
// Names are letters, digits, '_', '-' and '/' for subfolders.
func (d *Dir) Screen(name string) (string, error) {
	text, err := d.text(name)
	if !errors.Is(err, ErrNotFound) {
		return text, err
	}
	art, artErr := d.Art(name)
	if errors.Is(artErr, ErrNotFound) {
		return "", err
	}
	return art.Plain, artErr
}

// Art returns dir/NAME.ans decoded (ParseArt), or ErrNotFound.
func (d *Dir) Art(name string) (Art, error) {
	d.mu.RLock()
	art, ok := d.art[name]
	d.mu.RUnlock()
	if ok {
		return art, nil
	}
	if !validName(name) {
		return Art{}, fmt.Errorf("%w: %q", ErrBadName, name)
	}
	path := filepath.Join(d.dir, filepath.FromSlash(name)+".ans")
	data, err := readLimited(path, MaxArtBytes)
	if errors.Is(err, os.ErrNotExist) {
		return Art{}, fmt.Errorf("%w: %s", ErrNotFound, path)
	}
	if err != nil {
		return Art{}, fmt.Errorf("read art: %w", err)
	}
	art, err = ParseArt(data)
	if err != nil {
		return Art{}, fmt.Errorf("%s: %w", path, err)
	}
	d.mu.Lock()
	d.art[name] = art
	d.mu.Unlock()
	return art, nil
}

// text returns the text of dir/NAME.txt.
func (d *Dir) text(name string) (string, error) {
	d.mu.RLock()
	text, ok := d.cache[name]
	d.mu.RUnlock()
	if ok {
		return text, nil
	}
	if !validName(name) {
		return "", fmt.Errorf("%w: %q", ErrBadName, name)
	}
	path := filepath.Join(d.dir, filepath.FromSlash(name)+".txt")
	data, err := readLimited(path, MaxScreenBytes)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%w: %s", ErrNotFound, path)
	}
	if err != nil {
		return "", fmt.Errorf("read screen: %w", err)
	}
	text = strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	d.mu.Lock()
	d.cache[name] = text
	d.mu.Unlock()
	return text, nil
}

func readLimited(path string, limit int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(data) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}

func validName(name string) bool {
	if name == "" || len(name) > 128 || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") || strings.Contains(name, "//") {
		return false
	}
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '/':
		default:
			return false
		}
	}
	return true
}

// MaxScreens bounds how many screens a Snapshot holds.
const MaxScreens = 4096

// Snapshot is every screen of a folder read at one moment: sessions that
// started with it keep seeing those texts while the files are edited.
type Snapshot struct {
	texts map[string]string
	art   map[string]string
}

// Load reads every NAME.txt and NAME.ans under dir (subfolders give names
// like doors/chess). A dir that does not exist holds no screens: scripts may
// keep their texts themselves, as the 2010 board's ui.lua does.
func Load(dir string) (*Snapshot, error) {
	d := NewDir(dir)
	snap := &Snapshot{texts: make(map[string]string), art: make(map[string]string)}
	err := filepath.WalkDir(dir, func(path string, entry fs.DirEntry, err error) error {
		if err != nil && path == dir && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		ext := filepath.Ext(path)
		if entry.IsDir() || ext != ".txt" && ext != ".ans" {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(strings.TrimSuffix(rel, ext))
		if !validName(name) {
			return nil // not reachable by ui.screen anyway
		}
		if len(snap.texts)+len(snap.art) >= MaxScreens {
			return fmt.Errorf("more than %d screens in %s", MaxScreens, dir)
		}
		if ext == ".ans" {
			art, err := d.Art(name)
			if err != nil {
				return err
			}
			snap.art[name] = art.ANSI
		}
		text, err := d.Screen(name)
		if err != nil {
			return err
		}
		snap.texts[name] = text
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load screens: %w", err)
	}
	return snap, nil
}

// Screen returns the named screen's text as it was when loaded.
func (s *Snapshot) Screen(name string) (string, error) {
	if text, ok := s.texts[name]; ok {
		return text, nil
	}
	if !validName(name) {
		return "", fmt.Errorf("%w: %q", ErrBadName, name)
	}
	return "", fmt.Errorf("%w: %s", ErrNotFound, name)
}

// Art returns the named screen's ANSI art (Art.ANSI of NAME.ans) as it
// was when loaded; ok is false if the screen has no .ans file.
func (s *Snapshot) Art(name string) (art string, ok bool) {
	art, ok = s.art[name]
	return art, ok
}

// Len is the number of screens in the snapshot.
func (s *Snapshot) Len() int { return len(s.texts) }
