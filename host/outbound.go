package host

import (
	"errors"

	"github.com/m2bbs/m2bbs/host/m2proto"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/termtext"
)

// The outbound edge. Scripts and the host hand messages (message.Message)
// to sendMessage, which knows which callers are classic clients and which
// are browsers on a Mongrel2 WebSocket, and frames each message once per
// kind of caller: base64(JSON)+NUL, or JSON+NUL with Config.RawFrames, for
// the classic client; one WebSocket text frame for a browser. Bytes a
// script sends as they are (conn:reply) and hang-ups go through send.

// sendMessage frames m for connIDs and sends it through the transport;
// with callers of both kinds the message is sent twice, once per kind.
func (h *Host) sendMessage(sender string, connIDs []string, m message.Message) error {
	classic, browsers := h.ws.split(connIDs)
	// Browsers on other phone lines, as their hosts report them.
	classic, remote := h.remoteBrowsers(classic)
	browsers = append(browsers, remote...)
	var errs []error
	if len(classic) > 0 {
		errs = append(errs, h.sendVia(h.transport, sender, classic, h.classicFrame(m)))
	}
	if len(browsers) > 0 {
		errs = append(errs, h.sendVia(h.transport, sender, browsers, webSocketText(m)))
	}
	return errors.Join(errs...)
}

// classicFrame is m as the classic client reads it: base64(JSON)+NUL, or
// JSON+NUL with Config.RawFrames.
func (h *Host) classicFrame(m message.Message) []byte {
	if h.cfg.RawFrames {
		return append(m.AppendJSON(nil), 0)
	}
	return m2proto.AppendClientFrame(nil, m.AppendJSON(nil), false)
}

// webSocketText is m as one WebSocket text frame for a browser behind
// Mongrel2: its JSON, without control strings in its text and prompt
// (OSC such as a window title or a clipboard write, DCS, APC, PM, SOS,
// and C1 controls), as the built-in browser bridge and the telnet
// gateway send it; colour and cursor sequences pass.
func webSocketText(m message.Message) []byte {
	m.Text = termtext.StripStrings(m.Text)
	m.PromptChar = termtext.StripStrings(m.PromptChar)
	return m2proto.AppendWebSocketFrame(nil, m2proto.OpText, m.AppendJSON(nil))
}
