package session

import (
	"context"
	"log/slog"
)

// sessionHandler is a session's log handler: each record carries the
// session's conn_id and, once they logged in, user, and the session's
// secrets are hidden in it (redactingHandler).
//
// The attributes are added when a record is written, not when the session
// starts: slog's With formats them ahead into a copy of the handler, some
// 200 bytes that every parked caller would keep for log lines that are
// rarely written.
type sessionHandler struct {
	base slog.Handler
	s    *Session
}

// sessionLogger returns s's logger, over base.
func sessionLogger(base *slog.Logger, s *Session) *slog.Logger {
	return slog.New(&sessionHandler{base: base.Handler(), s: s})
}

// handler is the handler a record of the session goes to now.
func (h *sessionHandler) handler() slog.Handler {
	attrs := []slog.Attr{slog.String("conn_id", h.s.connID)}
	if h.s.user != "" {
		attrs = append(attrs, slog.String("user", h.s.user))
	}
	return &redactingHandler{inner: h.base.WithAttrs(attrs), secrets: &h.s.secrets}
}

func (h *sessionHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.base.Enabled(ctx, level)
}

func (h *sessionHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.handler().Handle(ctx, r)
}

func (h *sessionHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return h.handler().WithAttrs(attrs)
}

func (h *sessionHandler) WithGroup(name string) slog.Handler {
	return h.handler().WithGroup(name)
}
