package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/handler/dispatch"
	"github.com/m2bbs/m2bbs/host/handler/files"
	"github.com/m2bbs/m2bbs/host/handler/lines"
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
		lines     int
		callers   int
		layout    = defaultLayout
	)
	s, err := parseSettings("m2conf", args, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&port, "port", mongrel2.DefaultPort, "TCP port callers connect to")
		fs.BoolVar(&listenAll, "listen-all", false, "accept callers on all interfaces, not only 127.0.0.1")
		fs.StringVar(&route, "route", mongrel2.DefaultRoute, "JSON-socket route of the BBS")
		fs.StringVar(&protocol, "protocol", mongrel2.ProtocolJSON, "handler protocol: json or tnetstring")
		fs.IntVar(&callers, "callers", 0, fmt.Sprintf("callers Mongrel2 must hold at once, at most %d: sizes its superpoll settings and the open-file limit it needs (0: -max-callers, else %d)", mongrel2.MaxCallers, dispatch.DefaultMaxCallers))
		fs.StringVar(&layout.host, "handler-host", layout.host, "with -lines: the address Mongrel2 binds the lines' handler ports on (0.0.0.0, or this machine's address on the network, for hosts on other machines)")
		fs.IntVar(&layout.base, "line-ports", layout.base, "with -lines: the directory handler's first port; line N's are this+2N and this+2N+1")
		fs.IntVar(&lines, "lines", 0, fmt.Sprintf("phone lines: one handler per line (@bbs.1..@bbs.N, ports from %d) plus the /lines directory (0: one @bbs handler)", linePortBase))
	})
	if err != nil {
		return err
	}
	if lines < 0 || lines > maxLines {
		return fmt.Errorf("m2conf: -lines %d outside 0..%d", lines, maxLines)
	}
	if err := checkListenAll("m2conf", listenAll, s.SysopToken); err != nil {
		return err
	}
	if listenAll && len(s.wsOrigins) == 0 {
		// m2bbs host cannot tell that this Mongrel2 is public: pages under
		// a name (not localhost, not an IP address) need it listed.
		fmt.Fprintf(stderr, "m2conf: browsers that reach the board by a name need it in ws_origins (config.lua) or -ws-origins of m2bbs host, e.g. ws_origins = 'bbs.example.org:%d'\n", port)
	}
	cfg := mongrel2.Config{
		Port:       port,
		ListenAll:  listenAll,
		Route:      route,
		SenderID:   s.SenderID,
		SendSpec:   s.SendSpec,
		RecvSpec:   s.RecvSpec,
		Protocol:   protocol,
		HTTPRoutes: []string{dispatch.StatusPath, files.LinksPath},
		MinPing:    frontEndIdle(s.IdleTimeout),
		Callers:    mongrel2Callers(callers, s.MaxCallers),
		// Browsers: the page on "/" (written into CHROOT/web by "m2bbs
		// webroot"), its WebSocket on /ws.
		WebRoot:        "web",
		WebSocketPaths: []string{dispatch.WebSocketPath(0)},
	}
	if lines > 0 {
		if err := layout.check(); err != nil {
			return fmt.Errorf("m2conf: %w", err)
		}
		cfg = linesConfigAt(cfg, lines, layout)
		if send, _ := layout.specs(0); remoteSpec(send) || layout.host == "0.0.0.0" || layout.host == "::" {
			fmt.Fprintf(stderr, "m2conf: the handler ports on %s (%d..%d) carry every caller's lines and the board's replies, neither authenticated nor encrypted: open them only to the hosts' machines (a private network, a firewall)\n",
				layout.host, layout.base, layout.base+2*lines+1)
		}
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	_, err = os.Stdout.Write(mongrel2.Render(cfg))
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	fmt.Fprintf(stderr, "m2conf: sized for %d callers: start Mongrel2 with an open-file limit of %d or more (ulimit -n, or LimitNOFILE= in its systemd unit)\n",
		cfg.Tuning().Callers, cfg.Tuning().MaxFD)
	return nil
}

// mongrel2Callers is the number of callers to size Mongrel2 for: the
// -callers flag if set, else the host's -max-callers (the host's default
// if that is unset too).
func mongrel2Callers(flagged, maxCallers int) int {
	switch {
	case flagged > 0:
		return flagged
	case maxCallers > 0:
		return min(maxCallers, mongrel2.MaxCallers)
	}
	return dispatch.DefaultMaxCallers
}

// linesConfig turns cfg into the configuration of n phone lines: line 1 is
// the main handler (routes @bbs.1 and @bbs, WebSockets on /ws/1 and /ws),
// lines 2..n (@bbs.N, /ws/N) and the directory (routes /lines and
// /status, connected to by every host) follow, each on the ports
// lineSpecs gives; the static web root web/ (under the chroot) is served
// on "/". WebSocket routes are exact, so /ws/1 never takes /ws/10.
func linesConfig(cfg mongrel2.Config, n int) mongrel2.Config {
	return linesConfigAt(cfg, n, defaultLayout)
}

// linesConfigAt is linesConfig with the handlers' ports where layout puts
// them.
func linesConfigAt(cfg mongrel2.Config, n int, layout lineLayout) mongrel2.Config {
	cfg.Route = lines.Route(1)
	cfg.ExtraRoutes = []string{mongrel2.DefaultRoute}
	cfg.WebSocketPaths = []string{dispatch.WebSocketPath(1), dispatch.WebSocketPath(0)}
	cfg.HTTPRoutes = nil
	cfg.SenderID = lineSenderID(1)
	cfg.SendSpec, cfg.RecvSpec = layout.specs(1)
	cfg.Handlers = nil
	for i := 2; i <= n; i++ {
		send, recv := layout.specs(i)
		cfg.Handlers = append(cfg.Handlers, mongrel2.Handler{
			Name: fmt.Sprintf("line%d", i), SenderID: lineSenderID(i), SendSpec: send, RecvSpec: recv,
			Routes: []string{lines.Route(i)}, WebSocketPaths: []string{dispatch.WebSocketPath(i)},
		})
	}
	send, recv := layout.specs(0)
	cfg.Handlers = append(cfg.Handlers, mongrel2.Handler{
		Name: "directory", SenderID: lineSenderID(0), SendSpec: send, RecvSpec: recv,
		Routes: []string{lines.Path, dispatch.StatusPath, files.LinksPath},
	})
	cfg.WebRoot = "web"
	return cfg
}

// runWebroot is "m2bbs webroot DIR": the browser page's files, written
// into DIR (replacing what is there) for a Mongrel2 Dir route such as the
// one m2conf -lines writes on "/" (DIR is then CHROOT/web).
func runWebroot(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("m2bbs webroot", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("webroot: usage: m2bbs webroot DIR")
	}
	if err := writeWebRoot(fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "the browser page is in %s\n", fs.Arg(0))
	return nil
}

// warnFileLimit logs when the open-file limit gave the Mongrel2 just
// started room for fewer callers than wanted.
func warnFileLimit(log *slog.Logger, wanted int, got mongrel2.Tuning) {
	if got.Callers >= wanted {
		return
	}
	log.Warn("the open-file limit leaves Mongrel2 room for fewer callers than -max-callers: past them its replies stall",
		"room_for", got.Callers, "max_callers", wanted,
		"limit", got.MaxFD, "needed", mongrel2.FileLimitFor(wanted), "fix", "ulimit -n, or LimitNOFILE= in the systemd unit")
}
