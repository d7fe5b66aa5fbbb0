package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/m2bbs/m2bbs/host/mongrel2"
)

// mongrel2StartTimeout bounds Mongrel2's start-up.
const mongrel2StartTimeout = 30 * time.Second

// runRun is "m2bbs run": Mongrel2 with a generated configuration plus the
// host, the BBS ready for callers.
func runRun(ctx context.Context, args []string, stderr io.Writer) error {
	var (
		port      int
		listenAll bool
		dataDir   string
	)
	s, err := parseSettings("run", args, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&port, "port", mongrel2.DefaultPort, "TCP port callers connect to")
		fs.BoolVar(&listenAll, "listen-all", false, "accept callers on all interfaces, not only 127.0.0.1")
		fs.StringVar(&dataDir, "data", "data", "folder for Mongrel2's run files (data/mongrel2)")
	})
	if err != nil {
		return err
	}
	log := s.logger(stderr)

	startCtx, cancel := context.WithTimeout(ctx, mongrel2StartTimeout)
	defer cancel()
	m2dir, err := filepath.Abs(filepath.Join(dataDir, "mongrel2"))
	if err != nil {
		return err
	}
	// The host and Mongrel2 meet on free loopback ports picked by Start.
	server, err := mongrel2.Start(startCtx, mongrel2.Config{
		Dir:        m2dir,
		Port:       port,
		ListenAll:  listenAll,
		SenderID:   s.SenderID,
		HTTPRoutes: []string{"/status"},
	})
	if err != nil {
		return fmt.Errorf("start mongrel2: %w", err)
	}
	defer server.Stop()
	log.Info("mongrel2 started", "pid", server.PID, "dir", m2dir, "callers", server.Addr())
	s.SendSpec, s.RecvSpec = server.Cfg.SendSpec, server.Cfg.RecvSpec

	hostCtx, stopHost := context.WithCancel(ctx)
	defer stopHost()
	go func() {
		// If Mongrel2 dies, there is no BBS: stop the host too.
		select {
		case <-server.Done():
			log.Error("mongrel2 exited")
			stopHost()
		case <-hostCtx.Done():
		}
	}()
	err = serve(hostCtx, s, log, func() {
		fmt.Fprintf(stderr, "m2bbs is ready: python3 cmd/classic-client/client.py %s %d\n", "127.0.0.1", server.Cfg.Port)
	})
	select {
	case <-server.Done():
		if ctx.Err() == nil {
			return errors.Join(err, errors.New("mongrel2 exited unexpectedly"))
		}
	default:
	}
	return err
}
