package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/handler/config"
	"github.com/m2bbs/m2bbs/host/handler/dispatch"
	"github.com/m2bbs/m2bbs/host/shared/access"
)

// Bench processes: what answers callers, and what handles them.
const (
	frontBuiltIn  = "built-in" // `m2bbs frontend` in a process of its own
	frontMongrel2 = "mongrel2" // a real Mongrel2 1.12
	handlerBoard  = "m2bbs"    // `m2bbs host` running the board
	handlerEcho   = "echo"     // `m2bbs-bench echo`, the transport floor
	benchSender   = "m2bbs-bench"
)

// startTimeout bounds the start of one process (Mongrel2 included).
const startTimeout = 30 * time.Second

// child is a process the bench started: m2bbs, or this program as the
// echo floor.
type child struct {
	name   string
	cmd    *exec.Cmd
	log    *tail
	exited chan struct{}
	err    error // the exit status, once exited is closed
}

// tail keeps the end of a process's output, for error messages.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailBytes = 8 << 10

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*tailBytes {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailBytes:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if len(b) > tailBytes {
		b = b[len(b)-tailBytes:]
	}
	return string(bytes.TrimSpace(b))
}

// startChild runs the program exe with args; env is added to its
// environment.
func (o *benchOptions) startChild(name, exe string, env []string, args ...string) (*child, error) {
	cmd := exec.Command(exe, args...)
	cmd.Env = append(append([]string(nil), o.env...), env...)
	c := &child{name: name, cmd: cmd, log: &tail{}, exited: make(chan struct{})}
	var out io.Writer = c.log
	var kept *os.File
	if o.logs != "" {
		if err := os.MkdirAll(o.logs, 0o755); err != nil {
			return nil, fmt.Errorf("start %s: keep its output: %w", name, err)
		}
		f, err := os.CreateTemp(o.logs, strings.ReplaceAll(name, " ", "-")+"-*.log")
		if err != nil {
			return nil, fmt.Errorf("start %s: keep its output: %w", name, err)
		}
		kept, out = f, io.MultiWriter(c.log, f)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		if kept != nil {
			kept.Close()
		}
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		c.err = cmd.Wait()
		if kept != nil {
			kept.Close()
		}
		close(c.exited)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// stop ends the process with SIGTERM (SIGKILL after 20 s) and reports an
// unclean exit with the end of its log.
func (c *child) stop() error {
	select {
	case <-c.exited:
		return c.failure("exited early")
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
		return c.failure("ignored SIGTERM for 20 s")
	}
	if c.err != nil {
		return c.failure("exited with " + c.err.Error())
	}
	return nil
}

func (c *child) failure(what string) error {
	return fmt.Errorf("%s (pid %d) %s; its log ends:\n%s", c.name, c.pid(), what, c.log)
}

// alive returns an error if the process has exited.
func (c *child) alive() error {
	select {
	case <-c.exited:
		return c.failure("exited")
	default:
		return nil
	}
}

// freeSpec is a tcp:// ZeroMQ address on a free loopback port.
func freeSpec() (string, error) {
	port, err := mongrel2.FreePort()
	if err != nil {
		return "", err
	}
	return "tcp://127.0.0.1:" + strconv.Itoa(port), nil
}

// boardSpec is what `m2bbs host` runs: which scripts, at which bcrypt
// cost, with or without session journals.
type boardSpec struct {
	scripts, screens, main string
	bcryptCost             int
	noJournal              bool
}

// shipped is the board of -scripts, -screens and -main at -bcrypt-cost,
// journals on.
func (o *benchOptions) shipped() boardSpec {
	return boardSpec{scripts: o.scripts, screens: o.screens, main: o.main, bcryptCost: o.bcryptCost}
}

// handlerCmd is the program, name and arguments of `m2bbs host` running
// board, or of `m2bbs-bench echo`, connecting to sendSpec and recvSpec.
func (o *benchOptions) handlerCmd(kind string, board boardSpec, dir, sendSpec, recvSpec, profile string) (exe, name string, args []string, err error) {
	common := []string{"-send-spec", sendSpec, "-recv-spec", recvSpec, "-sender-id", benchSender, "-log-level", "WARN"}
	if profile != "" {
		common = append(common, "-cpuprofile", profile)
	}
	if kind == handlerEcho {
		return o.exe, "m2bbs-bench echo", append([]string{"echo"}, common...), nil
	}
	db, err := o.boardDB(dir)
	if err != nil {
		return "", "", nil, err
	}
	if board.noJournal {
		common = append(common, "-no-journal")
	}
	if o.hibernateAfter != 0 {
		common = append(common, "-hibernate-after", o.hibernateAfter.String())
	}
	return o.board, "m2bbs host", append(append([]string{"host"}, common...),
		"-db", db,
		"-scripts", board.scripts, "-screens", board.screens, "-main", board.main,
		"-bcrypt-cost", strconv.Itoa(board.bcryptCost),
		"-workers", strconv.Itoa(o.workers),
		// The bench measures the board, not its flood protection, and
		// holds more callers than the default allows; they all register
		// from 127.0.0.1, and log in many at a time (each login counts
		// against the address until its hash says yes).
		"-rate", "1e9", "-burst", "1000000000",
		"-registrations-per-hour", "0", "-min-password", "0",
		"-logins-per-address", "1000000000",
		"-max-callers", "1000000", "-memory-limit", "4096",
		"-idle-timeout", "1h",
	), nil
}

// system is a board (or the echo floor) ready for callers.
type system struct {
	front, handler string
	addr           string // callers connect here
	handlerProc    *child
	frontProc      *child           // the built-in front end, or nil
	m2             *mongrel2.Server // Mongrel2, or nil
	// token is the handler's sysop token, if it has one: the status page
	// shows the heap and goroutines only to the sysop.
	token string
}

// frontPID is the front end's process id.
func (s *system) frontPID() int {
	if s.m2 != nil {
		return s.m2.PID
	}
	return s.frontProc.pid()
}

// stop ends every process of the system.
func (s *system) stop() error {
	var errs []error
	if s.handlerProc != nil {
		errs = append(errs, s.handlerProc.stop())
	}
	if s.frontProc != nil {
		errs = append(errs, s.frontProc.stop())
	}
	if s.m2 != nil {
		errs = append(errs, s.m2.Stop())
	}
	return errors.Join(errs...)
}

// startSystem starts a front end and a handler (running board, if it is
// the board) in dir and waits until a request travels through both.
func (o *benchOptions) startSystem(ctx context.Context, front, handler string, board boardSpec, dir, profile string) (_ *system, err error) {
	s := &system{front: front, handler: handler}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.stop())
		}
	}()
	var sendSpec, recvSpec string
	switch front {
	case frontBuiltIn:
		port, err := mongrel2.FreePort()
		if err != nil {
			return nil, err
		}
		if sendSpec, err = freeSpec(); err != nil {
			return nil, err
		}
		if recvSpec, err = freeSpec(); err != nil {
			return nil, err
		}
		s.addr = "127.0.0.1:" + strconv.Itoa(port)
		s.frontProc, err = o.startChild("m2bbs frontend", o.board, nil, "frontend", "-addr", s.addr,
			"-send-spec", sendSpec, "-recv-spec", recvSpec, "-sender-id", benchSender, "-log-level", "WARN",
			// Every simulated caller comes from 127.0.0.1, at once.
			"-max-per-addr", "-1", "-accept-rate", "-1")
		if err != nil {
			return nil, err
		}
	case frontMongrel2:
		startCtx, cancel := context.WithTimeout(ctx, startTimeout)
		defer cancel()
		s.m2, err = mongrel2.Start(startCtx, mongrel2.Config{
			Dir: filepath.Join(dir, "mongrel2"), SenderID: benchSender, HTTPRoutes: []string{dispatch.StatusPath},
		})
		if err != nil {
			return nil, err
		}
		s.addr, sendSpec, recvSpec = s.m2.Addr(), s.m2.Cfg.SendSpec, s.m2.Cfg.RecvSpec
	default:
		return nil, fmt.Errorf("unknown front end %q", front)
	}
	s.token = o.handlerToken()
	exe, name, args, err := o.handlerCmd(handler, board, dir, sendSpec, recvSpec, profile)
	if err != nil {
		return nil, err
	}
	s.handlerProc, err = o.startChild(name, exe, o.hostEnv, args...)
	if err != nil {
		return nil, err
	}
	if err := s.awaitStatus(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// awaitStatus waits until the handler's status page answers through the
// front end: then callers' messages reach the handler too.
func (s *system) awaitStatus(ctx context.Context) error {
	deadline := time.Now().Add(startTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		for _, c := range []*child{s.handlerProc, s.frontProc} {
			if c != nil {
				if err := c.alive(); err != nil {
					return err
				}
			}
		}
		if _, err := s.status(ctx); err == nil {
			return nil
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s behind %s never answered %s: %v", s.handler, s.front, dispatch.StatusPath, lastErr)
}

// handlerToken is the sysop token the handler will run with, as its
// settings find it: config.lua in the working directory first, then
// $M2BBS_SYSOP_TOKEN in its environment (the last value wins).
func (o *benchOptions) handlerToken() string {
	if c, err := config.LoadFile(boardConfigFile, config.Defaults); err == nil && c.SysopToken != "" {
		return c.SysopToken
	}
	token := ""
	for _, kv := range append(append([]string(nil), o.env...), o.hostEnv...) {
		if v, ok := strings.CutPrefix(kv, "M2BBS_SYSOP_TOKEN="); ok {
			token = v
		}
	}
	return token
}

// status fetches the handler's status page through the front end.
func (s *system) status(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.addr+dispatch.StatusPath+"?online=0", nil)
	if err != nil {
		return nil, err
	}
	// The heap and goroutines are the sysop's to see.
	req.Header.Set(access.SysopHeader, "1")
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}

// boardConfigFile is the settings file m2bbs reads from its working
// directory when no -config flag is given.
const boardConfigFile = "config.lua"

// executable is this program, for starting the echo floor.
func executable() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("bench: find this program: %w", err)
	}
	return exe, nil
}

// findBoard is the m2bbs binary beside exe (both are built into bin/), or
// else the one on $PATH.
func findBoard(exe string) (string, error) {
	beside := filepath.Join(filepath.Dir(exe), "m2bbs")
	if fi, err := os.Stat(beside); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return beside, nil
	}
	if path, err := exec.LookPath("m2bbs"); err == nil {
		return path, nil
	}
	return "", fmt.Errorf("bench: no m2bbs binary beside %s nor on $PATH: run `make build`, or pass -m2bbs PATH", exe)
}
