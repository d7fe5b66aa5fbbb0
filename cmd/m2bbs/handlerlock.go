package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// One host per handler. Two hosts connected to the same send_spec split
// the front end's requests between them (ZeroMQ deals them out in turn),
// so each caller's lines land on a host that has half their session, and
// callers hang. A host therefore holds an exclusive lock named after its
// send_spec while it runs: a second host on the same spec and database
// is refused at start. The lock is a file beside the database
// (<db>.handler-<hash>.lock, in a folder only the sysop writes, unlike a
// world-writable temporary folder where anyone could take the name
// first or plant a symbolic link to the database), locked with flock(2),
// so the kernel releases it however the holder ends (kill -9 included)
// and a restarted host gets it at once. It is opened without following
// a symbolic link, and written only if it is a regular file.

// ErrHandlerTaken is returned when another process already serves the
// handler.
var ErrHandlerTaken = errors.New("another m2bbs host already serves this handler")

// handlerLockPath is the lock file of send spec spec for the database at
// dbPath.
func handlerLockPath(dbPath, spec string) string {
	sum := sha256.Sum256([]byte(spec))
	return filepath.Clean(dbPath) + ".handler-" + hex.EncodeToString(sum[:8]) + ".lock"
}

// lockHandler takes the lock of the handler whose requests come from
// spec, or fails with ErrHandlerTaken naming the holder's PID. An inproc
// spec belongs to its process and needs none. The lock file lies beside
// the database at dbPath. release gives the lock up.
func lockHandler(dbPath, spec string) (release func(), err error) {
	if strings.HasPrefix(spec, "inproc://") {
		return func() {}, nil
	}
	path := handlerLockPath(dbPath, spec)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("handler lock: %w", err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("handler lock %s (not a symbolic link, a file the host may write): %w", path, err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("handler lock %s: not a regular file", path)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder := readHolder(f)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (pid %s, send spec %s): stop it first, or give this one its own -send-spec and -recv-spec (lock file %s)",
				ErrHandlerTaken, holder, spec, path)
		}
		return nil, fmt.Errorf("handler lock %s: %w", path, err)
	}
	// Who holds it, for the message a second host prints.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { f.Close() }, nil // closing the file releases the lock
}

// readHolder is the PID a lock file names, or "unknown".
func readHolder(f *os.File) string {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	if pid := strings.TrimSpace(string(buf[:n])); pid != "" {
		return pid
	}
	return "unknown"
}
