package dispatch

import (
	"context"
	"sort"

	"github.com/m2bbs/m2bbs/host/handler/session"
	"github.com/m2bbs/m2bbs/luaapi"
)

// online reports whether connID has a session on any worker.
func (h *Host) online(connID string) bool {
	h.mu.Lock()
	local := h.owners[connID] != nil
	h.mu.Unlock()
	return local || h.onRemoteLine(connID)
}

// who lists the callers online on every worker, and on the other phone
// lines that are up, by conn id.
func (h *Host) who() []luaapi.OnlineCaller {
	ctx, cancel := context.WithTimeout(context.Background(), lineTimeout)
	remote := h.remoteCallers(ctx)
	cancel()
	h.mu.Lock()
	out := make([]luaapi.OnlineCaller, 0, len(h.owners)+len(remote))
	for id, o := range h.owners {
		out = append(out, luaapi.OnlineCaller{ConnID: id, User: o.user, Node: h.nodes.Node(id)})
	}
	h.mu.Unlock()
	out = append(out, remote...)
	sort.Slice(out, func(i, j int) bool { return session.LessConnID(out[i].ConnID, out[j].ConnID) })
	return out
}

// loggedIn records the name of a caller who logged in.
func (h *Host) loggedIn(connID, user string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if o := h.owners[connID]; o != nil {
		o.user = user
		h.nudgeLine()
	}
}
