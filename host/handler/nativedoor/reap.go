package nativedoor

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// What a door leaves behind, and finding it again.
//
// Every process of a door carries its node's folder in its environment
// (M2BBS_NODEDIR): a process that leaves the door's process group
// (setsid) keeps it, as do its children, unless it clears its
// environment. The run's end kills every such process of the node's
// folder (killMarked), and Reap, at a host's start, those of the folders
// of hosts that are gone (killed with SIGKILL: their doors were never
// ended, and a door that ignores SIGHUP outlives its terminal).
//
// A runner's folder names its host process: run-PID-START, START being
// the process's start time in clock ticks since boot (/proc/PID/stat), so
// that a PID used again by another process is not taken for the host.

// nodeDirVar is the environment variable that marks a door's processes.
const nodeDirVar = "M2BBS_NODEDIR="

// runFolder names the folder of the runner of host process pid.
func runFolder(pid int, start string) string { return "run-" + strconv.Itoa(pid) + "-" + start }

// processStart is pid's start time (field 22 of /proc/PID/stat), or ""
// when there is no such process.
func processStart(pid int) string {
	f := statFields(strconv.Itoa(pid))
	if len(f) < 20 {
		return ""
	}
	return f[19] // fields from the third (state): the 22nd is starttime
}

// statFields are the fields of /proc/PID/stat from the third (the
// state) on, or nil when there is no such process. The second, the
// command's name in parentheses, may hold spaces and parentheses.
func statFields(pid string) []string {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 > len(b) {
		return nil
	}
	return strings.Fields(string(b[i+2:]))
}

// hostAlive reports whether the runner folder name (run-PID-START) names a
// process still running.
func hostAlive(name string) bool {
	rest, ok := strings.CutPrefix(name, "run-")
	if !ok {
		return false
	}
	pid, start, ok := strings.Cut(rest, "-")
	n, err := strconv.Atoi(pid)
	return ok && err == nil && n > 0 && start != "" && processStart(n) == start
}

// ownFolder makes dir (mode 0700) if it is missing and checks that it is
// a folder of the host's user, not a symbolic link, that no one else may
// enter.
func ownFolder(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("doors folder: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("doors folder: %w", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case !fi.IsDir():
		return fmt.Errorf("doors folder %s: not a folder (a symbolic link?)", dir)
	case ok && int(st.Uid) != os.Getuid():
		return fmt.Errorf("doors folder %s: owned by user %d, not this one", dir, st.Uid)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("doors folder: %w", err)
		}
	}
	return nil
}

// killMarked kills (SIGKILL) every process whose node folder match
// accepts, again until none is left (a process may fork meanwhile), for
// KillGrace at most; it returns how many it killed.
func killMarked(match func(nodeDir string) bool) int {
	killed := 0
	for deadline := time.Now().Add(KillGrace); ; {
		pids := marked(match)
		for _, pid := range pids {
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				killed++
			}
		}
		if len(pids) == 0 || time.Now().After(deadline) {
			return killed
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// marked lists the processes (not zombies) whose M2BBS_NODEDIR match
// accepts. It reads /proc: processes of other users are not readable,
// and not ours to kill.
func marked(match func(nodeDir string) bool) []int {
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || len(env) == 0 {
			continue // gone, another user's, or a zombie
		}
		for _, v := range bytes.Split(env, []byte{0}) {
			if dir, ok := bytes.CutPrefix(v, []byte(nodeDirVar)); ok && match(string(dir)) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// Reap kills what the doors of hosts that are gone left running, and
// removes their folders, in TempRoot: call it when the host starts, before
// any door. It returns how many processes it killed. Without TempRoot it
// does nothing (a runner's folder in os.TempDir() is not found again).
func (r *Runner) Reap() (int, error) {
	if r.TempRoot == "" {
		return 0, nil
	}
	entries, err := os.ReadDir(r.TempRoot)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reap doors: %w", err)
	}
	killed := 0
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "run-") || hostAlive(e.Name()) {
			continue
		}
		dir := filepath.Join(r.TempRoot, e.Name())
		killed += killMarked(func(nodeDir string) bool { return strings.HasPrefix(nodeDir, dir+string(filepath.Separator)) })
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return killed, fmt.Errorf("reap doors: %w", err)
	}
	return killed, nil
}

// closeOnExec marks every descriptor of the host past standard error
// close-on-exec, so that a door inherits only what it is given. Go opens
// its own files so; C libraries linked in (ZeroMQ, SQLite) may not.
func closeOnExec() {
	entries, _ := os.ReadDir("/proc/self/fd")
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
