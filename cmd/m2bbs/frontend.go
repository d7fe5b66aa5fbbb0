package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/m2bbs/m2bbs/host/gateway/frontend"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/handler/config"
	"github.com/m2bbs/m2bbs/host/handler/dispatch"
	"github.com/m2bbs/m2bbs/host/handler/files"
)

// runFrontend is "m2bbs frontend": the built-in front end alone, binding
// the handler's ZeroMQ addresses as Mongrel2 would, for a host (or any
// handler) in another process.
func runFrontend(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("m2bbs frontend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", fmt.Sprintf("127.0.0.1:%d", mongrel2.DefaultPort), "TCP address callers connect to")
	sendSpec := fs.String("send-spec", config.Defaults.SendSpec, "where requests go to the handler (bound, PUSH)")
	recvSpec := fs.String("recv-spec", config.Defaults.RecvSpec, "where replies come from the handler (bound, SUB)")
	senderID := fs.String("sender-id", config.Defaults.SenderID, "send_ident: the first word of every request")
	protocol := fs.String("protocol", frontend.ProtocolJSON, "handler protocol: json or tnetstring")
	maxConns := fs.Int("max-conns", 0, fmt.Sprintf("callers connected at most (0: %d)", frontend.DefaultMaxConns))
	level := slog.LevelInfo
	fs.TextVar(&level, "log-level", level, "log level: DEBUG, INFO, WARN or ERROR")
	var limits abuseLimits
	limits.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("frontend: unexpected arguments %q", fs.Args())
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	handler := &frontend.Handler{SendSpec: *sendSpec, RecvSpec: *recvSpec, SendIdent: *senderID, Protocol: *protocol}
	fe, err := frontend.Listen(frontend.Config{
		Addr: *addr,
		Routes: []frontend.Route{
			{Pattern: mongrel2.DefaultRoute, Handler: handler},
			{Pattern: dispatch.StatusPath, Handler: handler},
			{Pattern: files.LinksPath, Handler: handler},
		},
		Limits: limits.frontend(frontend.Limits{MaxConns: *maxConns}),
		Log:    log,
	})
	if err != nil {
		return fmt.Errorf("front end: %w", err)
	}
	log.Info("front end listening", "addr", fe.Addr().String(), "send_spec", *sendSpec, "recv_spec", *recvSpec)
	return fe.Serve(ctx)
}
