package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/pebbe/zmq4"

	"github.com/m2bbs/m2bbs/host/gateway/frontend"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/gateway/web"
	"github.com/m2bbs/m2bbs/host/handler/dispatch"
	"github.com/m2bbs/m2bbs/host/handler/files"
	"github.com/m2bbs/m2bbs/host/handler/lines"
	"github.com/m2bbs/m2bbs/host/handler/session"
	"github.com/m2bbs/m2bbs/host/handler/throttle"
	"github.com/m2bbs/m2bbs/host/shared/keylogin"
)

// mongrel2StartTimeout bounds Mongrel2's start-up.
const mongrel2StartTimeout = 30 * time.Second

// Inproc addresses joining the built-in front end and the host in one
// process.
const (
	inprocSendSpec = "inproc://m2bbs-requests"
	inprocRecvSpec = "inproc://m2bbs-replies"
)

// runOptions are the flags of "m2bbs run" beyond the shared settings.
type runOptions struct {
	port        int
	listenAll   bool
	dataDir     string
	useMongrel2 bool
	// lines is the number of phone lines, each a host in this process (0:
	// one host on @bbs).
	lines    int
	gateways gatewayOptions
	limits   abuseLimits
}

// runRun is "m2bbs run": the BBS in one command. By default the built-in
// front end and the host share the process; -mongrel2 starts a real
// Mongrel2 with a generated configuration instead.
func runRun(ctx context.Context, args []string, stderr io.Writer) error {
	var opt runOptions
	s, err := parseSettings("run", args, stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&opt.port, "port", mongrel2.DefaultPort, "TCP port callers connect to")
		fs.BoolVar(&opt.listenAll, "listen-all", false, "accept callers on all interfaces, not only 127.0.0.1")
		fs.StringVar(&opt.dataDir, "data", "data", "folder for run files (Mongrel2's go in DATA/mongrel2)")
		fs.BoolVar(&opt.useMongrel2, "mongrel2", false, "front the host with a real Mongrel2 instead of the built-in front end")
		fs.IntVar(&opt.lines, "lines", 0, "phone lines: N hosts in this process on routes @bbs.1..@bbs.N (@bbs is line 1), with the /lines directory")
		fs.IntVar(&opt.gateways.webPort, "web-port", defaultWebPort, "port of the browser terminal page and its WebSockets (0: any free port, -1: off)")
		fs.IntVar(&opt.gateways.telnetPort, "telnet-port", defaultTelnetPort, "port of the telnet gateway (0: any free port, -1: off)")
		fs.IntVar(&opt.gateways.sshPort, "ssh-port", defaultSSHPort, "port of the SSH gateway (0: any free port, -1: off); its host keys are kept in -data")
		fs.IntVar(&opt.gateways.rlogin.port, "rlogin-port", -1, "port of the RLogin gateway, serving doors to the boards in rlogin_boards (0: any free port, -1: off)")
		fs.IntVar(&opt.gateways.rlogin.perAddr, "rlogin-per-addr", defaultRLoginPerAddr, "RLogin calls one address (a remote board) may have open at once")
		opt.limits.register(fs)
	})
	if err != nil {
		return err
	}
	if opt.lines < 0 || opt.lines > maxLines {
		return fmt.Errorf("run: -lines %d outside 0..%d", opt.lines, maxLines)
	}
	if err := checkListenAll("run", opt.listenAll, s.SysopToken); err != nil {
		return err
	}
	opt.gateways.limits = &opt.limits
	// The SSH gateway vouches for key logins with a key that lives in this
	// process's memory only; the hosts it runs check them.
	loginKey := keylogin.NewKey()
	s.keyLogins = keylogin.NewVerifier(loginKey)
	opt.gateways.ssh = sshOptions{dataDir: opt.dataDir, dbPath: s.DBPath, bcryptCost: s.BcryptCost,
		logins: throttle.Policy{FreePerAddr: s.LoginsPerAddress}, loginKey: loginKey}
	if opt.gateways.rlogin.port >= 0 {
		// The RLogin gateway vouches for remote boards' callers with a
		// key of its own, in this process's memory only.
		boards, entries, err := rloginBoards(s)
		if err != nil {
			return err
		}
		opt.gateways.rlogin.boards, opt.gateways.rlogin.key = boards, keylogin.NewKey()
		s.remoteCallers, s.remoteEntries = keylogin.NewVerifier(opt.gateways.rlogin.key), entries
	}
	s.listenAll = opt.listenAll
	s.localDir = opt.dataDir
	opt.gateways.origins = s.origins()
	log := s.logger(stderr)
	// The front end (built in, or the Mongrel2 started here) begins with
	// this process: no call of an earlier run is still connected, so
	// every journal goes before it listens.
	if err := dropAllJournals(ctx, s.DBPath, s.BcryptCost, log); err != nil {
		return err
	}
	if opt.useMongrel2 {
		return runWithMongrel2(ctx, s, opt, log, stderr)
	}
	return runBuiltIn(ctx, s, opt, log, stderr)
}

// frontEndIdle is how long a front end keeps a silent connection: a
// minute longer than the host keeps an idle session, so that the caller
// hears why they were cut off.
func frontEndIdle(sessionIdle time.Duration) time.Duration {
	if sessionIdle <= 0 {
		sessionIdle = session.DefaultIdleTimeout
	}
	return sessionIdle + time.Minute
}

// announce tells the person at the keyboard how to call the board.
func announce(w io.Writer, port int, gw *gateways) func() {
	return func() {
		fmt.Fprintf(w, "m2bbs is ready on port %d: call it with  bin/m2bbs client 127.0.0.1 %d  or  python3 cmd/classic-client/client.py 127.0.0.1 %d%s\n", port, port, port, gw.where())
	}
}

// runBuiltIn serves callers with the built-in front end, joined to the host
// over inproc ZeroMQ sockets.
func runBuiltIn(ctx context.Context, s *settings, opt runOptions, log *slog.Logger, stderr io.Writer) error {
	zctx, err := zmq4.NewContext()
	if err != nil {
		return fmt.Errorf("zeromq: %w", err)
	}
	handler := &frontend.Handler{SendSpec: inprocSendSpec, RecvSpec: inprocRecvSpec, SendIdent: s.SenderID}
	routes := []frontend.Route{
		{Pattern: mongrel2.DefaultRoute, Handler: handler},
		{Pattern: dispatch.StatusPath, Handler: handler},
		{Pattern: files.LinksPath, Handler: handler},
	}
	var lineHandlers []*frontend.Handler
	if opt.lines > 0 {
		// Line 1 also takes @bbs, /status and /lines: in one process the
		// lines live and die together.
		for i := 1; i <= opt.lines; i++ {
			send, recv := inprocLineSpecs(i)
			lineHandlers = append(lineHandlers, &frontend.Handler{SendSpec: send, RecvSpec: recv, SendIdent: lineSenderID(i)})
		}
		routes = []frontend.Route{
			{Pattern: mongrel2.DefaultRoute, Handler: lineHandlers[0]},
			{Pattern: dispatch.StatusPath, Handler: lineHandlers[0]},
			{Pattern: files.LinksPath, Handler: lineHandlers[0]},
			{Pattern: lines.Path, Handler: lineHandlers[0]},
		}
		for i, h := range lineHandlers {
			routes = append(routes, frontend.Route{Pattern: lines.Route(i + 1), Handler: h})
		}
	}
	bind := "127.0.0.1"
	if opt.listenAll {
		bind = "0.0.0.0"
	}
	fe, err := frontend.Listen(frontend.Config{
		Addr:   net.JoinHostPort(bind, strconv.Itoa(opt.port)),
		Routes: routes,
		// The host ends idle sessions itself; the front end only drops
		// connections that outlive them (half-open ones).
		Limits:  opt.limits.frontend(frontend.Limits{IdleTimeout: frontEndIdle(s.IdleTimeout)}),
		Context: zctx,
		Log:     log,
	})
	if err != nil {
		_ = zctx.Term()
		return fmt.Errorf("front end: %w", err)
	}
	port := fe.Addr().(*net.TCPAddr).Port
	log.Info("front end listening", "addr", fe.Addr().String())

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	feDone := make(chan error, 1)
	go func() { feDone <- fe.Serve(ctx) }()
	boardURL := &url.URL{Scheme: "http", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	opt.gateways.lines = opt.lines
	gw := startGateways(ctx, opt.gateways, bind, boardURL, s.RawFrames, web.PipeDial(fe.ServeConn), log)
	defer gw.wait()

	reserveHashProcs(s, max(opt.lines, 1))
	var hostErr error
	if opt.lines > 0 {
		hosts := newLineHosts()
		s.onHost = hosts.add
		s.drain = func(ctx context.Context, line, to int) (int, error) {
			return drainLine(ctx, fe, hosts, opt.lines, line, to)
		}
		hostErr = serveLines(ctx, s, opt.lines, inprocLineSpecs, zctx, log, announce(stderr, port, gw))
	} else {
		s.SendSpec, s.RecvSpec = inprocSendSpec, inprocRecvSpec
		hostErr = serve(ctx, s, zctx, log, announce(stderr, port, gw))
	}
	cancel()
	feErr := <-feDone
	// Every socket is closed now; Term cannot block.
	termErr := zctx.Term()
	return errors.Join(hostErr, feErr, termErr)
}

// runWithMongrel2 starts Mongrel2 in DATA/mongrel2 with the host behind it
// on free loopback ports.
func runWithMongrel2(ctx context.Context, s *settings, opt runOptions, log *slog.Logger, stderr io.Writer) error {
	startCtx, cancel := context.WithTimeout(ctx, mongrel2StartTimeout)
	defer cancel()
	m2dir, err := filepath.Abs(filepath.Join(opt.dataDir, "mongrel2"))
	if err != nil {
		return err
	}
	m2cfg := mongrel2.Config{
		Dir:        m2dir,
		Port:       opt.port,
		ListenAll:  opt.listenAll,
		SenderID:   s.SenderID,
		HTTPRoutes: []string{dispatch.StatusPath, files.LinksPath},
		MinPing:    frontEndIdle(s.IdleTimeout),
		Callers:    mongrel2Callers(0, s.MaxCallers),
		// The browser page: Mongrel2 serves its files from DATA/mongrel2/web
		// and passes its WebSockets to the host.
		WebRoot:        "web",
		WebSocketPaths: []string{dispatch.WebSocketPath(0)},
	}
	if err := writeWebRoot(filepath.Join(m2dir, "web")); err != nil {
		return err
	}
	if opt.lines > 0 {
		// Free ports instead of the fixed ones m2conf writes.
		m2cfg = linesConfig(m2cfg, opt.lines)
		m2cfg.SendSpec, m2cfg.RecvSpec = "", ""
		for i := range m2cfg.Handlers {
			m2cfg.Handlers[i].SendSpec, m2cfg.Handlers[i].RecvSpec = "", ""
		}
	}
	server, err := mongrel2.Start(startCtx, m2cfg)
	if err != nil {
		return fmt.Errorf("start mongrel2: %w", err)
	}
	defer server.Stop()
	log.Info("mongrel2 started", "pid", server.PID, "dir", m2dir, "callers", server.Addr())
	warnFileLimit(log, m2cfg.Callers, server.Cfg.Tuning())
	s.Mongrel2PIDFile = server.PIDFile()
	s.SendSpec, s.RecvSpec = server.Cfg.SendSpec, server.Cfg.RecvSpec

	hostCtx, stopHost := context.WithCancel(ctx)
	defer stopHost()
	// Telnet callers reach Mongrel2 like any classic caller; the page is
	// Mongrel2's own.
	bind := "127.0.0.1"
	if opt.listenAll {
		bind = "0.0.0.0"
	}
	s.gatewayKey = newGatewayKey() // the telnet gateway tells the host its callers' addresses
	gw := startGateways(hostCtx, gatewayOptions{webPort: -1, telnetPort: opt.gateways.telnetPort, sshPort: opt.gateways.sshPort, ssh: opt.gateways.ssh,
		lines: opt.lines, peerKey: s.gatewayKey, limits: &opt.limits, rlogin: opt.gateways.rlogin}, bind, nil,
		s.RawFrames, tcpDialer(server.Addr()), log)
	defer gw.wait()
	gw.webAddr = server.Addr()
	go func() {
		// Without Mongrel2 there is no BBS: stop the host too.
		select {
		case <-server.Done():
			log.Error("mongrel2 exited")
			stopHost()
		case <-hostCtx.Done():
		}
	}()
	reserveHashProcs(s, max(opt.lines, 1))
	if opt.lines > 0 {
		hs := server.Cfg.Handlers
		dir := hs[len(hs)-1]
		s.directorySendSpec, s.directoryRecvSpec = dir.SendSpec, dir.RecvSpec
		err = serveLines(hostCtx, s, opt.lines, func(i int) (string, string) {
			if i == 1 {
				return server.Cfg.SendSpec, server.Cfg.RecvSpec
			}
			return hs[i-2].SendSpec, hs[i-2].RecvSpec
		}, nil, log, announce(stderr, server.Cfg.Port, gw))
	} else {
		err = serve(hostCtx, s, nil, log, announce(stderr, server.Cfg.Port, gw))
	}
	select {
	case <-server.Done():
		if ctx.Err() == nil {
			return errors.Join(err, errors.New("mongrel2 exited unexpectedly"))
		}
	default:
	}
	return err
}

// inprocLineSpecs are line n's inproc addresses in "m2bbs run -lines".
func inprocLineSpecs(n int) (send, recv string) {
	return fmt.Sprintf("inproc://m2bbs-line-%d-requests", n), fmt.Sprintf("inproc://m2bbs-line-%d-replies", n)
}

// serveLines runs n hosts, lines 1..n, in this process, line i on the
// addresses specs(i), until ctx is done or one of them fails (which stops
// the others). ready is called once every line is ready.
func serveLines(ctx context.Context, s *settings, n int, specs func(int) (string, string), zctx *zmq4.Context, log *slog.Logger, ready func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, n)
	readies := make(chan struct{}, n)
	for i := 1; i <= n; i++ {
		ls := *s
		ls.line = i
		ls.SenderID = lineSenderID(i)
		ls.SendSpec, ls.RecvSpec = specs(i)
		ls.cpuProfile = ""
		go func() {
			err := serve(ctx, &ls, zctx, log.With("line", i), func() { readies <- struct{}{} })
			if err != nil {
				err = fmt.Errorf("line %d: %w", i, err)
			}
			cancel()
			errs <- err
		}()
	}
	go func() {
		for range n {
			select {
			case <-readies:
			case <-ctx.Done():
				return
			}
		}
		if ready != nil {
			ready()
		}
	}()
	var all []error
	for range n {
		all = append(all, <-errs)
	}
	return errors.Join(all...)
}

// lineHosts are the hosts of "m2bbs run -lines N", by line.
type lineHosts struct {
	mu    sync.Mutex
	hosts map[int]*dispatch.Host

	drainMu sync.Mutex // one drain at a time (drainLine)
}

func newLineHosts() *lineHosts { return &lineHosts{hosts: map[int]*dispatch.Host{}} }

func (l *lineHosts) add(line int, h *dispatch.Host) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.hosts[line] = h
}

func (l *lineHosts) get(line int) *dispatch.Host {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.hosts[line]
}

// drainLine moves line's callers to line to (dispatch.Drain): every route
// that leads to line's handler now goes to line to's.
func drainLine(ctx context.Context, fe *frontend.Server, hosts *lineHosts, n, line, to int) (int, error) {
	if line < 1 || line > n || to < 1 || to > n || line == to {
		return 0, fmt.Errorf("drain: lines are 1..%d, and a line is drained onto another", n)
	}
	src, dst := hosts.get(line), hosts.get(to)
	if src == nil || dst == nil {
		return 0, fmt.Errorf("drain: line %d or %d has no host", line, to)
	}
	hosts.drainMu.Lock()
	defer hosts.drainMu.Unlock()
	return dispatch.Drain(ctx, fe, src, dst)
}

// writeWebRoot writes the browser page's files into dir, for Mongrel2's
// Dir route.
func writeWebRoot(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("web root: %w", err)
	}
	if err := os.CopyFS(dir, web.Files()); err != nil {
		return fmt.Errorf("web root: %w", err)
	}
	return nil
}
