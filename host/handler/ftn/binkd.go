package ftn

import (
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
	"syscall"
	"time"

	"github.com/m2bbs/m2bbs/host/ftn/pkt"
)

// Supervision limits.
const (
	// MinRestartDelay and MaxRestartDelay bound the wait before binkd is
	// started again after it died (doubling from the first to the second).
	MinRestartDelay = 500 * time.Millisecond
	MaxRestartDelay = 30 * time.Second
	// StopGrace is how long binkd has to quit after SIGTERM before SIGKILL.
	StopGrace = 5 * time.Second
	// PollTimeout bounds one poll of an uplink.
	PollTimeout = 2 * time.Minute
	// stableRun is how long a run must last for the restart delay to
	// start again from MinRestartDelay.
	stableRun = 30 * time.Second
)

// BinkdState is the supervised binkd as /status shows it.
type BinkdState struct {
	Running   bool      `json:"running"`
	PID       int       `json:"pid,omitempty"`
	Started   time.Time `json:"started,omitempty"`
	Restarts  int       `json:"restarts"`
	LastExit  string    `json:"last_exit,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	Port      int       `json:"port,omitempty"`
}

// Supervisor runs binkd with the config written from the settings,
// starts it again when it dies, and polls uplinks on demand.
type Supervisor struct {
	Settings *Settings
	Log      *slog.Logger

	mu    sync.Mutex
	state BinkdState
}

// State returns binkd's state.
func (sv *Supervisor) State() BinkdState {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return sv.state
}

// update changes the state under the lock.
func (sv *Supervisor) update(fn func(st *BinkdState)) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	fn(&sv.state)
}

// Run writes binkd's config and keeps binkd running until ctx ends, then
// stops it (its whole process group: binkd forks a child per session).
func (sv *Supervisor) Run(ctx context.Context) error {
	delay := MinRestartDelay
	sv.update(func(st *BinkdState) { st.Port = sv.Settings.BinkdPort })
	for {
		conf, err := sv.Settings.WriteBinkdConfig()
		if err != nil {
			return err
		}
		started := time.Now()
		err = sv.runOnce(ctx, conf)
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(started) > stableRun {
			delay = MinRestartDelay
		}
		sv.Log.Warn("ftn: binkd exited; starting it again", "err", err, "in", delay)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
		delay = min(delay*2, MaxRestartDelay)
		sv.update(func(st *BinkdState) { st.Restarts++ })
	}
}

// runOnce runs binkd until it exits or ctx ends.
func (sv *Supervisor) runOnce(ctx context.Context, conf string) error {
	args := []string{"-q", conf}
	if sv.Settings.BinkdPort <= 0 {
		args = []string{"-q", "-c", conf} // calls out only
	}
	sv.stopStale()
	cmd := exec.Command(sv.Settings.Binkd, args...)
	// Its own process group, so that its session children stop with it;
	// and a signal if the board dies without stopping it (Linux).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		sv.update(func(st *BinkdState) { st.Running, st.LastError = false, err.Error() })
		return fmt.Errorf("ftn: starting binkd: %w", err)
	}
	pid := cmd.Process.Pid
	sv.update(func(st *BinkdState) { st.Running, st.PID, st.Started = true, pid, time.Now().UTC() })
	sv.Log.Info("ftn: binkd started", "pid", pid, "config", conf, "port", sv.Settings.BinkdPort)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		syscall.Kill(-pid, syscall.SIGTERM)
		select {
		case err = <-done:
		case <-time.After(StopGrace):
			syscall.Kill(-pid, syscall.SIGKILL)
			err = <-done
		}
	}
	// binkd's children still in its group (its client manager, sessions)
	// go with it, whether it was stopped or died: a binkd killed outright
	// leaves them running.
	syscall.Kill(-pid, syscall.SIGKILL)
	exit := "exited"
	if err != nil {
		exit = err.Error()
	}
	sv.update(func(st *BinkdState) { st.Running, st.PID, st.LastExit = false, 0, exit })
	return err
}

// stopStale stops a binkd left running by a board that died without
// stopping it (the FTN folder's pid file names a live process called
// binkd: binkd rewrites its command line, so the config's name is not
// there to compare), so that the new one can listen: binkd refuses to
// start while its pid file names a live process.
func (sv *Supervisor) stopStale() {
	b, err := os.ReadFile(sv.Settings.binkdPIDPath())
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || strings.TrimSpace(string(comm)) != filepath.Base(sv.Settings.Binkd) {
		return
	}
	sv.Log.Warn("ftn: stopping a binkd left running by an earlier run", "pid", pid)
	syscall.Kill(-pid, syscall.SIGTERM)
	syscall.Kill(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(StopGrace); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
	}
	syscall.Kill(-pid, syscall.SIGKILL)
	syscall.Kill(pid, syscall.SIGKILL)
}

// Poll calls uplink a now, with a binkd of its own that polls and quits
// (binkd -p -P), so it works whether the supervised binkd runs or not.
func (sv *Supervisor) Poll(ctx context.Context, a pkt.Addr) error {
	return Poll(ctx, sv.Settings, a)
}

// Poll runs "binkd -p -P a" with the settings' config, at most
// PollTimeout.
func Poll(ctx context.Context, s *Settings, a pkt.Addr) error {
	if _, ok := s.Uplink(a); !ok {
		return fmt.Errorf("ftn poll: %s is not an uplink", a)
	}
	conf, err := s.WriteBinkdConfig()
	if err != nil {
		return err
	}
	logStart := fileSize(s.BinkdLogPath())
	ctx, cancel := context.WithTimeout(ctx, PollTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Binkd, "-q", "-p", "-P", a.String()+"@"+s.Domain, conf)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	if cmd.Process != nil {
		// Whatever the poll's binkd forked goes with it.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("ftn poll %s: no answer within %v", a, PollTimeout)
		}
		return fmt.Errorf("ftn poll %s: binkd: %w: %s", a, err, clipOutput(out))
	}
	return pollOutcome(s.BinkdLogPath(), logStart, a.String()+"@"+s.Domain)
}

// pollOutcome reads what binkd logged from offset on about a session with
// node: nil if one ended well ("done (to NODE, OK"), else an error with
// binkd's last complaint.
func pollOutcome(logPath string, offset int64, node string) error {
	f, err := os.Open(logPath)
	if err != nil {
		return fmt.Errorf("ftn poll %s: binkd's log: %w", node, err)
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return fmt.Errorf("ftn poll %s: binkd's log: %w", node, err)
	}
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return fmt.Errorf("ftn poll %s: binkd's log: %w", node, err)
	}
	complaint := "no session"
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.Contains(line, "done (to "+node+", OK") || strings.Contains(line, "done (from "+node+", OK"):
			return nil
		case (strings.HasPrefix(line, "?") || strings.HasPrefix(line, "!")) && strings.Contains(line, node):
			complaint = strings.TrimSpace(line)
		}
	}
	return fmt.Errorf("ftn poll %s: %s", node, complaint)
}

// fileSize is a file's size, 0 if it does not exist.
func fileSize(path string) int64 {
	info, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return info.Size()
}

// clipOutput shortens a program's output for an error.
func clipOutput(b []byte) string {
	if len(b) > 300 {
		b = b[len(b)-300:]
	}
	return string(b)
}
