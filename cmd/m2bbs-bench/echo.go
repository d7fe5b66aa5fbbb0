package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/m2bbs/m2bbs/cmd/internal/command"
	"github.com/m2bbs/m2bbs/cmd/m2bbs-bench/internal/echo"
	"github.com/m2bbs/m2bbs/host/handler/config"
	"github.com/m2bbs/m2bbs/host/wire/zmqtransport"
)

// runEcho is "m2bbs-bench echo": the transport floor of the bench, a
// handler that answers every line with a prompt repeating it (package
// echo). It connects to a front end as "m2bbs host" does.
func runEcho(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("m2bbs-bench echo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sendSpec := fs.String("send-spec", config.Defaults.SendSpec, "the front end's send_spec: where requests are PULLed from")
	recvSpec := fs.String("recv-spec", config.Defaults.RecvSpec, "the front end's recv_spec: where replies are PUBlished")
	senderID := fs.String("sender-id", config.Defaults.SenderID, "handler sender id (the PULL socket's identity)")
	raw := fs.Bool("raw", false, "send raw JSON + NUL instead of base64 + NUL")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file (written at shutdown)")
	level := slog.LevelInfo
	fs.TextVar(&level, "log-level", level, "log level: DEBUG, INFO, WARN or ERROR")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("echo: unexpected arguments %q", fs.Args())
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	if *cpuProfile != "" {
		stop, err := command.StartCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop(log)
	}
	t, err := zmqtransport.DialHandler(zmqtransport.HandlerConfig{
		SendSpec: *sendSpec, RecvSpec: *recvSpec, Identity: *senderID, Log: log,
	})
	if err != nil {
		return fmt.Errorf("connect to front end: %w", err)
	}
	h := echo.New(t, *raw, log)
	select {
	case <-t.Subscribed():
		log.Info("echo ready", "send_spec", *sendSpec, "recv_spec", *recvSpec, "sender_id", *senderID)
	case <-ctx.Done():
	}
	runErr := h.Run(ctx)
	return errors.Join(runErr, t.Close())
}
