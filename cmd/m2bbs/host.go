package main

import (
	"context"
	"flag"
	"io"
)

// runHost is "m2bbs host": the handler alone, connecting to a Mongrel2
// configured with the same send_spec and recv_spec.
func runHost(ctx context.Context, args []string, stderr io.Writer) error {
	var lo lineOptions
	var pidFile, localDir string
	s, err := parseSettings("host", args, stderr, func(fs *flag.FlagSet) {
		lo.flags(fs)
		fs.StringVar(&localDir, "data", pgLocalDir, "with -db postgres://…: the folder of this host's own files (handler lock, doors' folders, FTN)")
		fs.StringVar(&pidFile, "mongrel2-pidfile", "", "Mongrel2's pid file (its run/mongrel2.pid): journals of calls older than Mongrel2's start are dropped, at start and when Mongrel2 goes (default: config.lua's mongrel2_pidfile)")
	})
	if err != nil {
		return err
	}
	lo.apply(s)
	s.localDir = localDir
	if pidFile != "" {
		s.Mongrel2PIDFile = pidFile
	}
	if err := applyLineDefaults(s); err != nil {
		return err
	}
	reserveHashProcs(s, 1)
	return serve(ctx, s, nil, s.logger(stderr), nil)
}
