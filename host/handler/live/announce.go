package live

import (
	"context"
	"fmt"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// Notices: what a script says for the host about a caller, such as a chat
// room's "ann comes in", and the farewells of callers whose call ended.
// They have an allowance of their own, apart from what the caller says
// (PublishRate), so that a caller who has talked fast is still announced
// when they come and go, and a bound of their own, so that notices are no
// way around PublishRate: one publisher announces at most NoticeRate a
// second, in bursts of NoticeBurst; past it Announce returns ErrTooFast
// and a farewell is not published.
const (
	NoticeRate  = 2
	NoticeBurst = 6
)

// Announce implements luaapi.Announcer: Publish, within the publisher's
// notice allowance instead of their publishing one.
func (h *Hub) Announce(connID, from, channel, text string) (int, error) {
	if err := store.CheckSharedName("channel", channel); err != nil {
		return 0, err
	}
	if len(text) > store.MaxSharedValueBytes {
		return 0, fmt.Errorf("%w: text longer than %d bytes", store.ErrSharedValue, store.MaxSharedValueBytes)
	}
	if !h.noticeAllowed(from) {
		return 0, ErrTooFast
	}
	return h.spread(context.Background(), connID, Event{Channel: channel, From: from, Text: text}), nil
}

// noticeAllowed spends one of from's notice tokens, if there is one.
func (h *Hub) noticeAllowed(from string) bool {
	h.mu.Lock()
	ok := take(h.notices, from, h.now(), NoticeRate, NoticeBurst)
	h.mu.Unlock()
	if !ok {
		h.tooFast.Add(1)
	}
	return ok
}

// Restarted drops everything connID's session set up in the hub, whose
// replay diverged so that it starts over on the current scripts (it is no
// longer where its journal put it): it listens nowhere, says no farewell,
// and the values it held are released now as at the end of a call. It
// waits for the store.
func (h *Hub) Restarted(connID string) {
	h.mu.Lock()
	c := h.callers[connID]
	if c != nil {
		for channel := range c.channels {
			h.unlisten(connID, channel)
		}
		delete(h.callers, connID)
	}
	h.mu.Unlock()
	if c != nil && len(c.holds) > 0 {
		h.depart(connID, nil, c.holds)
	}
}
