package events

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxScheduleLen bounds a schedule's text, in bytes.
const MaxScheduleLen = 64

// Bounds of an "every" schedule.
const (
	MinEvery = time.Second
	MaxEvery = 24 * time.Hour
)

// ErrSchedule is wrapped by every error of Parse.
var ErrSchedule = errors.New("bad schedule")

// kind is what a schedule repeats on.
type kind int

const (
	daily kind = iota + 1
	weekly
	every
)

// Schedule says when an event is due. The zero Schedule is never due;
// Parse makes the others.
type Schedule struct {
	kind         kind
	hour, minute int
	weekday      time.Weekday
	every        time.Duration
}

// Parse reads a schedule, one of (case and spacing aside):
//
//	daily HH:MM        every day at HH:MM, wall-clock time of the event's zone
//	weekly DAY HH:MM   every week on DAY (mon … sun, or monday … sunday)
//	every N UNIT       every N seconds, minutes or hours (s, m, h; "every 10m" too)
//
// HH is 00–23 (one digit allowed), MM 00–59; an "every" is 1s to 24h. The
// text is at most MaxScheduleLen bytes. Errors wrap ErrSchedule.
func Parse(text string) (Schedule, error) {
	if len(text) > MaxScheduleLen {
		return Schedule{}, fmt.Errorf("%w: longer than %d bytes", ErrSchedule, MaxScheduleLen)
	}
	words := strings.Fields(strings.ToLower(text))
	if len(words) == 0 {
		return Schedule{}, fmt.Errorf("%w: empty (try 'daily 03:00', 'weekly mon 09:00' or 'every 10m')", ErrSchedule)
	}
	var (
		s   Schedule
		err error
	)
	switch head, rest := words[0], words[1:]; head {
	case "daily":
		if len(rest) != 1 {
			return Schedule{}, fmt.Errorf("%w: %q: say 'daily HH:MM'", ErrSchedule, text)
		}
		s.kind = daily
		s.hour, s.minute, err = parseClock(rest[0])
	case "weekly":
		if len(rest) != 2 {
			return Schedule{}, fmt.Errorf("%w: %q: say 'weekly DAY HH:MM'", ErrSchedule, text)
		}
		s.kind = weekly
		if s.weekday, err = parseDay(rest[0]); err == nil {
			s.hour, s.minute, err = parseClock(rest[1])
		}
	case "every":
		s.kind = every
		s.every, err = parseEvery(strings.Join(rest, ""))
	default:
		return Schedule{}, fmt.Errorf("%w: %q: starts with daily, weekly or every", ErrSchedule, text)
	}
	if err != nil {
		return Schedule{}, fmt.Errorf("%w: %q: %v", ErrSchedule, text, err)
	}
	return s, nil
}

// parseClock reads HH:MM.
func parseClock(word string) (hour, minute int, err error) {
	h, m, ok := strings.Cut(word, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, 0, fmt.Errorf("%q is not a time HH:MM", word)
	}
	hour, err1 := strconv.Atoi(h)
	minute, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || !digits(h) || !digits(m) || hour > 23 || minute > 59 {
		return 0, 0, fmt.Errorf("%q is not a time from 00:00 to 23:59", word)
	}
	return hour, minute, nil
}

// digits reports whether s is only ASCII digits.
func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// parseDay reads a day of the week.
func parseDay(word string) (time.Weekday, error) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		if word == name || word == name[:3] {
			return d, nil
		}
	}
	return 0, fmt.Errorf("%q is not a day (mon, tue, wed, thu, fri, sat, sun)", word)
}

// parseEvery reads N and a unit written together ("10m", "2hours").
func parseEvery(word string) (time.Duration, error) {
	i := 0
	for i < len(word) && word[i] >= '0' && word[i] <= '9' {
		i++
	}
	if i == 0 || i > 6 {
		return 0, errors.New("say 'every N s|m|h' with N a whole number")
	}
	n, _ := strconv.Atoi(word[:i])
	var unit time.Duration
	switch word[i:] {
	case "s", "sec", "secs", "second", "seconds":
		unit = time.Second
	case "m", "min", "mins", "minute", "minutes":
		unit = time.Minute
	case "h", "hour", "hours":
		unit = time.Hour
	default:
		return 0, fmt.Errorf("%q is not a unit (s, m or h)", word[i:])
	}
	d := time.Duration(n) * unit
	if d < MinEvery || d > MaxEvery {
		return 0, fmt.Errorf("every %s is out of range (%s to %s)", d, MinEvery, MaxEvery)
	}
	return d, nil
}

// String is the schedule in Parse's canonical form.
func (s Schedule) String() string {
	switch s.kind {
	case daily:
		return fmt.Sprintf("daily %02d:%02d", s.hour, s.minute)
	case weekly:
		return fmt.Sprintf("weekly %s %02d:%02d", strings.ToLower(s.weekday.String()[:3]), s.hour, s.minute)
	case every:
		switch {
		case s.every%time.Hour == 0:
			return fmt.Sprintf("every %dh", s.every/time.Hour)
		case s.every%time.Minute == 0:
			return fmt.Sprintf("every %dm", s.every/time.Minute)
		}
		return fmt.Sprintf("every %ds", s.every/time.Second)
	}
	return "never"
}

// Period is the longest time between two due times: a day, a week, or
// the "every" (a day with a clock change is an hour longer or shorter).
func (s Schedule) Period() time.Duration {
	switch s.kind {
	case daily:
		return 24 * time.Hour
	case weekly:
		return 7 * 24 * time.Hour
	}
	return s.every
}

// Next is the first due time strictly after after; daily and weekly
// times are wall-clock times in loc. An "every" is due at whole multiples
// of its length since Go's zero time (for a length that divides a day:
// from midnight UTC), whatever loc.
//
// Clock changes: a time the clock skips (02:30 when it jumps from 02:00
// to 03:00) is due at the first instant after the jump, 03:00 new time; a
// time the clock shows twice (02:30 when it goes back from 03:00 to 02:00)
// is due once, the first time. The zero Schedule returns the zero time.
func (s Schedule) Next(after time.Time, loc *time.Location) time.Time {
	switch s.kind {
	case every:
		return after.Truncate(s.every).Add(s.every)
	case daily, weekly:
	default:
		return time.Time{}
	}
	local := after.In(loc)
	y, m, d := local.Date()
	// A week and a day covers every weekday once, whatever the clock did.
	for i := 0; i <= 8; i++ {
		day := time.Date(y, m, d+i, 12, 0, 0, 0, time.UTC)
		if s.kind == weekly && day.Weekday() != s.weekday {
			continue
		}
		due := wallTime(day.Year(), day.Month(), day.Day(), s.hour, s.minute, loc)
		if due.After(after) {
			return due
		}
	}
	return time.Time{} // not reached: some day within 8 days matches
}

// wallTime is the first instant at which loc's clock reads hour:minute on
// that date, or, if the clock skips that time, the first instant after
// the jump.
func wallTime(y int, m time.Month, d, hour, minute int, loc *time.Location) time.Time {
	naive := time.Date(y, m, d, hour, minute, 0, 0, time.UTC)
	guess := time.Date(y, m, d, hour, minute, 0, 0, loc)
	// The offsets in force half a day either side: a day has at most one
	// clock change in every zone that has them.
	_, before := guess.Add(-12 * time.Hour).Zone()
	_, after := guess.Add(12 * time.Hour).Zone()
	var best time.Time
	for _, off := range []int{before, after} {
		at := naive.Add(-time.Duration(off) * time.Second)
		if !reads(at.In(loc), y, m, d, hour, minute) {
			continue
		}
		if best.IsZero() || at.Before(best) {
			best = at
		}
	}
	if !best.IsZero() {
		return best
	}
	if reads(guess, y, m, d, hour, minute) {
		return guess
	}
	// Skipped: at the old offset the time falls after the jump; the jump
	// is within the gap before it.
	at := naive.Add(-time.Duration(before) * time.Second)
	gap := time.Duration(after-before) * time.Second
	if gap <= 0 {
		gap = time.Duration(before-after) * time.Second
	}
	return jumpBefore(at, gap, loc)
}

// reads reports whether t's clock shows that date and time.
func reads(t time.Time, y int, m time.Month, d, hour, minute int) bool {
	ty, tm, td := t.Date()
	return ty == y && tm == m && td == d && t.Hour() == hour && t.Minute() == minute
}

// jumpBefore finds, to the second, the clock change in (at-gap, at]: the
// first instant with at's offset.
func jumpBefore(at time.Time, gap time.Duration, loc *time.Location) time.Time {
	_, want := at.In(loc).Zone()
	lo, hi := at.Add(-gap), at
	for hi.Sub(lo) > time.Second {
		mid := lo.Add(hi.Sub(lo) / 2)
		if _, off := mid.In(loc).Zone(); off == want {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi.Truncate(time.Second) // clocks change on a whole second
}
