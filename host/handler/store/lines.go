package store

import (
	"context"
	"errors"
	"time"
)

// Lines is the directory of phone lines: every host process serving a
// line (route "@bbs.N") records a heartbeat of its line and the callers
// online on it, and reads the others', so that who's online, paging and
// the line-down notice work across lines. Implementations are safe for
// concurrent use and shared by every host (*SQLite is one, for hosts on
// one machine; hosts on several machines need an engine they all reach).
type Lines interface {
	// ClaimLine makes instance the owner of beat.Line and records a first
	// heartbeat. If another instance owned the line (a host that died or
	// was restarted), its callers' rows are deleted and returned, so that
	// the new owner can tell them the line went down; they are empty if a
	// host already did (see ClaimDownLine).
	ClaimLine(ctx context.Context, beat LineBeat) (orphans []Presence, err error)
	// BeatLine records a heartbeat of beat.Line and, in the same
	// transaction, sets the rows of the callers in set (inserted or their
	// user updated) and deletes those of gone. It returns ErrLineTaken if
	// another instance has claimed the line since, and revived=true if the
	// line had been handled as down meanwhile (its callers' rows were
	// deleted: the owner should write them all again).
	BeatLine(ctx context.Context, beat LineBeat, set []Presence, gone []string) (revived bool, err error)
	// LeaveLine marks instance's line down at once (a clean shutdown), so
	// that the next host to look tells its callers.
	LeaveLine(ctx context.Context, line int, instance string) error
	// LineList returns every line ever registered, by number.
	LineList(ctx context.Context) ([]LineInfo, error)
	// LineCallers returns the callers' rows of every line, by line then
	// conn id.
	LineCallers(ctx context.Context) ([]Presence, error)
	// ClaimDownLine decides which host handles a line that went down:
	// if line's heartbeat is older than staleBefore and nobody handled it
	// yet, it marks the line handled, deletes its callers' rows and
	// returns them with won=true. Of several hosts calling it for the same
	// line, exactly one wins.
	ClaimDownLine(ctx context.Context, line int, staleBefore time.Time) (callers []Presence, won bool, err error)
}

// LineBeat is what a host reports about its line at each heartbeat.
type LineBeat struct {
	Line     int       // the line's number, 1 or more
	Route    string    // the route callers dial, "@bbs.N"
	Online   int       // callers online now
	Capacity int       // callers the line takes at most
	Instance string    // names the host process (unique per start)
	PID      int       // the host's process id
	Hostname string    // the machine the host runs on
	At       time.Time // the time of the heartbeat (the host's clock)
}

// LineInfo is one line of the directory.
type LineInfo struct {
	LineBeat
	// Started is when the current instance claimed the line.
	Started time.Time
	// DownHandled says a host has told the line's callers it went down;
	// the line's next heartbeat clears it.
	DownHandled bool
}

// Up reports whether the line counts as up at now: a heartbeat within
// staleAfter and not handled as down.
func (l LineInfo) Up(now time.Time, staleAfter time.Duration) bool {
	return !l.DownHandled && now.Sub(l.At) <= staleAfter
}

// Presence is one caller online on a line.
type Presence struct {
	Line   int
	ConnID string
	User   string // empty until the caller logs in
	// Browser says the caller is the browser page on a WebSocket through
	// Mongrel2, whose messages must be WebSocket frames.
	Browser bool
}

// ErrLineTaken means another host process has claimed the line: two hosts
// were started with the same line number.
var ErrLineTaken = errors.New("store: line claimed by another host")
