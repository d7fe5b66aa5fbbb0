package lines

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// Path is the HTTP path of the lines directory: JSON, a list of Status.
const Path = "/lines"

// Status is one line in the directory the Path page returns.
type Status struct {
	Line     int    `json:"line"`
	Route    string `json:"route"`
	Online   int    `json:"online"`
	Capacity int    `json:"capacity"`
	Up       bool   `json:"up"`
}

// Directory reads the lines directory for the Path page. Any host may
// answer it, on a line or not.
type Directory struct {
	// Lines is the directory shared by every host of the board; without
	// it the directory is empty.
	Lines store.Lines
	// StaleAfter is the age of a heartbeat past which a line is down
	// (DefaultStaleAfter when zero).
	StaleAfter time.Duration
	// Log, if set, receives the errors that the page does not show.
	Log *slog.Logger
}

// List returns every line registered in the directory, up or down; a line
// that is down has no callers online.
func (d Directory) List(ctx context.Context) ([]Status, error) {
	out := []Status{}
	if d.Lines == nil {
		return out, nil
	}
	lines, err := d.Lines.LineList(ctx)
	if err != nil {
		return nil, err
	}
	stale := d.StaleAfter
	if stale <= 0 {
		stale = DefaultStaleAfter
	}
	now := time.Now()
	for _, l := range lines {
		up := l.Up(now, stale)
		online := l.Online
		if !up {
			online = 0
		}
		out = append(out, Status{Line: l.Line, Route: l.Route, Online: online, Capacity: l.Capacity, Up: up})
	}
	return out, nil
}

// Answer is the Path page for a request of method: its status code and
// body (JSON on 200, a line of plain text otherwise). The directory is
// read within Timeout; an error reading it is logged, never shown.
func (d Directory) Answer(ctx context.Context, method string) (int, []byte) {
	if method != http.MethodGet && method != http.MethodHead {
		return http.StatusMethodNotAllowed, []byte("use GET\n")
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	lines, err := d.List(ctx)
	if err != nil {
		// Anyone may ask: the error (paths, SQL) is for the log only.
		if d.Log != nil {
			d.Log.Warn("lines: directory unavailable", "err", err)
		}
		return http.StatusServiceUnavailable, []byte("directory unavailable, try again later\n")
	}
	b, err := json.Marshal(lines)
	if err != nil {
		return http.StatusInternalServerError, []byte(err.Error() + "\n")
	}
	return http.StatusOK, append(b, '\n')
}

// DirectoryHandler serves the HTTP requests that reach a host through the
// shared directory handler, whose requests the front end spreads over
// every host connected to it.
type DirectoryHandler struct {
	// Serve answers one HTTP request, replying through the directory
	// handler's connection.
	Serve func(context.Context, *m2proto.Request)
	// Bad, if set, is told of each message that does not parse.
	Bad func()
	// Gone, if set, is told of each HTTP caller who hung up (a streamed
	// answer to them can stop).
	Gone func(connID string)
	// Log, if set, receives a line per message that does not parse.
	Log *slog.Logger
}

// Run hands Serve each HTTP request of msgs, in order, until ctx is done
// or msgs is closed (Serve may answer on a goroutine of its own), and
// Gone, if set, each disconnect notice of an HTTP caller; other requests
// are dropped.
func (d DirectoryHandler) Run(ctx context.Context, msgs <-chan []byte) {
	for {
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-msgs:
			if !ok {
				return
			}
			req, err := m2proto.ParseRequest(msg)
			if err != nil {
				if d.Bad != nil {
					d.Bad()
				}
				if d.Log != nil {
					d.Log.Warn("bad directory message", "err", err, "len", len(msg))
				}
				continue
			}
			switch {
			case req.IsHTTP():
				d.Serve(ctx, req)
			case req.IsDisconnect() && d.Gone != nil:
				d.Gone(req.ConnID)
			}
		}
	}
}
