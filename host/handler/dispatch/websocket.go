package dispatch

import "github.com/m2bbs/m2bbs/host/wire/websocket"

// WebSocketPath is the URL path browsers open a WebSocket on: "/ws/N" for
// line n, "/ws" for n < 1 (websocket.Path).
func WebSocketPath(n int) string { return websocket.Path(n) }

// newWebSocketLayer returns the layer that speaks RFC 6455 to the
// browsers behind Mongrel2 for the host: it sends through the host's
// transport and routes what browsers type as JSON-socket requests.
func (h *Host) newWebSocketLayer() *websocket.Layer {
	return websocket.New(websocket.Config{
		Origins: h.cfg.WebSocketOrigins,
		Send: func(sender string, connIDs []string, body []byte) error {
			return h.sendVia(h.transport, sender, connIDs, body)
		},
		Route: h.route,
		Online: func(connID string) bool {
			h.mu.Lock()
			defer h.mu.Unlock()
			return h.owners[connID] != nil
		},
		Refused:   func() { h.unsupported.Add(1) },
		RawFrames: h.cfg.RawFrames,
		Log:       h.log,
	})
}
