package store

import (
	"context"
	"errors"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/accessrule"
)

// Access keeps what access rules and time limits ask about callers:
// numbered security levels, groups and flags, new users waiting for the
// sysop's approval, and the time each caller spent online per day.
// *SQLite implements it.
type Access interface {
	// SetSecurity sets name's security level, 0 to MaxSecurity
	// (ErrBadLevel outside), and the level's name with it (see
	// Account.Level).
	SetSecurity(ctx context.Context, name string, level int) error
	// SetGroup adds name to group (member) or takes them out of it.
	// ErrBadGroup for a group name accessrule.GroupName refuses; at most
	// MaxGroups groups a user (ErrBadGroup past it).
	SetGroup(ctx context.Context, name, group string, member bool) error
	// SetFlags sets name's flags: letters A to Z (any case, any order,
	// repeats ignored); ErrBadFlags for anything else.
	SetFlags(ctx context.Context, name, flags string) error
	// Waiting lists the accounts waiting for approval, oldest first, at
	// most limit (and MaxListed).
	Waiting(ctx context.Context, limit int) ([]Account, error)
	// Approve ends name's wait for approval, raising their level to
	// SecurityUser if it is lower. ErrNotWaiting if they were not
	// waiting.
	Approve(ctx context.Context, name string) error
	// AddTimeUsed adds seconds to what name spent online on day (a date,
	// YYYY-MM-DD, in the board's time zone) and returns the day's total.
	// Earlier days of name are forgotten.
	AddTimeUsed(ctx context.Context, name, day string, seconds int) (int, error)
	// TimeUsed returns the seconds name spent online on day.
	TimeUsed(ctx context.Context, name, day string) (int, error)
	// CallStarted returns when the call on connID by name began: at, and
	// kept as such, if fresh (a login) or if no start is kept for that
	// call; else the start kept (a session rebuilt after a restart).
	// Starts kept longer than MaxCallAge before at are forgotten.
	CallStarted(ctx context.Context, connID, name string, at time.Time, fresh bool) (time.Time, error)
	// CallEnded forgets the start of the call on connID.
	CallEnded(ctx context.Context, connID string) error
}

// MaxCallAge is how long CallStarted keeps the start of a call whose end
// was never reported (its host died and the caller never came back).
const MaxCallAge = 48 * time.Hour

// Security levels, as numbers; the named levels are LevelNew, LevelUser
// and LevelSysop (accessrule.LevelNew, ...).
const (
	SecurityNew   = accessrule.LevelNew
	SecurityUser  = accessrule.LevelUser
	SecuritySysop = accessrule.LevelSysop
	MaxSecurity   = 255
)

// MaxGroups bounds the groups one user belongs to.
const MaxGroups = 16

// Sentinel errors of Access, returned wrapped.
var (
	// ErrBadGroup means a group name breaks the naming rules, or a user
	// would have more than MaxGroups.
	ErrBadGroup = errors.New("store: invalid group")
	// ErrBadFlags means flags other than the letters A to Z.
	ErrBadFlags = errors.New("store: invalid flags")
	// ErrNotWaiting means the user is not waiting for approval.
	ErrNotWaiting = errors.New("store: not waiting for approval")
	// ErrBadDay means a day that is not a YYYY-MM-DD date.
	ErrBadDay = errors.New("store: invalid day")
)

// LevelOf names a security level by the highest named level it reaches:
// LevelSysop from SecuritySysop, LevelUser from SecurityUser, else
// LevelNew.
func LevelOf(security int) string {
	switch {
	case security >= SecuritySysop:
		return LevelSysop
	case security >= SecurityUser:
		return LevelUser
	}
	return LevelNew
}

// SecurityOf is the number of a named level (0 for an unknown name).
func SecurityOf(level string) int {
	switch level {
	case LevelNew:
		return SecurityNew
	case LevelUser:
		return SecurityUser
	case LevelSysop:
		return SecuritySysop
	}
	return 0
}
