package dispatch

import (
	"context"
	"errors"
	"sync"

	"github.com/m2bbs/m2bbs/host/handler/lines"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
	"github.com/m2bbs/m2bbs/host/wire/websocket"
	"github.com/m2bbs/m2bbs/luaapi"
)

// The host's side of the phone lines (package lines): a host started with
// Config.Line = N runs a lines.Line, which it hands a lineBoard (who is
// online here, tell a caller something); the directory handler's requests
// and the lines.Path page are served with package lines too.

// lineTimeout bounds one write or read of the directory.
const lineTimeout = lines.Timeout

// lineState is the host's part of the lines directory.
type lineState struct {
	line *lines.Line // nil without a line
	wg   sync.WaitGroup
}

// initLine fills the sender default and, on a line, makes its lines.Line
// (called by New).
func (h *Host) initLine() {
	if h.cfg.SenderID == "" {
		h.cfg.SenderID = "m2bbs"
	}
	if h.cfg.Line <= 0 || h.deps.Lines == nil {
		return
	}
	cfg := lines.Config{
		Line: h.cfg.Line, Capacity: h.cfg.MaxCallers,
		Heartbeat: h.cfg.Heartbeat, StaleAfter: h.cfg.StaleAfter,
		Journal: h.cfg.Session.Journal,
	}
	if h.deps.AdoptLine != nil && h.cfg.Session.Journal {
		h.adopt.in = make(chan []byte, adoptInbox)
		cfg.Adopt = h.adoptLine
	}
	h.line.line = lines.New(cfg, h.deps.Lines, lineBoard{h}, h.log)
}

// nudgeLine asks for the callers' rows to be written now; it never blocks.
func (h *Host) nudgeLine() { h.line.line.Nudge() }

// startLine starts the heartbeat and, with a directory transport, its
// server; Run waits for both (line.wg) before it returns.
func (h *Host) startLine(ctx context.Context) {
	if l := h.line.line; l != nil {
		h.line.wg.Go(func() { l.Run(ctx) })
	}
	if dir := h.deps.Directory; dir != nil {
		d := lines.DirectoryHandler{
			// Off the directory's loop, as handle does: a download streams
			// for as long as it takes.
			Serve: func(ctx context.Context, req *m2proto.Request) { go h.serveHTTP(ctx, req, dir) },
			Gone:  h.downloadGone,
			Bad:   func() { h.badFrames.Add(1) },
			Log:   h.log,
		}
		h.line.wg.Go(func() { d.Run(ctx, dir.Messages()) })
	}
}

// remoteCallers reads the callers of the other lines that are up.
func (h *Host) remoteCallers(ctx context.Context) []luaapi.OnlineCaller {
	remote := h.line.line.Remote(ctx)
	out := make([]luaapi.OnlineCaller, 0, len(remote))
	for _, c := range remote {
		out = append(out, luaapi.OnlineCaller{ConnID: c.ConnID, User: c.User})
	}
	return out
}

// remoteBrowsers moves out of ids the callers of other lines that are
// browsers (as last looked), and returns them.
func (h *Host) remoteBrowsers(ids []string) (rest, browsers []string) {
	return h.line.line.SplitBrowsers(ids)
}

// onRemoteLine reports whether connID was online on another line when
// last looked.
func (h *Host) onRemoteLine(connID string) bool { return h.line.line.IsRemote(connID) }

// answerLines is the lines.Path page.
func (h *Host) answerLines(ctx context.Context, method string) (int, []byte) {
	return lines.Directory{Lines: h.deps.Lines, StaleAfter: h.cfg.StaleAfter, Log: h.log}.Answer(ctx, method)
}

// lineBoard is the lines.Board of a host: its callers online, and replies
// sent through its transport as the handler's SenderID.
type lineBoard struct{ h *Host }

// Online lists the callers with a session on this host, browsers marked.
func (b lineBoard) Online() []lines.Caller {
	h := b.h
	h.mu.Lock()
	out := make([]lines.Caller, 0, len(h.owners))
	for id, o := range h.owners {
		out = append(out, lines.Caller{ConnID: id, User: o.user})
	}
	h.mu.Unlock()
	for i := range out {
		out[i].Browser = h.ws.Has(out[i].ConnID)
	}
	return out
}

// Tell sends m to callers: framed once for the classic callers, once
// for the browsers (outbound.go).
func (b lineBoard) Tell(to []lines.Caller, m message.Message) error {
	h := b.h
	classic, browsers := splitLineCallers(to)
	return errors.Join(h.sendVia(h.transport, h.cfg.SenderID, classic, h.classicFrame(m)),
		h.sendVia(h.transport, h.cfg.SenderID, browsers, websocket.AppendText(nil, m)))
}

// HangUp ends the connections of to; browsers get a close frame first.
func (b lineBoard) HangUp(to []lines.Caller) error {
	h := b.h
	classic, browsers := splitLineCallers(to)
	return errors.Join(h.sendVia(h.transport, h.cfg.SenderID, classic, nil),
		h.sendVia(h.transport, h.cfg.SenderID, browsers, m2proto.AppendWebSocketClose(nil, m2proto.CloseNormal, "")),
		h.sendVia(h.transport, h.cfg.SenderID, browsers, nil))
}

// splitLineCallers sorts phone-line callers' conn ids into classic callers and browsers.
func splitLineCallers(callers []lines.Caller) (classic, browsers []string) {
	for _, c := range callers {
		if c.Browser {
			browsers = append(browsers, c.ConnID)
		} else {
			classic = append(classic, c.ConnID)
		}
	}
	return classic, browsers
}
