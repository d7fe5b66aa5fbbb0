package store

import (
	"errors"
	"fmt"
	"strings"

	"github.com/mattn/go-sqlite3"
)

// Faults of the database itself, as opposed to the expected failures
// above (a name taken, a post not found): test for them with errors.Is.
var (
	// ErrFault means SQLite failed to do what was asked: the disk is full,
	// an I/O error, the database stayed locked past the busy timeout.
	// Nothing of the call was stored.
	ErrFault = errors.New("store: database fault")
	// ErrFull means the disk (or the database's size limit) is full
	// (SQLITE_FULL); it is also an ErrFault.
	ErrFull = errors.New("store: disk full")
)

// faultError is a driver error marked as an ErrFault (and ErrFull).
type faultError struct {
	op   string
	err  error
	full bool
}

func (e *faultError) Error() string { return "store: " + e.op + ": " + e.err.Error() }
func (e *faultError) Unwrap() error { return e.err }

// Is makes errors.Is(err, ErrFault) true, and ErrFull for a full disk.
func (e *faultError) Is(target error) bool {
	return target == ErrFault || (e.full && target == ErrFull)
}

// asFault returns err, from op, marked as a fault if SQLite raised it (a
// constraint violation is the caller's mistake, not a fault), else nil.
func asFault(op string, err error) error {
	if fault := pgFault(op, err); fault != nil {
		return fault
	}
	var se sqlite3.Error
	if !errors.As(err, &se) || se.Code == sqlite3.ErrConstraint {
		return nil
	}
	return &faultError{op: op, err: err, full: se.Code == sqlite3.ErrFull}
}

// Synchronous settings for Options.Sync: how hard SQLite makes sure a
// committed transaction is on the disk before the call returns.
const (
	// SyncNormal (the default) syncs the WAL at checkpoints only: a power
	// cut or an operating-system crash can lose the last transactions
	// committed before it, never corrupt the database. A crash of m2bbs
	// alone loses nothing.
	SyncNormal = "normal"
	// SyncFull syncs the WAL at every commit: a power cut loses nothing
	// committed, at the price of one disk flush per write (see
	// docs/benchmarks.md).
	SyncFull = "full"
)

// syncPragma is SQLite's synchronous value for Options.Sync.
func syncPragma(sync string) (string, error) {
	switch strings.ToLower(sync) {
	case "", SyncNormal:
		return "NORMAL", nil
	case SyncFull:
		return "FULL", nil
	}
	return "", fmt.Errorf("synchronous %q is neither %q nor %q", sync, SyncNormal, SyncFull)
}
