// Package lograte keeps a flood from filling the log: a Limiter writes the
// first few lines of one kind per interval and then, once the interval is
// over, one summary line with how many were left out.
//
// A caller who sends thousands of malformed frames a second would
// otherwise write a log line for each (150 MB in a few seconds); with a
// Limiter the sysop sees the first ones, with their conn ids, and a count.
package lograte

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Defaults for a zero Burst or Interval.
const (
	DefaultBurst    = 5
	DefaultInterval = 10 * time.Second
)

// Limiter writes at most Burst lines of each message per Interval through
// its logger and counts the rest, so that one kind of flood does not hide
// the others. Messages are the constant strings of the call sites, so
// there are few of them. Its methods are safe for concurrent use.
type Limiter struct {
	log      *slog.Logger
	burst    int
	interval time.Duration

	mu      sync.Mutex
	windows map[string]*window
}

// window is one message's current interval.
type window struct {
	end        time.Time
	written    int
	suppressed int
	timer      *time.Timer
}

// New returns a Limiter writing to log at most burst lines of a message per
// interval (DefaultBurst, DefaultInterval when zero).
func New(log *slog.Logger, burst int, interval time.Duration) *Limiter {
	if burst <= 0 {
		burst = DefaultBurst
	}
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Limiter{log: log, burst: burst, interval: interval, windows: make(map[string]*window)}
}

// Warn writes a warning unless Burst lines of msg were written this
// interval; then it only counts it, for the summary.
func (l *Limiter) Warn(msg string, args ...any) {
	l.Log(slog.LevelWarn, msg, args...)
}

// Log is Warn at any level.
func (l *Limiter) Log(level slog.Level, msg string, args ...any) {
	if !l.allow(msg) {
		return
	}
	l.log.Log(context.Background(), level, msg, args...)
}

// allow reports whether a line of msg may be written now, and counts it
// if not.
func (l *Limiter) allow(msg string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	w := l.windows[msg]
	if w == nil {
		w = &window{}
		l.windows[msg] = w
	}
	if now.After(w.end) && w.suppressed == 0 {
		w.end, w.written = now.Add(l.interval), 0
	}
	if w.written < l.burst {
		w.written++
		return true
	}
	w.suppressed++
	if w.timer == nil {
		w.timer = time.AfterFunc(time.Until(w.end), func() { l.summarize(msg) })
	}
	return false
}

// summarize writes how many lines of msg were left out in the interval
// that just ended, and starts a new interval.
func (l *Limiter) summarize(msg string) {
	l.mu.Lock()
	w := l.windows[msg]
	n := w.suppressed
	w.suppressed, w.timer = 0, nil
	w.end, w.written = time.Now().Add(l.interval), 0
	l.mu.Unlock()
	if n > 0 {
		l.log.Warn(msg+" (more of these left out of the log)", "suppressed", n, "interval", l.interval)
	}
}

// Suppressed is how many lines were left out and not yet summarized.
func (l *Limiter) Suppressed() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, w := range l.windows {
		n += w.suppressed
	}
	return n
}
