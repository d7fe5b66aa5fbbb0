// Package lines runs a host's phone line. A host serving line N (route
// "@bbs.N") is one line of a board with several host processes behind one
// front end, all sharing one directory of lines ([store.Lines]).
//
// Every Config.Heartbeat a [Line] writes its row (callers online, capacity,
// heartbeat time) and the rows of its callers that changed since (logged
// in, left); a caller arriving, logging in or leaving also triggers a
// write at once ([Line.Nudge]). At the same time it reads the directory: a
// line whose heartbeat is older than Config.StaleAfter is down, and the one
// host that wins [store.Lines.ClaimDownLine] tells that line's callers
// [DownText] and hangs up on them, through its own [Board] (the front end
// delivers a reply to any of its conn ids). A restarted host does the same
// for callers its previous process left on the line. With journaled
// sessions nobody is hung up on: the callers of a line that went down are
// told [HoldText] and keep their call, and those a restarted host finds
// are rebuilt by replay when they next type.
//
// Who's online lists the local callers and those of every other line that
// is up ([Line.Remote]); a page or a deliver to a caller on another line
// goes out through this host's reply socket, addressed to their conn id.
//
// The host hands a Line a narrow [Board]: who is online here, and how to
// tell callers something. [Directory] answers the [Path] page, and
// [DirectoryHandler] serves the requests of the directory handler that
// every host connects to.
package lines

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/message"
)

// Defaults for the durations of Config.
const (
	DefaultHeartbeat  = time.Second
	DefaultStaleAfter = 3 * time.Second
)

// Timeout bounds one write or read of the directory.
const Timeout = 2 * time.Second

// Route is the route of line n ("@bbs.N"), or "@bbs" for n < 1.
func Route(n int) string {
	if n < 1 {
		return "@bbs"
	}
	return "@bbs." + strconv.Itoa(n)
}

// DownText is what the callers of a line that went down are told.
func DownText(line int) string {
	return fmt.Sprintf("Line %d went down. Please call again.", line)
}

// HoldText is what the callers of a line that went down are told when
// sessions are journaled: their calls are kept, and go on by replay once a
// host serves the line again.
func HoldText(line int) string {
	return fmt.Sprintf("Line %d went down. Hold on: your call is kept and goes on when the line is back.", line)
}

// AdoptText is what the callers of a line that went down are told when
// the host of line by took their line over (Config.Adopt): their calls go
// on there at once, by replay.
func AdoptText(line, by int) string {
	return fmt.Sprintf("Line %d went down. Your call goes on at line %d.", line, by)
}

// Caller is one caller online, on this line or another.
type Caller struct {
	ConnID string
	User   string // empty until the caller logs in
	// Browser says the caller is the browser page on a WebSocket through
	// Mongrel2, whose messages must be WebSocket frames.
	Browser bool
}

// Board is what a Line needs of its host. Its methods are called from the
// Line's goroutine and must be safe for concurrent use with the host's own.
type Board interface {
	// Online lists the callers with a session on this host.
	Online() []Caller
	// Tell sends each of to (callers of any line) the message m, framed
	// for the kind of caller they are (Caller.Browser).
	Tell(to []Caller, m message.Message) error
	// HangUp ends the connections of to.
	HangUp(to []Caller) error
}

// Config says which line a Line serves and how.
type Config struct {
	// Line is the line's number, 1 or more.
	Line int
	// Capacity is how many callers the line takes at most.
	Capacity int
	// Heartbeat is how often the line's row is written (DefaultHeartbeat
	// when zero); a line whose last heartbeat is older than StaleAfter
	// (DefaultStaleAfter when zero) is down.
	Heartbeat, StaleAfter time.Duration
	// Journal says sessions are journaled: the callers of a line that went
	// down are told to hold on (HoldText), not hung up on.
	Journal bool
	// Adopt, if set (with Journal), is asked to take over a line that
	// went down and that this host won, with its callers: to receive the
	// line's requests and rebuild the callers' sessions here. When it
	// reports true the callers are told AdoptText instead of HoldText.
	// It runs on the Line's goroutine.
	Adopt func(line int, callers []Caller) bool
}

// Line keeps one host's line in the directory and watches the others. A
// nil *Line is a host on no line: it has no remote callers.
type Line struct {
	cfg      Config
	dir      store.Lines
	board    Board
	log      *slog.Logger
	instance string
	nudge    chan struct{} // a caller came, went or logged in

	// Only Run's goroutine uses these.
	claimed   bool
	synced    map[string]Caller // as last written, by conn id
	takenOnce bool

	mu       sync.Mutex
	remote   map[string]string // conn id -> user of callers on other live lines
	browsers map[string]bool   // those of them that are browsers
}

// New returns the Line of cfg.Line in dir, for board. Nothing runs until
// Run.
func New(cfg Config, dir store.Lines, board Board, log *slog.Logger) *Line {
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = DefaultStaleAfter
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	return &Line{
		cfg: cfg, dir: dir, board: board, log: log,
		instance: strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(id[:]),
		nudge:    make(chan struct{}, 1),
		synced:   map[string]Caller{},
		remote:   map[string]string{},
		browsers: map[string]bool{},
	}
}

// Nudge asks for the callers' rows to be written now; it never blocks.
func (l *Line) Nudge() {
	if l == nil {
		return
	}
	select {
	case l.nudge <- struct{}{}:
	default:
	}
}

// Run writes the heartbeat and watches the other lines until ctx is done,
// then marks the line down so that its callers are told at once.
func (l *Line) Run(ctx context.Context) {
	tick := time.NewTicker(l.cfg.Heartbeat)
	defer tick.Stop()
	l.beat(ctx)
	l.watch(ctx)
	for {
		select {
		case <-ctx.Done():
			lctx, cancel := context.WithTimeout(context.Background(), Timeout)
			if err := l.dir.LeaveLine(lctx, l.cfg.Line, l.instance); err != nil {
				l.log.Warn("line: leave", "line", l.cfg.Line, "err", err)
			}
			cancel()
			return
		case <-tick.C:
			l.beat(ctx)
			l.watch(ctx)
		case <-l.nudge:
			l.beat(ctx)
		}
	}
}

// row is the line's row as of now.
func (l *Line) row(online int) store.LineBeat {
	hostname, _ := os.Hostname()
	return store.LineBeat{
		Line: l.cfg.Line, Route: Route(l.cfg.Line), Online: online, Capacity: l.cfg.Capacity,
		Instance: l.instance, PID: os.Getpid(), Hostname: hostname, At: time.Now(),
	}
}

// beat writes the heartbeat and the callers' rows that changed.
func (l *Line) beat(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	now := map[string]Caller{}
	for _, c := range l.board.Online() {
		now[c.ConnID] = c
	}
	if !l.claimed && !l.claim(ctx, len(now)) {
		return
	}
	var (
		set  []store.Presence
		gone []string
	)
	for id, c := range now {
		if prev, ok := l.synced[id]; !ok || prev != c {
			set = append(set, store.Presence{Line: l.cfg.Line, ConnID: id, User: c.User, Browser: c.Browser})
		}
	}
	for id := range l.synced {
		if _, ok := now[id]; !ok {
			gone = append(gone, id)
		}
	}
	revived, err := l.dir.BeatLine(ctx, l.row(len(now)), set, gone)
	switch {
	case errors.Is(err, store.ErrLineTaken):
		if !l.takenOnce {
			l.takenOnce = true
			l.log.Error("line: another host serves this line number; this one is no longer in the directory", "line", l.cfg.Line)
		}
		return
	case err != nil:
		l.log.Warn("line: heartbeat", "line", l.cfg.Line, "err", err)
		return
	}
	l.synced = now
	if revived {
		// Another host took the line for dead: write every caller again.
		l.log.Warn("line: was marked down while alive (heartbeats late)", "line", l.cfg.Line)
		l.synced = map[string]Caller{}
		l.Nudge()
	}
}

// claim makes this process the line's owner and handles the callers its
// previous process left on it; it reports whether the line is claimed.
func (l *Line) claim(ctx context.Context, online int) bool {
	orphans, err := l.dir.ClaimLine(ctx, l.row(online))
	if err != nil {
		l.log.Error("line: claim", "line", l.cfg.Line, "err", err)
		return false
	}
	l.claimed = true
	l.log.Info("line up", "line", l.cfg.Line, "route", Route(l.cfg.Line), "capacity", l.cfg.Capacity)
	switch {
	case len(orphans) > 0 && l.cfg.Journal:
		// Their sessions are journaled: each is rebuilt here by replay
		// when its caller next types.
		l.log.Info("line: callers left by the previous host on this line will be replayed", "line", l.cfg.Line, "callers", len(orphans))
	case len(orphans) > 0:
		l.log.Warn("line: callers left by the previous host on this line", "line", l.cfg.Line, "callers", len(orphans))
		l.hangUp(l.cfg.Line, orphans)
	}
	return true
}

// watch hangs up on the callers of lines that went down (when this host
// is the one to handle it) and refreshes the other lines' callers.
func (l *Line) watch(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	lines, err := l.dir.LineList(ctx)
	if err != nil {
		l.log.Warn("line: directory", "err", err)
		return
	}
	now := time.Now()
	for _, d := range lines {
		if d.Line == l.cfg.Line || d.DownHandled || d.Up(now, l.cfg.StaleAfter) {
			continue
		}
		callers, won, err := l.dir.ClaimDownLine(ctx, d.Line, now.Add(-l.cfg.StaleAfter))
		if err != nil {
			l.log.Warn("line: claim a down line", "line", d.Line, "err", err)
			continue
		}
		if won {
			l.log.Warn("line went down", "line", d.Line, "last_heartbeat", d.At, "callers", len(callers))
			if !l.adopt(d.Line, callers) {
				l.hangUp(d.Line, callers)
			}
		}
	}
	l.Remote(ctx)
}

// adopt has Config.Adopt take over line with its callers, and tells
// them; it reports false when there is nothing to adopt or no adopting.
func (l *Line) adopt(line int, callers []store.Presence) bool {
	if !l.cfg.Journal || l.cfg.Adopt == nil || len(callers) == 0 {
		return false
	}
	list := make([]Caller, len(callers))
	for i, p := range callers {
		list[i] = Caller{ConnID: p.ConnID, User: p.User, Browser: p.Browser}
	}
	if !l.cfg.Adopt(line, list) {
		return false
	}
	l.log.Warn("line adopted: its callers go on here", "line", line, "callers", len(list), "by", l.cfg.Line)
	classic, browsers := splitBrowsers(list)
	text := AdoptText(line, l.cfg.Line)
	if err := errors.Join(l.board.Tell(classic, message.Screen(text)), l.board.Tell(browsers, message.Screen(text))); err != nil {
		l.log.Warn("line: tell callers their line was adopted", "line", line, "err", err)
	}
	l.Nudge() // they are online here now
	return true
}

// splitBrowsers sorts callers into classic callers and browsers.
func splitBrowsers(callers []Caller) (classic, browsers []Caller) {
	for _, c := range callers {
		if c.Browser {
			browsers = append(browsers, c)
		} else {
			classic = append(classic, c)
		}
	}
	return classic, browsers
}

// hangUp tells callers that their line went down and hangs up on them;
// with journaled sessions it only tells them to hold on.
func (l *Line) hangUp(line int, callers []store.Presence) {
	if len(callers) == 0 {
		return
	}
	var classic, browsers []Caller
	for _, p := range callers {
		c := Caller{ConnID: p.ConnID, User: p.User, Browser: p.Browser}
		if c.Browser {
			browsers = append(browsers, c)
		} else {
			classic = append(classic, c)
		}
	}
	if l.cfg.Journal {
		text := HoldText(line)
		err := errors.Join(l.board.Tell(classic, message.Screen(text)), l.board.Tell(browsers, message.Screen(text)))
		if err != nil {
			l.log.Warn("line: tell callers the line went down", "line", line, "err", err)
		}
		return
	}
	for _, group := range [][]Caller{classic, browsers} {
		if err := l.board.Tell(group, message.Exit(DownText(line))); err != nil {
			l.log.Warn("line: tell callers the line went down", "line", line, "err", err)
			continue
		}
		_ = l.board.HangUp(group)
	}
}

// Remote reads the callers of the other lines that are up, keeps them for
// IsRemote and SplitBrowsers, and returns them. If the directory cannot be
// read it returns those it read last.
func (l *Line) Remote(ctx context.Context) []Caller {
	if l == nil {
		return nil
	}
	lines, err := l.dir.LineList(ctx)
	var callers []store.Presence
	if err == nil {
		callers, err = l.dir.LineCallers(ctx)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.log.Warn("line: callers of other lines", "err", err)
	} else {
		up := map[int]bool{}
		now := time.Now()
		for _, d := range lines {
			up[d.Line] = d.Line != l.cfg.Line && d.Up(now, l.cfg.StaleAfter)
		}
		l.remote = map[string]string{}
		l.browsers = map[string]bool{}
		for _, c := range callers {
			if up[c.Line] {
				l.remote[c.ConnID] = c.User
				if c.Browser {
					l.browsers[c.ConnID] = true
				}
			}
		}
	}
	out := make([]Caller, 0, len(l.remote))
	for id, user := range l.remote {
		out = append(out, Caller{ConnID: id, User: user, Browser: l.browsers[id]})
	}
	return out
}

// IsRemote reports whether connID was online on another line when last
// looked.
func (l *Line) IsRemote(connID string) bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.remote[connID]
	return ok
}

// SplitBrowsers moves out of ids the callers of other lines that are
// browsers (as last looked), and returns them.
func (l *Line) SplitBrowsers(ids []string) (rest, browsers []string) {
	if l == nil {
		return ids, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.browsers) == 0 {
		return ids, nil
	}
	for _, id := range ids {
		if l.browsers[id] {
			browsers = append(browsers, id)
		} else {
			rest = append(rest, id)
		}
	}
	return rest, browsers
}
