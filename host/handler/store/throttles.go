package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Throttles keeps the counts that slow down password guessing and mass
// registration, in the store every host of the board shares, so that a
// second phone line or a restart gives an attacker nothing. *SQLite
// implements it.
//
// Each check counts the attempt in the same transaction (an attempt is a
// failure until LoginSucceeded says otherwise), so callers racing on
// several hosts cannot all slip through one opening.
type Throttles interface {
	// BeginLogin counts a login attempt at name (a NameKey) from addr at
	// now, or refuses it with an error wrapping ErrThrottled (a
	// *ThrottledError says how long to wait) while an earlier attempt's
	// pause (LoginLimits.Pause) has not passed, for name from addr or for
	// addr at any name.
	BeginLogin(ctx context.Context, name, addr string, now time.Time, limits LoginLimits) error
	// LoginSucceeded forgets the attempts at name from addr and takes the
	// successful one back from addr's count.
	LoginSucceeded(ctx context.Context, name, addr string) error
	// BeginRegistration counts a registration from addr at now, or
	// refuses it with an error wrapping ErrThrottled when addr already
	// registered limit times within window. Cancel a registration that
	// did not happen with CancelRegistration(id).
	BeginRegistration(ctx context.Context, addr string, now time.Time, limit int, window time.Duration) (id int64, err error)
	// CancelRegistration takes back registration id.
	CancelRegistration(ctx context.Context, id int64) error
}

// LoginLimits say how long attempts pause after the count of earlier ones.
type LoginLimits struct {
	// Pause is how long the next attempt must wait after the n-th
	// counted one, for one name from one address (perName) and for one
	// address over all names.
	Pause func(n int, perName bool) time.Duration
	// Forget is how long counts are kept after their last attempt.
	Forget time.Duration
}

// ErrThrottled means an attempt is refused for now; the error is a
// *ThrottledError.
var ErrThrottled = errors.New("store: too many attempts")

// ThrottledError says how long a refused attempt must wait.
type ThrottledError struct {
	Wait time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v: try again in %v", ErrThrottled, e.Wait)
}

// Is makes errors.Is(err, ErrThrottled) true.
func (e *ThrottledError) Is(target error) bool { return target == ErrThrottled }

// MaxThrottleKeyBytes bounds the name and address kept per attempt:
// longer ones are cut (an attacker picks them).
const MaxThrottleKeyBytes = 64

// throttleKey cuts s to MaxThrottleKeyBytes.
func throttleKey(s string) string {
	if len(s) > MaxThrottleKeyBytes {
		return s[:MaxThrottleKeyBytes]
	}
	return s
}
