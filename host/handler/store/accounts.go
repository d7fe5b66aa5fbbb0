package store

import (
	"context"
	"errors"
	"time"
)

// Security levels, lowest first.
const (
	LevelNew   = "new"
	LevelUser  = "user"
	LevelSysop = "sysop"
)

// LevelRank orders the security levels: a caller may use what needs a
// level of the same or a lower rank. Unknown levels rank 0.
func LevelRank(level string) int {
	switch level {
	case LevelNew:
		return 1
	case LevelUser:
		return 2
	case LevelSysop:
		return 3
	}
	return 0
}

// MaxOnelinerBytes bounds one line on the one-liners wall.
const MaxOnelinerBytes = 200

// ErrBadLevel is returned for a security level that is not one of
// LevelNew, LevelUser and LevelSysop.
var ErrBadLevel = errors.New("store: unknown security level")

// ErrBadEncoding is returned for a character set other than "utf-8",
// "cp437", "ascii" and "".
var ErrBadEncoding = errors.New("store: unknown character set")

// Account is what the board knows of a registered caller.
type Account struct {
	Name string
	// Level is the name of the highest named level Security reaches
	// (LevelOf).
	Level  string
	Banned bool
	// Security is the level as a number, 0 to MaxSecurity; Groups (lower
	// case, sorted) and Flags (letters A to Z, sorted) are what access
	// rules test besides it (see Access).
	Security int
	Groups   []string
	Flags    string
	// Waiting says the account waits for the sysop's approval.
	Waiting bool
	// Encoding is the character set the caller chose for their terminal
	// ("utf-8", "cp437" or "ascii"), "" until they chose one.
	Encoding   string
	Registered time.Time
	// LastCall is the last successful login, zero if none.
	LastCall time.Time
	Calls    int
}

// Call is one successful login.
type Call struct {
	User string
	At   time.Time
}

// Oneliner is one line on the wall.
type Oneliner struct {
	User   string
	Text   string
	Posted time.Time
}

// Accounts keeps security levels, bans, the calls log and the one-liners
// wall. *SQLite implements it.
type Accounts interface {
	// Account returns name's account; ErrNoSuchUser if there is none.
	Account(ctx context.Context, name string) (Account, error)
	// Accounts lists accounts by name, a page at a time.
	Accounts(ctx context.Context, offset, limit int) ([]Account, error)
	SetLevel(ctx context.Context, name, level string) error
	SetBanned(ctx context.Context, name string, banned bool) error
	// SetEncoding keeps the character set name chose for their terminal:
	// "utf-8", "cp437", "ascii", or "" to forget it; ErrBadEncoding for
	// another.
	SetEncoding(ctx context.Context, name, encoding string) error
	// RecordCall logs a successful login.
	RecordCall(ctx context.Context, name string) error
	// LastCalls lists the n latest logins, newest first.
	LastCalls(ctx context.Context, n int) ([]Call, error)
	// AddOneliner writes text on the wall (1 to MaxOnelinerBytes bytes,
	// one line); ErrTooLarge past that.
	AddOneliner(ctx context.Context, user, text string) error
	// Oneliners lists the n latest lines, newest first.
	Oneliners(ctx context.Context, n int) ([]Oneliner, error)
}
