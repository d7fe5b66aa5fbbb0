package web

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/m2bbs/m2bbs/host/shared/access"
)

// static holds the page. The directory pattern always matches (index.html
// and the rest are committed), so the package builds before `make web`
// has copied xterm.js into static/vendor/.
//
//go:embed static
var static embed.FS

// Files returns the page's files: index.html, bbs.js, bbs.css and, when
// `make web` has run before the build, vendor/ with xterm.js, xterm.css
// and addon-fit.js. Write them into a Mongrel2 Dir folder to serve the page
// from Mongrel2.
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic("web: embedded files: " + err.Error()) // "static" is a valid path
	}
	return sub
}

// Routes of the BBS the WebSockets lead to.
const (
	// BaseRoute is the route of /ws, the single host.
	BaseRoute = "@bbs"
	// MaxLine is the largest line number /ws/N accepts.
	MaxLine = 9999
)

// Default limits of Config.
const (
	DefaultWriteTimeout = 10 * time.Second
	DefaultDialTimeout  = 10 * time.Second
)

// Config configures NewHandler.
type Config struct {
	// Dial opens a connection to the BBS for one WebSocket caller on route
	// ("@bbs" or "@bbs.N"); remote is the caller's address (a *net.TCPAddr
	// when it parses). The handler speaks the classic JSON-socket protocol
	// on it and closes it when the call ends. Required.
	Dial func(ctx context.Context, route string, remote net.Addr) (net.Conn, error)
	// RawFrames says the BBS sends bare JSON frames instead of base64
	// (the host's raw-frames setting).
	RawFrames bool
	// Fallback serves every path that is neither a file of the page nor a
	// WebSocket endpoint (/lines, /status); nil answers 404. BoardProxy
	// makes one that passes them to the board.
	Fallback http.Handler
	// Origins says which pages may open WebSockets: by default (the zero
	// value) only a page served by the same host:port, reached under a
	// loopback name or an IP address (a name could be an attacker's,
	// rebound to the board's address); with Origins.AnyName under any
	// name; and those matching Origins.Patterns ("bbs.example.org",
	// "*.example.org"). Another site cannot call the board from its
	// visitors' browsers. The rule is access.Origins.Check, the one the
	// host applies behind Mongrel2.
	Origins access.Origins
	// WriteTimeout bounds each write to the page or to the BBS
	// (DefaultWriteTimeout).
	WriteTimeout time.Duration
	// DialTimeout bounds Dial (DefaultDialTimeout).
	DialTimeout time.Duration
	// Log receives the handler's logs; nil discards them.
	Log *slog.Logger
}

// Handler serves the page, its WebSocket endpoints and, through
// Config.Fallback, everything else. Make one with NewHandler.
type Handler struct {
	cfg   Config
	files fs.FS
	log   *slog.Logger
	// refusals rate-limits the log lines of refused WebSockets.
	refusals access.RefusalLog
}

// NewHandler returns the handler of the browser terminal. It panics if
// cfg.Dial is nil.
func NewHandler(cfg Config) *Handler {
	if cfg.Dial == nil {
		panic("web: NewHandler without Config.Dial")
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, files: Files(), log: log}
}

// ServeHTTP routes one request: a file of the page, a WebSocket, or the
// fallback.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if route, ok, isWS := wsRoute(p); isWS {
		if !ok {
			http.NotFound(w, r)
			return
		}
		h.serveWebSocket(w, r, route)
		return
	}
	name := strings.TrimPrefix(path.Clean("/"+p), "/")
	if name == "" {
		name = "index.html"
	}
	if st, err := fs.Stat(h.files, name); err == nil && st.Mode().IsRegular() {
		h.serveFile(w, r, name)
		return
	}
	if strings.HasPrefix(name, "vendor/") || h.cfg.Fallback == nil {
		http.NotFound(w, r)
		return
	}
	h.cfg.Fallback.ServeHTTP(w, r)
}

// wsRoute maps a WebSocket path to its route: isWS tells whether p is
// under /ws, ok whether it names a route ("/ws" or "/ws/N", 1 <= N <=
// MaxLine, written without leading zeros).
func wsRoute(p string) (route string, ok, isWS bool) {
	if p == "/ws" {
		return BaseRoute, true, true
	}
	num, found := strings.CutPrefix(p, "/ws/")
	if !found {
		return "", false, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > MaxLine || strconv.Itoa(n) != num {
		return "", false, true
	}
	return BaseRoute + "." + num, true, true
}

// serveFile serves one file of the page.
func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, name string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	hdr := w.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	// The files change with each build and carry no dates.
	hdr.Set("Cache-Control", "no-cache")
	if name == "index.html" {
		// xterm.js sets styles from script; everything else is the page's own.
		hdr.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
	}
	http.ServeFileFS(w, r, h.files, name)
}
