// Package transfer runs Debian's lrzsz (sz, rz) for one caller's file
// transfer: ZMODEM, YMODEM or XMODEM over the caller's byte stream (the
// host joins it to the caller in binary stream mode, see
// host/handler/session/transfer.go).
//
// A Run is the program as an io.ReadWriteCloser: Read is what it writes
// to the caller, Write what the caller sends it. Each run has a private
// folder of its own under the Runner's root (0700), which is the
// program's working folder: rz runs restricted (-R: no names with a path,
// nothing outside the folder, nothing overwritten) and what it received is
// handed back by Wait as Files, never placed anywhere by the program; sz
// reads only the files it is given.
//
// Limits: a deadline for the whole run (Config.Deadline), an idle
// timeout (no byte from the caller, Config.IdleTimeout), a bound on what a
// receive may write (Config.MaxReceiveBytes, checked as it grows) and on
// the files of one upload (Config.MaxFiles), and on the runs at once
// (Config.MaxRunning). Past any of them, or when the caller hangs up (the
// context ends) or Close is called, the program's whole process group is
// killed; a receive that did not end well leaves nothing behind (its
// folder is removed). A cancel from the caller's side (Ctrl-X five times)
// makes lrzsz itself stop, with a failure.
package transfer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Protocol is a transfer protocol lrzsz speaks.
type Protocol string

// Protocols.
const (
	ZMODEM Protocol = "zmodem"
	YMODEM Protocol = "ymodem"
	XMODEM Protocol = "xmodem"
)

// ParseProtocol reads a protocol's name ("zmodem", "ymodem", "xmodem";
// "" is ZMODEM).
func ParseProtocol(name string) (Protocol, bool) {
	switch p := Protocol(strings.ToLower(name)); p {
	case "":
		return ZMODEM, true
	case ZMODEM, YMODEM, XMODEM:
		return p, true
	}
	return "", false
}

// Defaults of Config.
const (
	DefaultDeadline        = 30 * time.Minute
	DefaultIdleTimeout     = time.Minute
	DefaultMaxReceiveBytes = 64 << 20
	DefaultMaxFiles        = 16
	DefaultMaxRunning      = 8
	// ZMODEMWindow is sz's window (-w): it waits for the receiver's
	// acknowledgement every this many bytes, so a caller's slow line holds
	// sz up instead of filling the front end's write queue.
	ZMODEMWindow = 16 << 10
	// maxStderr bounds what is kept of a program's diagnostics for the
	// log.
	maxStderr = 2 << 10
	// KeepReceived is how long the folder of a receive that ended well
	// is kept at most: the session that received it removes it when it
	// ends; one resumed after a restart leaves it to this sweep.
	KeepReceived = 24 * time.Hour
	// runPrefix and gotPrefix name a run's folder while it runs and once
	// a receive ended well.
	runPrefix, gotPrefix = "run-", "got-"
)

// Why a run ended (Result.Why).
const (
	EndDone      = "done"
	EndFailed    = "failed"
	EndCancelled = "cancelled"
	EndDeadline  = "too long"
	EndIdle      = "idle"
	EndTooLarge  = "too large"
	EndTooMany   = "too many files"
)

// Errors.
var (
	// ErrBusy is Start's error when Config.MaxRunning transfers run.
	ErrBusy = errors.New("transfer: too many transfers at once")
	// ErrBadName is Send's error for a file that is not a regular file,
	// and XMODEM receive's for a name with a path.
	ErrBadName = errors.New("transfer: bad file")
)

// Config is a Runner's.
type Config struct {
	// Root is the folder the runs' private folders are made in (made
	// 0700). New removes what unfinished runs left there; the folders of
	// receives that ended well (got-*) are kept KeepReceived, since a
	// caller resumed after a restart goes on with their files.
	Root string
	// SZ and RZ are the programs ("sz" and "rz" on PATH when empty).
	SZ, RZ string
	// Deadline, IdleTimeout, MaxReceiveBytes, MaxFiles and MaxRunning are
	// the limits (the Default* values when zero).
	Deadline, IdleTimeout time.Duration
	MaxReceiveBytes       int64
	MaxFiles, MaxRunning  int
	// Log is where runs are logged (slog.Default when nil).
	Log *slog.Logger
}

// Runner starts transfers.
type Runner struct {
	cfg     Config
	running atomic.Int32
	seq     atomic.Int64
}

// New returns a Runner, its root made and emptied.
func New(cfg Config) (*Runner, error) {
	if cfg.Root == "" {
		return nil, errors.New("transfer: no root folder")
	}
	if cfg.SZ == "" {
		cfg.SZ = "sz"
	}
	if cfg.RZ == "" {
		cfg.RZ = "rz"
	}
	cfg.Deadline = orDefault(cfg.Deadline, DefaultDeadline)
	cfg.IdleTimeout = orDefault(cfg.IdleTimeout, DefaultIdleTimeout)
	cfg.MaxReceiveBytes = orDefault(cfg.MaxReceiveBytes, DefaultMaxReceiveBytes)
	cfg.MaxFiles = orDefault(cfg.MaxFiles, DefaultMaxFiles)
	cfg.MaxRunning = orDefault(cfg.MaxRunning, DefaultMaxRunning)
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if err := os.MkdirAll(cfg.Root, 0o700); err != nil {
		return nil, fmt.Errorf("transfer: make %s: %w", cfg.Root, err)
	}
	r := &Runner{cfg: cfg}
	r.sweep(true)
	return r, nil
}

// sweep removes the folders of receives older than KeepReceived, and
// with unfinished those of runs (a host that stopped mid-transfer left
// them; no run of this Runner has started yet).
func (r *Runner) sweep(unfinished bool) {
	entries, err := os.ReadDir(r.cfg.Root)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		old := false
		if info, err := e.Info(); err == nil {
			old = time.Since(info.ModTime()) > KeepReceived
		}
		if unfinished && !strings.HasPrefix(name, gotPrefix) || strings.HasPrefix(name, gotPrefix) && old {
			if err := os.RemoveAll(filepath.Join(r.cfg.Root, name)); err != nil {
				r.cfg.Log.Warn("transfer folder not removed", "dir", name, "err", err)
			}
		}
	}
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Limits returns the Runner's limits, defaults filled in.
func (r *Runner) Limits() Config { return r.cfg }

// Send starts sz sending files (paths of regular files, not symbolic
// links) with protocol p (XMODEM: exactly one file).
func (r *Runner) Send(ctx context.Context, p Protocol, files []string) (*Run, error) {
	if len(files) == 0 || p == XMODEM && len(files) != 1 {
		return nil, fmt.Errorf("%w: %d files for %s", ErrBadName, len(files), p)
	}
	for _, f := range files {
		// Lstat: a symbolic link (one a caller's upload could not make,
		// but a folder's could hold) is never followed to the board's own
		// files.
		st, err := os.Lstat(f)
		if err != nil || !st.Mode().IsRegular() {
			return nil, fmt.Errorf("%w: %s is not a file", ErrBadName, filepath.Base(f))
		}
	}
	args := []string{"-q", "-b"}
	switch p {
	case XMODEM:
		args = append(args, "-X", "-k")
	case YMODEM:
		args = append(args, "--ymodem", "-k")
	default:
		args = append(args, "-w", strconv.Itoa(ZMODEMWindow))
	}
	args = append(args, "--")
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			return nil, fmt.Errorf("transfer: %w", err)
		}
		args = append(args, abs)
	}
	return r.start(ctx, false, r.cfg.SZ, args)
}

// Receive starts rz receiving with protocol p; XMODEM, which sends no
// name, stores the file as name (a plain name, no path).
func (r *Runner) Receive(ctx context.Context, p Protocol, name string) (*Run, error) {
	r.sweep(false)
	args := []string{"-q", "-R", "-b"}
	switch p {
	case XMODEM:
		if !PlainName(name) {
			return nil, fmt.Errorf("%w: %q", ErrBadName, name)
		}
		args = append(args, "-X", "--", name)
	case YMODEM:
		args = append(args, "--ymodem")
	}
	return r.start(ctx, true, r.cfg.RZ, args)
}

// PlainName reports whether name may name a received file: not empty,
// at most 255 bytes, no path (no / or \), not . or .., no control
// character.
func PlainName(name string) bool {
	if name == "" || len(name) > 255 || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return false
	}
	for _, c := range name {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	return true
}

// start runs prog with args in a new private folder.
func (r *Runner) start(ctx context.Context, receive bool, prog string, args []string) (*Run, error) {
	if int(r.running.Add(1)) > r.cfg.MaxRunning {
		r.running.Add(-1)
		return nil, ErrBusy
	}
	run, err := r.launch(ctx, receive, prog, args)
	if err != nil {
		r.running.Add(-1)
		return nil, err
	}
	return run, nil
}

// launch makes the run's folder and pipes and starts the program in its
// own process group.
func (r *Runner) launch(ctx context.Context, receive bool, prog string, args []string) (*Run, error) {
	dir, err := os.MkdirTemp(r.cfg.Root, runPrefix+strconv.FormatInt(r.seq.Add(1), 10)+"-")
	if err != nil {
		return nil, fmt.Errorf("transfer: make a folder: %w", err)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("transfer: pipe: %w", err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("transfer: pipe: %w", err)
	}
	rn := &Run{r: r, dir: dir, receive: receive, stdin: inW, stdout: outR, started: time.Now(), done: make(chan struct{})}
	rn.touch()
	cmd := exec.Command(prog, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + dir, "LANG=C"}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, &rn.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("transfer: start %s: %w", filepath.Base(prog), err)
	}
	inR.Close()
	outW.Close()
	rn.cmd = cmd
	go rn.watch(ctx)
	return rn, nil
}

// Run is one running transfer program.
type Run struct {
	r       *Runner
	cmd     *exec.Cmd
	dir     string
	receive bool
	stdin   *os.File // the program's standard input: what the caller sends
	stdout  *os.File // its standard output: what goes to the caller
	stderr  boundedBuffer
	started time.Time

	in, out  atomic.Int64
	last     atomic.Int64 // unix nanoseconds of the caller's last byte (and the start)
	why      atomic.Value // string: why it was killed
	killOnce sync.Once
	done     chan struct{} // closed once the program has exited
	waitOnce sync.Once
	result   Result
}

// Read reads what the program writes for the caller. It does not count
// as activity: rz asking an idle caller again every few seconds must not
// hold a transfer slot for ever (found by the review).
func (rn *Run) Read(p []byte) (int, error) {
	n, err := rn.stdout.Read(p)
	if n > 0 {
		rn.out.Add(int64(n))
	}
	return n, err
}

// Write gives the program bytes the caller sent: the caller is active.
func (rn *Run) Write(p []byte) (int, error) {
	n, err := rn.stdin.Write(p)
	if n > 0 {
		rn.in.Add(int64(n))
		rn.touch()
	}
	return n, err
}

// Close stops the program (its whole process group), as cancelled.
func (rn *Run) Close() error {
	rn.kill(EndCancelled)
	return nil
}

// Progress returns the bytes given to the program and read from it so
// far; safe from any goroutine.
func (rn *Run) Progress() (in, out int64) { return rn.in.Load(), rn.out.Load() }

func (rn *Run) touch() { rn.last.Store(time.Now().UnixNano()) }

// kill kills the program's process group, once, recording why.
func (rn *Run) kill(why string) {
	rn.killOnce.Do(func() {
		rn.why.Store(why)
		if rn.cmd != nil && rn.cmd.Process != nil {
			_ = syscall.Kill(-rn.cmd.Process.Pid, syscall.SIGKILL)
		}
	})
}

// watch enforces the limits until the program exits: the context, the
// deadline, the idle timeout, and what a receive has written.
func (rn *Run) watch(ctx context.Context) {
	cfg := rn.r.cfg
	exited := make(chan struct{})
	go func() {
		err := rn.cmd.Wait()
		rn.result.exitErr = err
		close(exited)
	}()
	deadline := time.NewTimer(cfg.Deadline)
	defer deadline.Stop()
	tick := time.NewTicker(min(cfg.IdleTimeout/4, 250*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-exited:
			close(rn.done)
			return
		case <-ctx.Done():
			rn.kill(EndCancelled)
		case <-deadline.C:
			rn.kill(EndDeadline)
		case now := <-tick.C:
			if now.Sub(time.Unix(0, rn.last.Load())) > cfg.IdleTimeout {
				rn.kill(EndIdle)
			}
			if rn.receive {
				if n, size := folderUse(rn.dir); size > cfg.MaxReceiveBytes {
					rn.kill(EndTooLarge)
				} else if n > cfg.MaxFiles {
					rn.kill(EndTooMany)
				}
			}
		}
	}
}

// folderUse counts the entries of dir and the bytes of its files.
func folderUse(dir string) (n int, size int64) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			size += info.Size()
		}
	}
	return len(entries), size
}

// File is a received file.
type File struct {
	// Name is the name the caller's program sent; Path is where it is
	// now, in the run's folder; Size its bytes.
	Name, Path string
	Size       int64
}

// Result is how a run ended.
type Result struct {
	// OK says the program ended well (exit status 0, within the limits).
	OK bool
	// Why is EndDone, or why not.
	Why string
	// Files are what a receive got, in its folder (Dir), when OK. The
	// caller of Wait takes them (moves or copies them) and calls
	// Discard when done; a receive that was not OK leaves no folder.
	Files []File
	Dir   string
	// In and Out are the bytes the program read and wrote; Ran how long it
	// ran; Stderr the end of its diagnostics.
	In, Out int64
	Ran     time.Duration
	Stderr  string

	exitErr error
}

// Wait waits for the program to end and returns how the run went. A
// send's folder, and a receive's that did not end well, are removed.
func (rn *Run) Wait() Result {
	rn.waitOnce.Do(func() {
		<-rn.done
		rn.stdin.Close()
		rn.stdout.Close()
		rn.r.running.Add(-1)
		res := &rn.result
		res.In, res.Out, res.Ran, res.Stderr = rn.in.Load(), rn.out.Load(), time.Since(rn.started), rn.stderr.String()
		res.Why = EndDone
		if why, ok := rn.why.Load().(string); ok {
			res.Why = why
		} else if res.exitErr != nil {
			res.Why = EndFailed
		}
		if res.Why == EndDone && rn.receive {
			res.Files, res.Why = rn.keep()
		}
		res.OK = res.Why == EndDone
		if res.OK && rn.receive {
			res.Dir = rn.dir
		} else {
			res.Files = nil
			_ = os.RemoveAll(rn.dir)
		}
	})
	return rn.result
}

// Discard removes a received run's folder and what is left in it.
func (res Result) Discard() error {
	if res.Dir == "" {
		return nil
	}
	return os.RemoveAll(res.Dir)
}

// keep renames a receive's folder to show it ended well (kept across a
// restart: New) and lists its files.
func (rn *Run) keep() ([]File, string) {
	got := filepath.Join(filepath.Dir(rn.dir), gotPrefix+strings.TrimPrefix(filepath.Base(rn.dir), runPrefix))
	if err := os.Rename(rn.dir, got); err != nil {
		rn.r.cfg.Log.Warn("received folder not kept", "err", err)
		return nil, EndFailed
	}
	rn.dir = got
	return collect(got, rn.r.cfg)
}

// collect lists the files a receive left in dir: regular files with
// plain names only, within the limits; anything else fails the run.
func collect(dir string, cfg Config) ([]File, string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, EndFailed
	}
	if len(entries) > cfg.MaxFiles {
		return nil, EndTooMany
	}
	var files []File
	var total int64
	for _, e := range entries {
		if !e.Type().IsRegular() || !PlainName(e.Name()) {
			return nil, EndFailed
		}
		info, err := e.Info()
		if err != nil {
			return nil, EndFailed
		}
		total += info.Size()
		files = append(files, File{Name: e.Name(), Path: filepath.Join(dir, e.Name()), Size: info.Size()})
	}
	if total > cfg.MaxReceiveBytes {
		return nil, EndTooLarge
	}
	return files, EndDone
}

// boundedBuffer keeps the last maxStderr bytes written to it.
type boundedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - maxStderr; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var _ io.ReadWriteCloser = (*Run)(nil)
