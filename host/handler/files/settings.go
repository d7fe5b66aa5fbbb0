package files

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/config"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// Settings are the file areas of the settings file's files table:
//
//	files = {
//	    dir = 'data/files',         -- ROOT (default: 'files' beside the database)
//	    url = 'http://bbs.example.org:6767', -- where callers' links point (default: the path alone)
//	    review = true,              -- uploads wait for the sysop
//	    max_file = 64 * 1024 * 1024, -- bytes per file
//	    user_quota = 256 * 1024 * 1024, -- bytes a user's uploads may take
//	    link_lifetime = 900,        -- seconds a download or upload link lives
//	    upload_rate = 2 * 1024 * 1024, -- bytes per second one HTTP upload may send
//	    download_rate = 2 * 1024 * 1024, -- bytes per second one HTTP download is sent
//	    areas = {
//	        {name = 'games', description = 'Games', folder = 'games',
//	         list = '', download = 'level >= 10', upload = 'level >= 20', quota = 1e9},
//	    },
//	}
type Settings struct {
	// Root is the folder of the areas' folders, the review folder and
	// the incoming folder.
	Root string
	// URL is the board's web address, put before the links' paths for
	// callers ("": the path alone, which the browser page opens itself).
	URL string
	// Review makes uploads wait in the review folder until the sysop
	// approves them.
	Review bool
	// MaxFileBytes bounds one file; UserQuota the bytes of one user's
	// files (0: no bound).
	MaxFileBytes int64
	UserQuota    int64
	// LinkLifetime is how long a signed link works.
	LinkLifetime time.Duration
	// UploadRate and DownloadRate bound the bytes per second of one HTTP
	// upload or download.
	UploadRate, DownloadRate int64
	// Areas are the file areas, in the order the sysop listed them.
	Areas []Area
}

// Area is one file area.
type Area struct {
	// Name is its name (lower case), Description what menus show.
	Name, Description string
	// Folder is its folder (under Root unless absolute).
	Folder string
	// List, Download and Upload are access rules (host/handler/accessrule,
	// "" for everyone logged in) for seeing its files, fetching them and
	// uploading to it.
	List, Download, Upload string
	// Quota bounds the bytes of its files (0: no bound).
	Quota int64
}

// Defaults and limits of the settings.
const (
	DefaultMaxFileBytes  = 64 << 20
	DefaultLinkLifetime  = 15 * time.Minute
	DefaultTransferRate  = 2 << 20
	MaxAreas             = 200
	MaxLinkLifetime      = 24 * time.Hour
	minTransferRate      = 16 << 10
	maxAreaDescription   = store.MaxDescriptionLen
	reviewFolder         = "review"
	incomingFolder       = "incoming"
	settingsExampleAreas = "areas = {{name = 'games', folder = 'games'}}"
)

// ErrNotConfigured means the settings file has no files table.
var ErrNotConfigured = errors.New("files: not configured (the settings file has no files table; see docs/files.md)")

// ParseSettings reads the files table of the settings file; dbPath
// places the default root. A nil table is ErrNotConfigured.
func ParseSettings(t map[string]any, dbPath string) (Settings, error) {
	if t == nil {
		return Settings{}, ErrNotConfigured
	}
	r := reader{config.Fields{T: t}}
	s := Settings{
		Root:         r.Str("dir"),
		URL:          strings.TrimRight(r.Str("url"), "/"),
		Review:       r.Bool("review"),
		MaxFileBytes: r.bytes("max_file", DefaultMaxFileBytes),
		UserQuota:    r.bytes("user_quota", 0),
		LinkLifetime: time.Duration(r.bytes("link_lifetime", int64(DefaultLinkLifetime/time.Second))) * time.Second,
		UploadRate:   r.bytes("upload_rate", DefaultTransferRate),
		DownloadRate: r.bytes("download_rate", DefaultTransferRate),
	}
	if s.Root == "" {
		s.Root = filepath.Join(filepath.Dir(dbPath), "files")
	}
	s.Areas = r.areas()
	s.checkFolders(&r)
	if s.LinkLifetime <= 0 || s.LinkLifetime > MaxLinkLifetime {
		r.Fail("link_lifetime must be 1 to %d seconds", int(MaxLinkLifetime/time.Second))
	}
	if s.UploadRate < minTransferRate || s.DownloadRate < minTransferRate {
		r.Fail("upload_rate and download_rate must be at least %d bytes per second", minTransferRate)
	}
	if s.MaxFileBytes <= 0 {
		r.Fail("max_file must be a number of bytes above 0")
	}
	r.Unknown()
	if err := errors.Join(r.Errs...); err != nil {
		return Settings{}, fmt.Errorf("files settings: %w", err)
	}
	return s, nil
}

// Area returns the area of that name (any case).
func (s *Settings) Area(name string) (Area, bool) {
	name = strings.ToLower(name)
	for _, a := range s.Areas {
		if a.Name == name {
			return a, true
		}
	}
	return Area{}, false
}

// Dir is area a's folder.
func (s *Settings) Dir(a Area) string {
	if filepath.IsAbs(a.Folder) {
		return a.Folder
	}
	return filepath.Join(s.Root, a.Folder)
}

// checkFolders refuses an area whose folder is dir itself, the board's
// review or incoming folder or one inside them, or the folder of another
// area or one inside it (or around it), however the names are spelled.
func (s *Settings) checkFolders(r *reader) {
	root := filepath.Clean(s.Root)
	reserved := []string{root, filepath.Join(root, reviewFolder), filepath.Join(root, incomingFolder)}
	dirs := make([]string, len(s.Areas))
	for i, a := range s.Areas {
		dirs[i] = filepath.Clean(s.Dir(a))
		for j, other := range reserved {
			if dirs[i] == other || (j > 0 && within(dirs[i], other)) || within(other, dirs[i]) {
				r.Fail("area %q: folder %q is the board's own (dir, review, incoming) or holds it", a.Name, a.Folder)
			}
		}
		for j := range i {
			if dirs[i] == dirs[j] || within(dirs[i], dirs[j]) || within(dirs[j], dirs[i]) {
				r.Fail("areas %q and %q: one's folder is, or holds, the other's", s.Areas[j].Name, a.Name)
			}
		}
	}
}

// within reports whether path is strictly inside folder (both clean).
func within(path, folder string) bool {
	rel, err := filepath.Rel(folder, path)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// reader reads a settings table, collecting errors (config.Fields).
type reader struct{ config.Fields }

// bytes reads a whole number of at least 0, def when absent.
func (r *reader) bytes(key string, def int64) int64 {
	v, ok := r.Get(key)
	if !ok {
		return def
	}
	n, ok := v.(float64)
	if !ok || n < 0 || n > 1<<50 || n != float64(int64(n)) {
		r.Fail("%s must be a whole number of at least 0", key)
		return def
	}
	return int64(n)
}

// areas reads the areas list.
func (r *reader) areas() []Area {
	v, ok := r.Get("areas")
	if !ok {
		r.Fail("areas: no file area is defined (%s)", settingsExampleAreas)
		return nil
	}
	list, ok := v.([]any)
	if !ok || len(list) == 0 || len(list) > MaxAreas {
		r.Fail("areas must be a list of 1 to %d tables (%s)", MaxAreas, settingsExampleAreas)
		return nil
	}
	var areas []Area
	seen := map[string]bool{}
	for i, item := range list {
		t, ok := item.(map[string]any)
		if !ok {
			r.Fail("areas[%d] must be a table", i+1)
			continue
		}
		ar := reader{config.Fields{T: t}}
		a := Area{
			Name: strings.ToLower(ar.Str("name")), Description: ar.Str("description"), Folder: ar.Str("folder"),
			List: ar.Str("list"), Download: ar.Str("download"), Upload: ar.Str("upload"), Quota: ar.bytes("quota", 0),
		}
		ar.Unknown()
		if a.Folder == "" {
			a.Folder = a.Name
		}
		switch {
		case !validAreaName(a.Name):
			ar.Fail("name %q: 1 to %d letters, digits, '_', '-' or '.'", a.Name, store.MaxAreaNameLen)
		case seen[a.Name]:
			ar.Fail("name %q: defined twice", a.Name)
		case len(a.Description) > maxAreaDescription:
			ar.Fail("description: at most %d bytes", maxAreaDescription)
		case !filepath.IsAbs(a.Folder) && !filepath.IsLocal(a.Folder):
			ar.Fail("folder %q: a folder below dir, or an absolute path", a.Folder)
		}
		seen[a.Name] = true
		for _, err := range ar.Errs {
			r.Fail("areas[%d]: %v", i+1, err)
		}
		areas = append(areas, a)
	}
	return areas
}

// validAreaName reports whether name may name a file area (also a folder
// name under review/).
func validAreaName(name string) bool {
	if name == "" || len(name) > store.MaxAreaNameLen || name[0] == '.' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
