package dispatch

import (
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
	"github.com/m2bbs/m2bbs/host/wire/websocket"
)

// The outbound edge. Scripts and the host hand messages (message.Message)
// to sendMessage, which knows which callers are classic clients and which
// are browsers on a Mongrel2 WebSocket, and frames each message once per
// kind of caller: base64(JSON)+NUL, or JSON+NUL with Config.RawFrames, for
// the classic client; one WebSocket text frame (websocket.AppendText) for
// a browser. Bytes a script sends as they are (conn:reply) and hang-ups
// go through send.

// sendMessage frames m for connIDs and sends it through the transport;
// with callers of both kinds the message is sent twice, once per kind.
// A caller's watchers get a copy (watch.go).
func (h *Host) sendMessage(sender string, connIDs []string, m message.Message) error {
	if h.watch.on.Load() {
		h.watch.sent(sender, connIDs, m, true)
	}
	return h.deliverMessage(sender, connIDs, m)
}

// deliverMessage is sendMessage without the watchers' copy.
func (h *Host) deliverMessage(sender string, connIDs []string, m message.Message) error {
	classic, browsers := h.splitBrowsers(connIDs)
	var errs []error
	if len(classic) > 0 {
		errs = append(errs, h.sendVia(h.transport, sender, classic, h.classicFrame(m)))
	}
	if len(browsers) > 0 {
		errs = append(errs, h.sendVia(h.transport, sender, browsers, websocket.AppendText(nil, m)))
	}
	return errors.Join(errs...)
}

// send sends a reply body to connIDs through the transport, browsers
// getting it through the WebSocket layer (websocket.Layer.SendBody): bytes
// as a frame, a hang-up (empty body) as a close frame and the hang-up.
// With callers of both kinds the reply is sent twice, once per kind.
func (h *Host) send(sender string, connIDs []string, body []byte) error {
	if h.watch.on.Load() {
		h.watchedSend(connIDs, body)
	}
	classic, browsers := h.splitBrowsers(connIDs)
	if len(browsers) == 0 {
		return h.sendVia(h.transport, sender, connIDs, body)
	}
	var errs []error
	if len(classic) > 0 {
		errs = append(errs, h.sendVia(h.transport, sender, classic, body))
	}
	errs = append(errs, h.ws.SendBody(sender, browsers, body))
	return errors.Join(errs...)
}

// splitBrowsers separates the browsers among connIDs (this host's, and
// those other phone lines report) from the classic callers.
func (h *Host) splitBrowsers(connIDs []string) (classic, browsers []string) {
	classic, browsers = h.ws.Split(connIDs)
	classic, remote := h.remoteBrowsers(classic)
	return classic, append(browsers, remote...)
}

// classicFrame is m as the classic client reads it: base64(JSON)+NUL, or
// JSON+NUL with Config.RawFrames.
func (h *Host) classicFrame(m message.Message) []byte {
	json := m.AppendJSON(nil)
	if h.cfg.RawFrames {
		return append(json, 0)
	}
	return m2proto.AppendClientFrame(make([]byte, 0, base64.StdEncoding.EncodedLen(len(json))+1), json, false)
}

// sendVia is send through transport t.
func (h *Host) sendVia(t Transport, sender string, connIDs []string, body []byte) error {
	for _, group := range m2proto.SplitTargets(connIDs) {
		if err := t.Send(m2proto.AppendReply(nil, sender, group, body)); err != nil {
			h.replyErrors.Add(1)
			return fmt.Errorf("send reply: %w", err)
		}
	}
	return nil
}

// replier is the session tables' way out: Lua's messages and raw
// replies reach the outbound edge through it.
type replier struct{ h *Host }

func (r replier) Reply(sender string, connIDs []string, body []byte) error {
	return r.h.send(sender, connIDs, body)
}

func (r replier) SendMessage(sender string, connIDs []string, m message.Message) error {
	return r.h.sendMessage(sender, connIDs, m)
}
