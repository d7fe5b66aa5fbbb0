package events

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Missed says what a Scheduler does with a due time it sees more than
// Grace late: the board was down (or the host stopped) when it passed.
type Missed int

const (
	// MissedOnce (the default) runs the event once, as soon as the board
	// is back, however many due times passed meanwhile.
	MissedOnce Missed = iota
	// MissedSkip runs nothing: the run is stored as "skipped" and the
	// event waits for its next due time.
	MissedSkip
)

// ParseMissed reads "once" or "skip" ("" is once).
func ParseMissed(s string) (Missed, error) {
	switch s {
	case "", "once":
		return MissedOnce, nil
	case "skip":
		return MissedSkip, nil
	}
	return 0, fmt.Errorf("missed = %q: say 'once' or 'skip'", s)
}

// String is the policy as events.lua writes it.
func (m Missed) String() string {
	if m == MissedSkip {
		return "skip"
	}
	return "once"
}

// MaxNameLen bounds an event's name, in bytes.
const MaxNameLen = 64

// Event is one declared job.
type Event struct {
	// Name identifies the event on the board (letters, digits, '-', '_',
	// '.'; at most MaxNameLen bytes).
	Name     string
	Schedule Schedule
	// Zone is the time zone of a daily or weekly schedule.
	Zone   *time.Location
	Missed Missed
}

// Key is what the store compares to see that the event's schedule
// changed: its schedule and zone.
func (e Event) Key() string { return e.Schedule.String() + " " + e.Zone.String() }

// Next is e's first due time after t.
func (e Event) Next(t time.Time) time.Time { return e.Schedule.Next(t, e.Zone) }

// CheckName refuses a name that is empty, too long or not plain.
func CheckName(name string) error {
	if name == "" || len(name) > MaxNameLen {
		return fmt.Errorf("event name %q: 1 to %d characters", name, MaxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return fmt.Errorf("event name %q: only letters, digits, '-', '_' and '.'", name)
		}
	}
	return nil
}

// ErrUnknown is returned for an event no script declares.
var ErrUnknown = errors.New("no such event")

// ZoneName names loc for people: its IANA name, and for the host's local
// zone the name $TZ or /etc/localtime gives it, else "Local" with its
// abbreviation and offset now.
func ZoneName(loc *time.Location) string {
	if loc != time.Local {
		return loc.String()
	}
	if tz, ok := os.LookupEnv("TZ"); ok {
		if tz = strings.TrimPrefix(tz, ":"); tz == "" {
			return "UTC"
		} else if _, err := time.LoadLocation(tz); err == nil {
			return tz
		}
	}
	if target, err := os.Readlink("/etc/localtime"); err == nil {
		if _, name, ok := strings.Cut(target, "zoneinfo/"); ok && name != "" {
			return name
		}
	}
	abbr, offset := time.Now().In(loc).Zone()
	return fmt.Sprintf("Local (%s, UTC%+03d:%02d)", abbr, offset/3600, abs(offset%3600)/60)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
