package host

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/m2bbs/m2bbs/host/m2proto"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/store"
	"github.com/m2bbs/m2bbs/host/wire/websocket"
	"github.com/m2bbs/m2bbs/luaapi"
)

// Phone lines. A host started with Config.Line = N serves route "@bbs.N"
// and is one line of a board with several host processes behind one front
// end, all sharing one database (Deps.Lines). Every Config.Heartbeat the
// host writes its line's row (callers online, capacity, heartbeat time)
// and the rows of its callers that changed since (logged in, left); a
// caller arriving, logging in or leaving also triggers a write at once.
// At the same time it reads the directory: a line whose heartbeat is
// older than Config.StaleAfter is down, and the one host that wins
// store.Lines.ClaimDownLine tells that line's callers "Line N went down.
// Please call again." and hangs up on them, through its own reply socket
// (the front end delivers a reply to any of its conn ids). A restarted host
// does the same for callers its previous process left on the line.
//
// Who's online (the callers module) lists the local callers and those of
// every other line that is up; a page or a deliver to a caller on another
// line goes out through this host's reply socket, addressed to their conn
// id.

// Defaults for the line settings of Config.
const (
	DefaultHeartbeat  = time.Second
	DefaultStaleAfter = 3 * time.Second
	// lineTimeout bounds one write or read of the directory.
	lineTimeout = 2 * time.Second
)

// LinesPath is the HTTP path of the lines directory: JSON, a list of
// LineStatus.
const LinesPath = "/lines"

// LineRoute is the route of line n ("@bbs.N"), or "@bbs" for n < 1.
func LineRoute(n int) string {
	if n < 1 {
		return "@bbs"
	}
	return "@bbs." + strconv.Itoa(n)
}

// LineStatus is one line in the directory the LinesPath page returns.
type LineStatus struct {
	Line     int    `json:"line"`
	Route    string `json:"route"`
	Online   int    `json:"online"`
	Capacity int    `json:"capacity"`
	Up       bool   `json:"up"`
}

// lineState is the host's part of the lines directory.
type lineState struct {
	instance string
	nudge    chan struct{} // a caller came, went or logged in; nil without a line
	wg       sync.WaitGroup

	// Only runLine's goroutine uses these.
	claimed   bool
	synced    map[string]lineCaller // as last written, by conn id
	takenOnce bool

	mu       sync.Mutex
	remote   map[string]string // conn id -> user of callers on other live lines
	browsers map[string]bool   // those of them that are browsers
}

// lineCaller is what a line's presence rows say of one caller.
type lineCaller struct {
	user    string
	browser bool
}

// initLine fills the line defaults (called by New).
func (h *Host) initLine() {
	if h.cfg.Heartbeat <= 0 {
		h.cfg.Heartbeat = DefaultHeartbeat
	}
	if h.cfg.StaleAfter <= 0 {
		h.cfg.StaleAfter = DefaultStaleAfter
	}
	if h.cfg.SenderID == "" {
		h.cfg.SenderID = "m2bbs"
	}
	if !h.onLine() {
		return
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	h.line.instance = strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(id[:])
	h.line.nudge = make(chan struct{}, 1)
	h.line.synced = map[string]lineCaller{}
	h.line.remote = map[string]string{}
	h.line.browsers = map[string]bool{}
}

// onLine reports whether the host serves a numbered line.
func (h *Host) onLine() bool { return h.cfg.Line > 0 && h.deps.Lines != nil }

// nudgeLine asks for the callers' rows to be written now; it never blocks.
func (h *Host) nudgeLine() {
	if h.line.nudge == nil {
		return
	}
	select {
	case h.line.nudge <- struct{}{}:
	default:
	}
}

// startLine starts the heartbeat and, with a directory transport, its
// server; Run waits for both (line.wg) before it returns.
func (h *Host) startLine(ctx context.Context) {
	if h.onLine() {
		h.line.wg.Add(1)
		go h.runLine(ctx)
	}
	if h.deps.Directory != nil {
		h.line.wg.Add(1)
		go h.serveDirectory(ctx)
	}
}

// runLine writes the heartbeat and watches the other lines until ctx is
// done, then marks the line down so that its callers are told at once.
func (h *Host) runLine(ctx context.Context) {
	defer h.line.wg.Done()
	tick := time.NewTicker(h.cfg.Heartbeat)
	defer tick.Stop()
	h.beatLine(ctx)
	h.watchLines(ctx)
	for {
		select {
		case <-ctx.Done():
			lctx, cancel := context.WithTimeout(context.Background(), lineTimeout)
			if err := h.deps.Lines.LeaveLine(lctx, h.cfg.Line, h.line.instance); err != nil {
				h.log.Warn("line: leave", "line", h.cfg.Line, "err", err)
			}
			cancel()
			return
		case <-tick.C:
			h.beatLine(ctx)
			h.watchLines(ctx)
		case <-h.line.nudge:
			h.beatLine(ctx)
		}
	}
}

// lineBeat is the line's row as of now.
func (h *Host) lineBeat(online int) store.LineBeat {
	hostname, _ := os.Hostname()
	return store.LineBeat{
		Line: h.cfg.Line, Route: LineRoute(h.cfg.Line), Online: online, Capacity: h.cfg.MaxCallers,
		Instance: h.line.instance, PID: os.Getpid(), Hostname: hostname, At: time.Now(),
	}
}

// beatLine writes the heartbeat and the callers' rows that changed.
func (h *Host) beatLine(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, lineTimeout)
	defer cancel()
	h.mu.Lock()
	now := make(map[string]lineCaller, len(h.owners))
	for id, o := range h.owners {
		now[id] = lineCaller{user: o.user}
	}
	h.mu.Unlock()
	for id, c := range now {
		if h.ws.Has(id) {
			c.browser = true
			now[id] = c
		}
	}
	if !h.line.claimed {
		orphans, err := h.deps.Lines.ClaimLine(ctx, h.lineBeat(len(now)))
		if err != nil {
			h.log.Error("line: claim", "line", h.cfg.Line, "err", err)
			return
		}
		h.line.claimed = true
		h.log.Info("line up", "line", h.cfg.Line, "route", LineRoute(h.cfg.Line), "capacity", h.cfg.MaxCallers)
		switch {
		case len(orphans) > 0 && h.cfg.Session.Journal:
			// Their sessions are journaled: each is rebuilt here by replay
			// when its caller next types.
			h.log.Info("line: callers left by the previous host on this line will be replayed", "line", h.cfg.Line, "callers", len(orphans))
		case len(orphans) > 0:
			h.log.Warn("line: callers left by the previous host on this line", "line", h.cfg.Line, "callers", len(orphans))
			h.hangUpLine(h.cfg.Line, orphans)
		}
	}
	var (
		set  []store.Presence
		gone []string
	)
	for id, c := range now {
		if prev, ok := h.line.synced[id]; !ok || prev != c {
			set = append(set, store.Presence{Line: h.cfg.Line, ConnID: id, User: c.user, Browser: c.browser})
		}
	}
	for id := range h.line.synced {
		if _, ok := now[id]; !ok {
			gone = append(gone, id)
		}
	}
	revived, err := h.deps.Lines.BeatLine(ctx, h.lineBeat(len(now)), set, gone)
	switch {
	case errors.Is(err, store.ErrLineTaken):
		if !h.line.takenOnce {
			h.line.takenOnce = true
			h.log.Error("line: another host serves this line number; this one is no longer in the directory", "line", h.cfg.Line)
		}
		return
	case err != nil:
		h.log.Warn("line: heartbeat", "line", h.cfg.Line, "err", err)
		return
	}
	h.line.synced = now
	if revived {
		// Another host took the line for dead: write every caller again.
		h.log.Warn("line: was marked down while alive (heartbeats late)", "line", h.cfg.Line)
		h.line.synced = map[string]lineCaller{}
		h.nudgeLine()
	}
}

// watchLines hangs up on the callers of lines that went down (when this
// host is the one to handle it) and refreshes the other lines' callers.
func (h *Host) watchLines(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, lineTimeout)
	defer cancel()
	lines, err := h.deps.Lines.LineList(ctx)
	if err != nil {
		h.log.Warn("line: directory", "err", err)
		return
	}
	now := time.Now()
	for _, l := range lines {
		if l.Line == h.cfg.Line || l.DownHandled || l.Up(now, h.cfg.StaleAfter) {
			continue
		}
		callers, won, err := h.deps.Lines.ClaimDownLine(ctx, l.Line, now.Add(-h.cfg.StaleAfter))
		if err != nil {
			h.log.Warn("line: claim a down line", "line", l.Line, "err", err)
			continue
		}
		if won {
			h.log.Warn("line went down", "line", l.Line, "last_heartbeat", l.At, "callers", len(callers))
			h.hangUpLine(l.Line, callers)
		}
	}
	h.remoteCallers(ctx)
}

// LineDownText is what the callers of a line that went down are told.
func LineDownText(line int) string {
	return fmt.Sprintf("Line %d went down. Please call again.", line)
}

// LineHoldText is what the callers of a line that went down are told when
// sessions are journaled: their calls are kept, and go on by replay once a
// host serves the line again.
func LineHoldText(line int) string {
	return fmt.Sprintf("Line %d went down. Hold on: your call is kept and goes on when the line is back.", line)
}

// hangUpLine tells callers that their line went down and hangs up on them;
// with journaled sessions it only tells them to hold on.
func (h *Host) hangUpLine(line int, callers []store.Presence) {
	if len(callers) == 0 {
		return
	}
	var browsers, classicIDs []string
	for _, c := range callers {
		if c.Browser {
			browsers = append(browsers, c.ConnID)
		} else {
			classicIDs = append(classicIDs, c.ConnID)
		}
	}
	if h.cfg.Session.Journal {
		msg := message.Screen(LineHoldText(line))
		err := errors.Join(h.sendVia(h.transport, h.cfg.SenderID, classicIDs, h.classicFrame(msg)),
			h.sendVia(h.transport, h.cfg.SenderID, browsers, websocket.AppendText(nil, msg)))
		if err != nil {
			h.log.Warn("line: tell callers the line went down", "line", line, "err", err)
		}
		return
	}
	msg := message.Exit(LineDownText(line))
	if err := h.sendVia(h.transport, h.cfg.SenderID, classicIDs, h.classicFrame(msg)); err != nil {
		h.log.Warn("line: tell callers the line went down", "line", line, "err", err)
	} else {
		_ = h.sendVia(h.transport, h.cfg.SenderID, classicIDs, nil)
	}
	if err := h.sendVia(h.transport, h.cfg.SenderID, browsers, websocket.AppendText(nil, msg)); err != nil {
		h.log.Warn("line: tell callers the line went down", "line", line, "err", err)
		return
	}
	_ = h.sendVia(h.transport, h.cfg.SenderID, browsers, m2proto.AppendWebSocketClose(nil, m2proto.CloseNormal, ""))
	_ = h.sendVia(h.transport, h.cfg.SenderID, browsers, nil)
}

// remoteCallers reads the callers of the other lines that are up and keeps
// them for online.
func (h *Host) remoteCallers(ctx context.Context) []luaapi.OnlineCaller {
	if !h.onLine() {
		return nil
	}
	lines, err := h.deps.Lines.LineList(ctx)
	var callers []store.Presence
	if err == nil {
		callers, err = h.deps.Lines.LineCallers(ctx)
	}
	h.line.mu.Lock()
	defer h.line.mu.Unlock()
	if err != nil {
		h.log.Warn("line: callers of other lines", "err", err)
	} else {
		up := map[int]bool{}
		now := time.Now()
		for _, l := range lines {
			up[l.Line] = l.Line != h.cfg.Line && l.Up(now, h.cfg.StaleAfter)
		}
		h.line.remote = map[string]string{}
		h.line.browsers = map[string]bool{}
		for _, c := range callers {
			if up[c.Line] {
				h.line.remote[c.ConnID] = c.User
				if c.Browser {
					h.line.browsers[c.ConnID] = true
				}
			}
		}
	}
	out := make([]luaapi.OnlineCaller, 0, len(h.line.remote))
	for id, user := range h.line.remote {
		out = append(out, luaapi.OnlineCaller{ConnID: id, User: user})
	}
	return out
}

// remoteBrowsers moves out of ids the callers of other lines that are
// browsers (as last looked), and returns them.
func (h *Host) remoteBrowsers(ids []string) (rest, browsers []string) {
	if !h.onLine() {
		return ids, nil
	}
	h.line.mu.Lock()
	defer h.line.mu.Unlock()
	if len(h.line.browsers) == 0 {
		return ids, nil
	}
	for _, id := range ids {
		if h.line.browsers[id] {
			browsers = append(browsers, id)
		} else {
			rest = append(rest, id)
		}
	}
	return rest, browsers
}

// onRemoteLine reports whether connID was online on another line when
// last looked.
func (h *Host) onRemoteLine(connID string) bool {
	if !h.onLine() {
		return false
	}
	h.line.mu.Lock()
	defer h.line.mu.Unlock()
	_, ok := h.line.remote[connID]
	return ok
}

// Lines returns the directory: every line registered in the shared
// database, up or down.
func (h *Host) Lines(ctx context.Context) ([]LineStatus, error) {
	out := []LineStatus{}
	if h.deps.Lines == nil {
		return out, nil
	}
	lines, err := h.deps.Lines.LineList(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	for _, l := range lines {
		up := l.Up(now, h.cfg.StaleAfter)
		online := l.Online
		if !up {
			online = 0
		}
		out = append(out, LineStatus{Line: l.Line, Route: l.Route, Online: online, Capacity: l.Capacity, Up: up})
	}
	return out, nil
}

// answerLines is the LinesPath page.
func (h *Host) answerLines(ctx context.Context, method string) (int, []byte) {
	if method != http.MethodGet && method != http.MethodHead {
		return http.StatusMethodNotAllowed, []byte("use GET\n")
	}
	ctx, cancel := context.WithTimeout(ctx, lineTimeout)
	defer cancel()
	lines, err := h.Lines(ctx)
	if err != nil {
		// Anyone may ask: the error (paths, SQL) is for the log only.
		h.log.Warn("lines: directory unavailable", "err", err)
		return http.StatusServiceUnavailable, []byte("directory unavailable, try again later\n")
	}
	b, err := json.Marshal(lines)
	if err != nil {
		return http.StatusInternalServerError, []byte(err.Error() + "\n")
	}
	return http.StatusOK, append(b, '\n')
}

// serveDirectory answers the HTTP requests that reach the host through the
// shared directory handler (Deps.Directory), whose requests the front end
// spreads over every host connected to it.
func (h *Host) serveDirectory(ctx context.Context) {
	defer h.line.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-h.deps.Directory.Messages():
			if !ok {
				return
			}
			req, err := m2proto.ParseRequest(msg)
			if err != nil {
				h.badFrames.Add(1)
				h.log.Warn("bad directory message", "err", err, "len", len(msg))
				continue
			}
			if !req.IsHTTP() {
				continue // disconnect notices of HTTP callers
			}
			h.serveHTTP(ctx, req, h.deps.Directory)
		}
	}
}
