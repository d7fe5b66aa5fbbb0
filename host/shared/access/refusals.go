package access

import (
	"log/slog"
	"sync"
	"time"
)

// RefusalLogEvery is the shortest time between two log lines of one
// RefusalLog; the refusals in between are counted in the next line.
const RefusalLogEvery = time.Second

// RefusalLog writes the log lines of refused requests, at most one per
// RefusalLogEvery: a refused request costs an attacker nothing, and the
// log must not grow with their rate. The zero value is ready; it is safe
// for concurrent use.
type RefusalLog struct {
	mu         sync.Mutex
	last       time.Time
	suppressed int
}

// Warn writes msg with args at level Warn to log, unless a line went out
// less than RefusalLogEvery ago; the next line carries "suppressed", the
// number left out.
func (r *RefusalLog) Warn(log *slog.Logger, msg string, args ...any) {
	r.mu.Lock()
	now := time.Now()
	if !r.last.IsZero() && now.Sub(r.last) < RefusalLogEvery {
		r.suppressed++
		r.mu.Unlock()
		return
	}
	r.last = now
	suppressed := r.suppressed
	r.suppressed = 0
	r.mu.Unlock()
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed)
	}
	log.Warn(msg, args...)
}
