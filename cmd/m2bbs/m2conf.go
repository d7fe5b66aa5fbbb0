package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/m2bbs/m2bbs/host"
	"github.com/m2bbs/m2bbs/host/mongrel2"
)

// runM2conf is "m2bbs m2conf": print a Mongrel2 configuration for the
// handler settings given (the same flags and config.lua as "m2bbs host"),
// ready for `m2sh load -config m2.conf`.
func runM2conf(ctx context.Context, args []string, stderr io.Writer) error {
	var (
		port      int
		listenAll bool
		route     string
		protocol  string
	)
	s, err := parseSettings("m2conf", args, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&port, "port", mongrel2.DefaultPort, "TCP port callers connect to")
		fs.BoolVar(&listenAll, "listen-all", false, "accept callers on all interfaces, not only 127.0.0.1")
		fs.StringVar(&route, "route", mongrel2.DefaultRoute, "JSON-socket route of the BBS")
		fs.StringVar(&protocol, "protocol", mongrel2.ProtocolJSON, "handler protocol: json or tnetstring")
	})
	if err != nil {
		return err
	}
	cfg := mongrel2.Config{
		Port:       port,
		ListenAll:  listenAll,
		Route:      route,
		SenderID:   s.SenderID,
		SendSpec:   s.SendSpec,
		RecvSpec:   s.RecvSpec,
		Protocol:   protocol,
		HTTPRoutes: []string{host.StatusPath},
		MinPing:    frontEndIdle(s.IdleTimeout),
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	_, err = os.Stdout.Write(mongrel2.Render(cfg))
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}
