// Package nativedoor runs a native door program for one caller: on a
// pseudo-terminal (or, for DOOR32 doors, an inherited socket at fd 3), in
// a temporary folder of the caller's node with the drop file written,
// within a time limit, a memory limit and an output rate, and it kills the
// door's whole process group when the call is over.
//
// A Run is a byte stream (io.ReadWriteCloser): Read is what the door
// writes to its terminal, paced to the output rate; Write is what the
// caller types. It knows nothing of callers, Lua or the host: the session
// bridges a caller's terminal to it (host/handler/termbridge).
//
// Limits: a door has at most Spec.TimeLimit (DefaultTimeLimit when zero,
// MaxTimeLimit at most), RLIMIT_DATA (private writable memory) of Spec.MemoryLimit (DefaultMemoryLimit
// when zero), output read at Spec.OutputRate bytes a second at most
// (DefaultOutputRate when zero; a door writing faster is held up by its
// terminal, nothing is queued), reads of ReadChunk bytes. Its environment
// is built from scratch (PATH, HOME, TERM and the door's own variables),
// so nothing of the host's (a sysop token) reaches it.
package nativedoor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/m2bbs/m2bbs/host/handler/nativedoor/dropfile"
)

// Limits and defaults.
const (
	DefaultTimeLimit   = 30 * time.Minute
	MaxTimeLimit       = 24 * time.Hour
	DefaultMemoryLimit = 1 << 30
	DefaultOutputRate  = 64 << 10 // bytes a second: 512 kbit/s, far above what a caller reads
	MinOutputRate      = 1 << 10
	// ReadChunk is the most one Read returns: a door's output reaches the
	// caller in pieces of at most this many bytes.
	ReadChunk = 4 << 10
	// PieceEvery is the least time between two Reads that return output:
	// a door writing a byte at a time (unbuffered output) reaches the
	// caller in pieces gathered over this long, so it costs the caller's
	// worker at most 100 pieces a second, whatever its output rate.
	PieceEvery = 10 * time.Millisecond
	// KillGrace is how long a door has between SIGHUP and SIGKILL.
	KillGrace = 2 * time.Second
	// DrainWait bounds how long the output of a door that ended is
	// waited for once its process group is gone.
	DrainWait = time.Second
	// MaxArgs and MaxArgBytes bound a door's command line.
	MaxArgs     = 64
	MaxArgBytes = 4096
	// DefaultMaxRunning bounds the doors one runner (one host) runs at
	// once when Runner.MaxRunning is zero: each is a process group with up
	// to its memory limit, so many callers each starting a door must not
	// fork without end.
	DefaultMaxRunning = 32
)

// ErrBusy is Start's error when MaxRunning doors run already.
var ErrBusy = errors.New("all door nodes are busy")

// IO says how a door talks to its caller.
type IO string

// The two ways.
const (
	// Stdio: the door's standard input and output are a pseudo-terminal.
	Stdio IO = "stdio"
	// Socket: the door inherits a connected stream socket as fd 3 (as
	// DOOR32 doors expect, with DOOR32.SYS saying comm type 2, handle 3);
	// its standard input and output are /dev/null.
	Socket IO = "socket"
)

// SocketFD is the descriptor a socket-mode door finds its caller on.
const SocketFD = 3

// Spec declares a door: the sysop's door.external{…} in Go.
type Spec struct {
	// Name names the door, for logs.
	Name string
	// Command is the program and its arguments. In each, {node} becomes
	// the node number, {nodedir} the node's temporary folder and
	// {dropfile} the drop file's path.
	Command []string
	// Dir is the folder the door runs in; the node's folder when empty.
	Dir string
	// DropFiles are the drop files written in the node's folder (none
	// when empty); {dropfile} is the first one's path.
	DropFiles []dropfile.Kind
	// IO is Stdio (the default) or Socket.
	IO IO
	// TimeLimit, MemoryLimit and OutputRate: see the package's limits.
	TimeLimit   time.Duration
	MemoryLimit uint64
	OutputRate  int
	// Env are extra NAME=value pairs for the door's environment.
	Env []string
}

// Check reports what is wrong with s, if anything.
func (s Spec) Check() error {
	switch {
	case len(s.Command) == 0 || s.Command[0] == "":
		return errors.New("a door needs a command")
	case len(s.Command) > MaxArgs:
		return fmt.Errorf("a door's command has more than %d words", MaxArgs)
	case s.IO != "" && s.IO != Stdio && s.IO != Socket:
		return fmt.Errorf("io %q: want stdio or socket", s.IO)
	case s.TimeLimit < 0 || s.TimeLimit > MaxTimeLimit:
		return fmt.Errorf("time limit %v: want up to %v", s.TimeLimit, MaxTimeLimit)
	case s.OutputRate != 0 && s.OutputRate < MinOutputRate:
		return fmt.Errorf("output rate %d: want at least %d bytes a second", s.OutputRate, MinOutputRate)
	}
	n := 0
	for _, a := range append(append([]string(nil), s.Command...), s.Env...) {
		n += len(a)
		if strings.ContainsRune(a, 0) {
			return errors.New("a door's command holds a NUL")
		}
	}
	if n > MaxArgBytes {
		return fmt.Errorf("a door's command and environment are over %d bytes", MaxArgBytes)
	}
	for _, k := range s.DropFiles {
		if _, err := dropfile.ParseKind(string(k)); err != nil {
			return err
		}
	}
	return nil
}

// Runner starts doors. Its methods are safe for concurrent use.
type Runner struct {
	// TempRoot holds a folder of the runner's own (TempRoot/run-PID-START,
	// naming the host process), which holds the nodes' folders
	// (node3-RANDOM, one a run). It is made mode 0700 and must be the
	// host user's own folder, not a symbolic link. Set it to a folder kept
	// across restarts (the host sets one beside its database) so that
	// Reap can find what a host killed with SIGKILL left behind. When
	// empty, the first door makes a folder of the runner's own in
	// os.TempDir(). Close removes the runner's folder: boards and lines on
	// one machine never share one.
	TempRoot string
	// MaxRunning bounds the doors running at once (DefaultMaxRunning when
	// zero); past it Start fails with ErrBusy.
	MaxRunning int

	mu      sync.Mutex
	made    string
	running int
}

// root is the folder of the nodes' folders: the runner's own.
func (r *Runner) root() (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.made != "" {
		return r.made, nil
	}
	if r.TempRoot == "" {
		dir, err := os.MkdirTemp("", "m2bbs-doors-")
		if err != nil {
			return "", fmt.Errorf("doors folder: %w", err)
		}
		r.made = dir
		return dir, nil
	}
	if err := ownFolder(r.TempRoot); err != nil {
		return "", err
	}
	dir := filepath.Join(r.TempRoot, runFolder(os.Getpid(), processStart(os.Getpid())))
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		return "", fmt.Errorf("doors folder: %w", err)
	}
	if err := ownFolder(dir); err != nil {
		return "", err
	}
	r.made = dir
	return dir, nil
}

// take counts a door in, or reports that MaxRunning run already.
func (r *Runner) take() bool {
	limit := r.MaxRunning
	if limit <= 0 {
		limit = DefaultMaxRunning
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running >= limit {
		return false
	}
	r.running++
	return true
}

// give counts a door out.
func (r *Runner) give() {
	r.mu.Lock()
	r.running--
	r.mu.Unlock()
}

// Running is the number of doors running (their process groups not yet
// gone).
func (r *Runner) Running() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running
}

// Close removes the folder the runner made, if any: call it once no door
// runs.
func (r *Runner) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.made == "" {
		return nil
	}
	err := os.RemoveAll(r.made)
	r.made = ""
	return err
}

// Why a door ended.
const (
	EndExited   = "exited"     // the door exited by itself
	EndTime     = "time limit" // its time ran out
	EndHungUp   = "hung up"    // Close was called: the caller hung up, or the host let go
	EndFailed   = "failed"     // it could not be waited for
	endNotEnded = ""
)

// Result is how a door ended.
type Result struct {
	// Why is one of the End constants.
	Why string
	// ExitCode is the door's exit status (-1 if killed by a signal).
	ExitCode int
	// Ran is how long it ran.
	Ran time.Duration
}

// Run is one running door.
type Run struct {
	cmd     *exec.Cmd
	pgid    int
	stream  *os.File // the pty's master, or the host's end of the socket
	nodeDir string
	rate    int
	started time.Time

	endOnce sync.Once
	why     string        // set once, under endOnce
	done    chan struct{} // closed once the run has ended and its group is gone
	reaped  chan struct{} // closed once the door's leader has been reaped
	drained chan struct{} // closed once Read has met the stream's end
	drainMu sync.Once
	result  Result

	pace time.Time // Read's schedule: output may be read again from here
}

// Start starts spec's door for caller (whose Node names the folder) and
// returns it running. ctx ends it when done (as Close does).
func (r *Runner) Start(ctx context.Context, spec Spec, caller dropfile.Caller) (*Run, error) {
	if err := spec.Check(); err != nil {
		return nil, fmt.Errorf("door %s: %w", spec.Name, err)
	}
	if caller.Node < 1 {
		return nil, fmt.Errorf("door %s: no node number", spec.Name)
	}
	if !r.take() {
		return nil, fmt.Errorf("door %s: %w", spec.Name, ErrBusy)
	}
	run, err := r.start(ctx, spec, caller)
	if err != nil {
		r.give()
		return nil, err
	}
	go func() {
		<-run.done
		r.give()
	}()
	return run, nil
}

// start is Start once the door is counted in.
func (r *Runner) start(ctx context.Context, spec Spec, caller dropfile.Caller) (*Run, error) {
	nodeDir, err := r.nodeDir(caller.Node)
	if err != nil {
		return nil, fmt.Errorf("door %s: %w", spec.Name, err)
	}
	if spec.IO == Socket {
		caller.CommType, caller.Handle = dropfile.CommTelnet, SocketFD
	} else {
		caller.CommType, caller.Handle = dropfile.CommLocal, 0
	}
	dropPath, err := writeDropFiles(nodeDir, spec.DropFiles, caller)
	if err != nil {
		os.RemoveAll(nodeDir)
		return nil, fmt.Errorf("door %s: %w", spec.Name, err)
	}
	expand := strings.NewReplacer("{node}", strconv.Itoa(caller.Node), "{nodedir}", nodeDir, "{dropfile}", dropPath)
	args := make([]string, len(spec.Command))
	for i, a := range spec.Command {
		args[i] = expand.Replace(a)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = spec.Dir
	if cmd.Dir == "" {
		cmd.Dir = nodeDir
	}
	cmd.Env = doorEnv(spec, caller, nodeDir, dropPath)

	run := &Run{cmd: cmd, nodeDir: nodeDir, rate: spec.OutputRate, done: make(chan struct{}), reaped: make(chan struct{}), drained: make(chan struct{})}
	if run.rate == 0 {
		run.rate = DefaultOutputRate
	}
	closeOnExec() // what C libraries opened without O_CLOEXEC stays the host's
	if spec.IO == Socket {
		err = run.startSocket()
	} else {
		err = run.startPty(caller)
	}
	if err != nil {
		os.RemoveAll(nodeDir)
		return nil, fmt.Errorf("door %s: start %s: %w", spec.Name, args[0], err)
	}
	run.started = time.Now()
	run.pgid = cmd.Process.Pid // Setsid: the door leads a session and a group of its own
	limit := spec.MemoryLimit
	if limit == 0 {
		limit = DefaultMemoryLimit
	}
	// Set just after the start: the door's first instructions run before it.
	_ = unix.Prlimit(run.pgid, unix.RLIMIT_DATA, &unix.Rlimit{Cur: limit, Max: limit}, nil)
	tl := spec.TimeLimit
	if tl == 0 {
		tl = DefaultTimeLimit
	}
	go run.wait()
	go func() {
		limit := time.NewTimer(tl)
		defer limit.Stop()
		select {
		case <-ctx.Done():
			run.end(EndHungUp)
		case <-limit.C:
			run.end(EndTime)
		case <-run.done:
		}
	}()
	return run, nil
}

// nodeDir makes an empty folder for node n.
//
// The folder is new for each run (nodeN-RANDOM): a door still being
// killed after its caller hung up removes its own folder, never that of
// the next caller given the node.
func (r *Runner) nodeDir(n int) (string, error) {
	root, err := r.root()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp(root, "node"+strconv.Itoa(n)+"-")
	if err != nil {
		return "", fmt.Errorf("node folder: %w", err)
	}
	return dir, nil
}

// writeDropFiles writes kinds in dir and returns the first one's path.
func writeDropFiles(dir string, kinds []dropfile.Kind, c dropfile.Caller) (string, error) {
	first := ""
	for _, k := range kinds {
		kind, err := dropfile.ParseKind(string(k))
		if err != nil {
			return "", err
		}
		b, err := dropfile.Write(kind, c)
		if err != nil {
			return "", err
		}
		path := filepath.Join(dir, kind.FileName())
		if err := os.WriteFile(path, b, 0o600); err != nil {
			return "", fmt.Errorf("write drop file: %w", err)
		}
		if first == "" {
			first = path
		}
	}
	return first, nil
}

// doorEnv is the door's whole environment.
func doorEnv(spec Spec, c dropfile.Caller, nodeDir, dropPath string) []string {
	term := "ansi"
	if !c.ANSI {
		term = "dumb"
	}
	width, height := c.Width, c.Height
	if width <= 0 {
		width = 80
	}
	if height <= 0 {
		height = 24
	}
	env := []string{
		"PATH=/usr/local/bin:/usr/bin:/bin:/usr/games",
		"HOME=" + nodeDir,
		"TERM=" + term,
		"COLUMNS=" + strconv.Itoa(width),
		"LINES=" + strconv.Itoa(height),
		"M2BBS_NODE=" + strconv.Itoa(c.Node),
		"M2BBS_NODEDIR=" + nodeDir,
		"M2BBS_DROPFILE=" + dropPath,
	}
	return append(env, spec.Env...)
}

// startPty starts the door on a new pseudo-terminal in raw mode (the door
// gets each key as typed, unechoed; "\n" it writes still reaches the
// caller as CR LF).
func (run *Run) startPty(c dropfile.Caller) error {
	master, tty, err := pty.Open()
	if err != nil {
		return err
	}
	defer tty.Close()
	if err := rawInput(tty); err != nil {
		master.Close()
		return err
	}
	width, height := c.Width, c.Height
	if width <= 0 || height <= 0 {
		width, height = 80, 24
	}
	_ = pty.Setsize(master, &pty.Winsize{Cols: uint16(width), Rows: uint16(height)})
	run.cmd.Stdin, run.cmd.Stdout, run.cmd.Stderr = tty, tty, tty
	run.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := run.cmd.Start(); err != nil {
		master.Close()
		return err
	}
	run.stream = master
	return nil
}

// rawInput turns the terminal's input processing off (no line editing,
// no echo, no signals from keys, CR kept as CR) and keeps output's
// newline translation.
func rawInput(tty *os.File) error {
	t, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		return fmt.Errorf("terminal settings: %w", err)
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Oflag |= unix.OPOST | unix.ONLCR
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(int(tty.Fd()), unix.TCSETS, t); err != nil {
		return fmt.Errorf("terminal settings: %w", err)
	}
	return nil
}

// startSocket starts the door with one end of a socket pair as fd 3.
func (run *Run) startSocket() error {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket pair: %w", err)
	}
	// Non-blocking, so that the host's end is polled and Close ends a Read.
	if err := unix.SetNonblock(fds[0], true); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return fmt.Errorf("socket pair: %w", err)
	}
	host := os.NewFile(uintptr(fds[0]), "door-socket")
	door := os.NewFile(uintptr(fds[1]), "door-socket-child")
	defer door.Close()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		host.Close()
		return err
	}
	defer null.Close()
	run.cmd.Stdin, run.cmd.Stdout, run.cmd.Stderr = null, null, null
	run.cmd.ExtraFiles = []*os.File{door} // fd 3
	run.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := run.cmd.Start(); err != nil {
		host.Close()
		return err
	}
	run.stream = host
	return nil
}

// wait reaps the door and ends the run.
func (run *Run) wait() {
	err := run.cmd.Wait()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		code = -1
	}
	run.result.ExitCode = code
	close(run.reaped)
	run.end(EndExited)
}

// end ends the run for why (the first reason wins): the whole process
// group gets SIGHUP, then SIGKILL after KillGrace, the stream closes.
func (run *Run) end(why string) {
	run.endOnce.Do(func() {
		run.why = why
		go run.killGroup()
	})
}

// killGroup hangs up on the door's process group, kills what is left of
// it, closes the stream and removes the node's folder.
func (run *Run) killGroup() {
	_ = syscall.Kill(-run.pgid, syscall.SIGHUP)
	_ = syscall.Kill(-run.pgid, syscall.SIGCONT) // a stopped process must see the hang-up
	waited := time.NewTimer(KillGrace)
	select {
	case <-run.reaped:
	case <-waited.C:
	}
	waited.Stop()
	_ = syscall.Kill(-run.pgid, syscall.SIGKILL)
	<-run.reaped
	// SIGKILL takes a moment: the run ends once the group's last process
	// has died (KillGrace at most).
	for deadline := time.Now().Add(KillGrace); len(Alive(run.pgid)) > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	// A process that left the group (setsid) still carries the node's
	// folder in its environment: it goes too.
	killMarked(func(dir string) bool { return dir == run.nodeDir })
	// What the door wrote last is still to be read: the stream ends by
	// itself once no process holds the door's side (DrainWait at most,
	// for a process that left the group with it).
	drain := time.NewTimer(DrainWait)
	select {
	case <-run.drained:
	case <-drain.C:
	}
	drain.Stop()
	run.stream.Close()
	os.RemoveAll(run.nodeDir)
	run.result.Why = run.why
	run.result.Ran = time.Since(run.started)
	close(run.done)
}

// Resize gives the door's terminal a new size (the caller resized
// theirs): the kernel tells the door with SIGWINCH. A socket-mode door
// has no terminal: nothing happens.
func (run *Run) Resize(width, height int) error {
	if run.cmd.ExtraFiles != nil || width <= 0 || height <= 0 || width > 0xffff || height > 0xffff {
		return nil
	}
	if err := pty.Setsize(run.stream, &pty.Winsize{Cols: uint16(width), Rows: uint16(height)}); err != nil {
		return fmt.Errorf("resize door terminal: %w", err)
	}
	return nil
}

// Pgid is the door's process group.
func (run *Run) Pgid() int { return run.pgid }

// NodeDir is the node's temporary folder (removed when the run ends).
func (run *Run) NodeDir() string { return run.nodeDir }

// Read returns what the door wrote, at most ReadChunk bytes, paced to the
// output rate and PieceEvery apart; io.EOF once it has ended.
func (run *Run) Read(p []byte) (int, error) {
	if wait := time.Until(run.pace); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-run.done:
			t.Stop()
			return 0, io.EOF
		}
	}
	if len(p) > ReadChunk {
		p = p[:ReadChunk]
	}
	n, err := run.stream.Read(p)
	if n > 0 {
		now := time.Now()
		if run.pace.Before(now) {
			run.pace = now
		}
		run.pace = run.pace.Add(time.Duration(n) * time.Second / time.Duration(run.rate))
		if next := now.Add(PieceEvery); run.pace.Before(next) {
			run.pace = next
		}
	}
	if err != nil {
		// The pty's master reads EIO once the door's side is closed.
		run.drainMu.Do(func() { close(run.drained) })
		return n, io.EOF
	}
	return n, nil
}

// Write gives the door what the caller typed. It may block while the
// door does not read: call it from a goroutine of its own.
func (run *Run) Write(p []byte) (int, error) {
	n, err := run.stream.Write(p)
	if err != nil {
		return n, fmt.Errorf("door input: %w", err)
	}
	return n, nil
}

// Close ends the door (EndHungUp unless it ended already) and waits until
// its process group is gone.
func (run *Run) Close() error {
	run.end(EndHungUp)
	<-run.done
	return nil
}

// Done is closed once the door has ended and its process group is gone.
func (run *Run) Done() <-chan struct{} { return run.done }

// Wait waits for the door to end and returns how it ended.
func (run *Run) Wait() Result {
	<-run.done
	return run.result
}

// Alive lists the processes of group pgid that have not died: zombies are
// left out (an orphan's zombie waits for the machine's init to reap it,
// which may take a while in a container). It reads /proc.
func Alive(pgid int) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f := statFields(e.Name()) // state ppid pgrp ...
		if len(f) < 3 || f[0] == "Z" || f[0] == "X" {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid {
			pids = append(pids, pid)
		}
	}
	return pids
}
