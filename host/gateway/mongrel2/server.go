// Package mongrel2 runs a real Mongrel2 1.12 (Debian's mongrel2-core) for
// m2bbs: it renders an m2.conf with one JSON-socket route to one ZeroMQ
// handler, loads it with m2sh, starts the server in the foreground as a
// child process, waits until callers can connect, and stops it by PID.
//
// It is used by `m2bbs run` and by end-to-end tests. It knows nothing of
// the messages themselves; the handler side lives elsewhere.
package mongrel2

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/m2bbs/m2bbs/host/shared/freeport"
	_ "github.com/mattn/go-sqlite3" // to set raw_payload in config.sqlite
)

// Limits on waiting for Mongrel2.
const (
	// StartTimeout bounds how long Start waits for the caller port.
	StartTimeout = 15 * time.Second
	// StopTimeout bounds each of Stop's waits: after SIGTERM, then after
	// SIGKILL.
	StopTimeout = 5 * time.Second
	// pollInterval is how often Start probes the caller port: the port
	// accepting connections is Mongrel2's only readiness signal.
	pollInterval = 20 * time.Millisecond
	// logTailLines is how much of each log an error quotes.
	logTailLines = 15
)

// Errors callers can test with errors.Is.
var (
	// ErrNotInstalled means m2sh or mongrel2 is not on PATH.
	ErrNotInstalled = errors.New("mongrel2 not installed")
	// ErrPortInUse means the caller port is taken before start.
	ErrPortInUse = errors.New("port in use")
	// ErrAlreadyRunning means run/mongrel2.pid names a live process.
	ErrAlreadyRunning = errors.New("mongrel2 already running")
	// ErrStartFailed means Mongrel2 exited or never opened its port.
	ErrStartFailed = errors.New("mongrel2 did not start")
)

// Files and folders under Config.Dir.
const (
	confFile  = "m2.conf"
	dbFile    = "config.sqlite"
	pidFile   = "run/mongrel2.pid"
	errorLog  = "logs/error.log"
	m2shLog   = "logs/m2sh.log"
	startHost = "localhost"
)

// Available returns nil if m2sh and mongrel2 are on PATH, else an error
// wrapping ErrNotInstalled that names what is missing.
func Available() error {
	var missing []string
	for _, name := range []string{"m2sh", "mongrel2"} {
		if _, err := exec.LookPath(name); err != nil {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("mongrel2: %w: %s not on PATH (Debian package mongrel2-core; `make deps`)",
			ErrNotInstalled, strings.Join(missing, " and "))
	}
	return nil
}

// FreePort returns a TCP port that was free a moment ago (see
// freeport.Pick).
func FreePort() (int, error) {
	port, err := freeport.Pick()
	if err != nil {
		return 0, fmt.Errorf("mongrel2: %w", err)
	}
	return port, nil
}

// Server is a running Mongrel2. Stop it with Stop.
type Server struct {
	// Cfg is the configuration it runs, with ports and defaults filled in.
	Cfg Config
	// PID is the mongrel2 process, from run/mongrel2.pid.
	PID int

	m2sh     *exec.Cmd     // `m2sh start`, parent of sh, parent of mongrel2
	done     chan struct{} // closed when m2sh has exited
	waitErr  error         // m2sh's exit status, set before done closes
	stopOnce sync.Once
	stopErr  error
}

// Start writes cfg.Dir/m2.conf, loads it into cfg.Dir/config.sqlite and
// starts Mongrel2 there, filling a zero Port and empty specs with free
// ports and a zero FileLimit with this process's hard limit (the
// Server's Cfg.Tuning then says how many callers fit). It returns once the caller port accepts connections, or an error
// quoting the end of Mongrel2's logs. ctx bounds start-up only: the server
// runs until Stop.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	cfg, err := resolve(cfg)
	if err != nil {
		return nil, err
	}
	if err := prepareDir(cfg); err != nil {
		return nil, err
	}
	if err := checkPortsFree(cfg); err != nil {
		return nil, err
	}
	if err := load(ctx, cfg); err != nil {
		return nil, err
	}
	s := &Server{Cfg: cfg, done: make(chan struct{})}
	if err := s.spawn(); err != nil {
		return nil, err
	}
	if err := s.waitReady(ctx); err != nil {
		s.kill()
		return nil, err
	}
	return s, nil
}

// Addr is the caller address, "127.0.0.1:PORT".
func (s *Server) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Cfg.Port))
}

// Done is closed when Mongrel2 has exited, whether by Stop or not.
func (s *Server) Done() <-chan struct{} { return s.done }

// Stop ends Mongrel2: SIGTERM, then SIGKILL to its whole process group if
// it has not exited within StopTimeout. It returns once the process is
// gone. Calling it again returns the first result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.stopErr = s.stop()
		if s.stopErr == nil {
			s.removePIDFile()
		}
	})
	return s.stopErr
}

// removePIDFile removes the pid file of the stopped mongrel2, which it
// leaves behind when it is killed rather than let finish (a loaded machine
// can make its SIGTERM exit slower than m2sh's).
func (s *Server) removePIDFile() {
	path := filepath.Join(s.Cfg.Dir, pidFile)
	if pid, err := readPID(path); err == nil && pid == s.PID {
		_ = os.Remove(path)
	}
}

func (s *Server) stop() error {
	select {
	case <-s.done: // exited by itself: don't signal a PID that may be reused
		return s.reapOrphan()
	default:
	}
	if s.PID > 0 {
		_ = syscall.Kill(s.PID, syscall.SIGTERM)
	}
	select {
	case <-s.done:
	case <-time.After(StopTimeout):
		s.kill()
	}
	return s.reapOrphan()
}

// kill SIGKILLs m2sh's process group (m2sh, sh and mongrel2) and waits
// for m2sh to exit.
func (s *Server) kill() {
	_ = syscall.Kill(-s.m2sh.Process.Pid, syscall.SIGKILL)
	if s.PID > 0 {
		_ = syscall.Kill(s.PID, syscall.SIGKILL)
	}
	select {
	case <-s.done:
	case <-time.After(StopTimeout):
	}
}

// reapOrphan makes sure mongrel2 itself is gone once m2sh has exited: if
// m2sh died first, mongrel2 outlives it as an orphan.
func (s *Server) reapOrphan() error {
	select {
	case <-s.done:
	default:
		return fmt.Errorf("mongrel2: stop: m2sh (pid %d) still running after SIGKILL", s.m2sh.Process.Pid)
	}
	if s.PID <= 0 || !alive(s.PID) || !isMongrel2(s.PID) {
		return nil
	}
	_ = syscall.Kill(s.PID, syscall.SIGKILL)
	deadline := time.Now().Add(StopTimeout)
	for alive(s.PID) {
		if time.Now().After(deadline) {
			return fmt.Errorf("mongrel2: stop: pid %d still running after SIGKILL", s.PID)
		}
		time.Sleep(pollInterval)
	}
	return nil
}

// resolve validates cfg and fills defaults and free ports.
func resolve(cfg Config) (Config, error) {
	if cfg.Dir == "" {
		return cfg, fmt.Errorf("mongrel2: %w: Dir is empty", ErrBadConfig)
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return cfg, fmt.Errorf("mongrel2: dir: %w", err)
	}
	cfg.Dir = dir
	cfg.Handlers = append([]Handler(nil), cfg.Handlers...)
	if err := fillPorts(&cfg); err != nil {
		return cfg, err
	}
	cfg = cfg.withDefaults()
	if cfg.FileLimit == 0 {
		// Mongrel2 inherits this hard limit: ask it for no more.
		cfg.FileLimit = HardFileLimit()
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("mongrel2: %w", err)
	}
	if cfg.SendSpec == cfg.RecvSpec {
		return cfg, fmt.Errorf("mongrel2: %w: send and recv specs are both %s", ErrBadConfig, cfg.SendSpec)
	}
	return cfg, nil
}

// fillPorts gives cfg's zero Port and empty specs free ports, no two the
// same and none that another of its specs names.
func fillPorts(cfg *Config) error {
	var empty []*string
	var held []int
	specs := []*string{&cfg.SendSpec, &cfg.RecvSpec}
	for i := range cfg.Handlers {
		specs = append(specs, &cfg.Handlers[i].SendSpec, &cfg.Handlers[i].RecvSpec)
	}
	for _, spec := range specs {
		if *spec == "" {
			empty = append(empty, spec)
		} else if port, ok := specPort(*spec); ok {
			held = append(held, port)
		}
	}
	need := len(empty)
	if cfg.Port == 0 {
		need++
	} else {
		held = append(held, cfg.Port)
	}
	ports, err := freeport.PickN(need, held...)
	if err != nil {
		return fmt.Errorf("mongrel2: %w", err)
	}
	if cfg.Port == 0 {
		cfg.Port, ports = ports[0], ports[1:]
	}
	for i, spec := range empty {
		*spec = "tcp://127.0.0.1:" + strconv.Itoa(ports[i])
	}
	return nil
}

// specPort is the port of a tcp:// spec.
func specPort(spec string) (int, bool) {
	addr, ok := strings.CutPrefix(spec, "tcp://")
	if !ok {
		return 0, false
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(port)
	return n, err == nil
}

// prepareDir creates the chroot's folders, refuses to start over a live
// Mongrel2 and clears a stale pid file.
func prepareDir(cfg Config) error {
	for _, sub := range []string{"logs", "run", "tmp"} {
		if err := os.MkdirAll(filepath.Join(cfg.Dir, sub), 0o755); err != nil {
			return fmt.Errorf("mongrel2: dir: %w", err)
		}
	}
	pidPath := filepath.Join(cfg.Dir, pidFile)
	if pid, err := readPID(pidPath); err == nil {
		if alive(pid) {
			return fmt.Errorf("mongrel2: %w in %s with pid %d", ErrAlreadyRunning, cfg.Dir, pid)
		}
	}
	if err := os.Remove(pidPath); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("mongrel2: stale pid file: %w", err)
	}
	return nil
}

// checkPortsFree fails early with ErrPortInUse if the caller port or a
// tcp:// handler address is taken: otherwise Start could mistake whoever
// holds the caller port for Mongrel2, and Mongrel2 would retry a taken
// handler address forever instead of failing.
func checkPortsFree(cfg Config) error {
	addrs := []string{net.JoinHostPort(cfg.BindAddr(), strconv.Itoa(cfg.Port))}
	specs := []string{cfg.SendSpec, cfg.RecvSpec}
	for _, h := range cfg.Handlers {
		specs = append(specs, h.SendSpec, h.RecvSpec)
	}
	for _, spec := range specs {
		if addr, ok := strings.CutPrefix(spec, "tcp://"); ok {
			addrs = append(addrs, addr)
		}
	}
	for _, addr := range addrs {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("mongrel2: %w: %s: %v", ErrPortInUse, addr, err)
		}
		l.Close()
	}
	return nil
}

// load writes m2.conf and loads it into a fresh config.sqlite.
func load(ctx context.Context, cfg Config) error {
	if err := os.WriteFile(filepath.Join(cfg.Dir, confFile), Render(cfg), 0o644); err != nil {
		return fmt.Errorf("mongrel2: write config: %w", err)
	}
	if err := os.Remove(filepath.Join(cfg.Dir, dbFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("mongrel2: remove old config db: %w", err)
	}
	cmd := exec.CommandContext(ctx, "m2sh", "load", "-config", confFile, "-db", dbFile)
	cmd.Dir = cfg.Dir
	cmd.Env = env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("mongrel2: m2sh load: %w: %s", err, bytes.TrimSpace(out))
	}
	if cfg.rawPayloadLoaded() == 0 && !cfg.Base64Payload {
		if err := fixRawPayload(ctx, filepath.Join(cfg.Dir, dbFile)); err != nil {
			return err
		}
	}
	return nil
}

// spawn runs `m2sh start` in its own process group, its output appended to
// logs/m2sh.log (where Mongrel2 logs when it cannot chroot, i.e. not root).
func (s *Server) spawn() error {
	logf, err := os.OpenFile(filepath.Join(s.Cfg.Dir, m2shLog), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("mongrel2: open log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command("m2sh", "start", "-db", dbFile, "-host", startHost)
	cmd.Dir = s.Cfg.Dir
	cmd.Env = env()
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("mongrel2: m2sh start: %w", err)
	}
	s.m2sh = cmd
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	return nil
}

// waitReady polls until the pid file is written and the caller port
// accepts a connection.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	dialer := net.Dialer{Timeout: time.Second}
	for {
		if s.PID == 0 {
			if pid, err := readPID(filepath.Join(s.Cfg.Dir, pidFile)); err == nil {
				s.PID = pid
			}
		}
		if s.PID != 0 && s.errorLogOpen() {
			if c, err := dialer.DialContext(ctx, "tcp", s.Addr()); err == nil {
				c.Close()
				return nil
			}
		}
		select {
		case <-s.done:
			status := "" // m2sh exits 0 even when mongrel2 fails
			if s.waitErr != nil {
				status = " (" + s.waitErr.Error() + ")"
			}
			return fmt.Errorf("mongrel2: %w: m2sh exited%s%s", ErrStartFailed, status, s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("mongrel2: %w: port %d not open after %v (%v)%s",
				ErrStartFailed, s.Cfg.Port, StartTimeout, context.Cause(ctx), s.logTail())
		case <-tick.C:
		}
	}
}

// errorLogOpen reports whether Mongrel2's error log is a file, as it is
// once Mongrel2 got past opening it. A Mongrel2 that cannot open it exits,
// and may have its port open for a moment before: that moment is not
// "ready".
func (s *Server) errorLogOpen() bool {
	fi, err := os.Stat(filepath.Join(s.Cfg.Dir, errorLog))
	return err == nil && fi.Mode().IsRegular()
}

// logTail quotes the last lines of Mongrel2's logs for an error message.
func (s *Server) logTail() string {
	var b strings.Builder
	for _, name := range []string{errorLog, m2shLog} {
		data, err := os.ReadFile(filepath.Join(s.Cfg.Dir, name))
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(data)), "\n")
		if len(lines) > logTailLines {
			lines = lines[len(lines)-logTailLines:]
		}
		fmt.Fprintf(&b, "\n--- %s (last %d lines):\n%s", name, len(lines), strings.Join(lines, "\n"))
	}
	return b.String()
}

// secretEnv are the variables of m2bbs's environment that m2sh and
// Mongrel2 never get: they need none, and a process's environment is
// readable by its owner in /proc and travels on to whatever it runs.
var secretEnv = []string{"M2BBS_SYSOP_TOKEN"}

// env is the environment for m2sh and Mongrel2: this process's, without
// secretEnv, and with LOGNAME set (without it Mongrel2 logs "getlogin
// failed").
func env() []string {
	var e []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(secretEnv, name) {
			e = append(e, kv)
		}
	}
	if os.Getenv("LOGNAME") == "" {
		name := os.Getenv("USER")
		if name == "" {
			name = "m2bbs"
		}
		e = append(e, "LOGNAME="+name)
	}
	return e
}

// readPID reads a pid file.
func readPID(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("mongrel2: bad pid file %s: %q", path, data)
	}
	return pid, nil
}

// alive reports whether pid is a running process. A zombie counts as
// gone: it holds no ports, and init reaps it in its own time.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] != 'Z'
	}
	return true
}

// isMongrel2 reports whether pid runs the mongrel2 binary, so that a
// recycled PID is never signalled.
func isMongrel2(pid int) bool {
	cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return false
	}
	argv0, _, _ := bytes.Cut(cmdline, []byte{0})
	return filepath.Base(string(argv0)) == "mongrel2"
}

// fixRawPayload runs RawPayloadFix on the loaded config.sqlite.
func fixRawPayload(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		return fmt.Errorf("mongrel2: raw_payload: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, RawPayloadFix); err != nil {
		return fmt.Errorf("mongrel2: raw_payload: %w", err)
	}
	return nil
}

// PIDFile is the path of the pid file Mongrel2 wrote when it started (its
// modification time is Mongrel2's start).
func (s *Server) PIDFile() string { return filepath.Join(s.Cfg.Dir, pidFile) }
