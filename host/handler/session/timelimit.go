package session

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/luaapi"
)

// Time limits: with Config.TimeLimits, a caller who logs in gets the
// limit of their security level: minutes per call and per day. The
// table's reaper (ReapIdle, where idle callers are hung up) warns them
// TimeWarnings before the end and hangs up on them at the end with
// Config.TimeScreen. The day's time is kept in the store
// (store.Access.AddTimeUsed), charged every ChargeEvery and when the
// session ends, so that it counts across phone lines and survives a
// restart; a day starts at midnight in Config.TimeZone. When a call
// began is kept in the store too (store.Access.CallStarted), so that a
// session rebuilt after a restart, an upgrade or a move to another line
// goes on with its call's clock; it is forgotten when the call ends.

// TimeLimit is the time a caller whose level is at least Level may spend
// online: PerCall in one call, PerDay in one day (zero: no limit).
type TimeLimit struct {
	Level           int
	PerCall, PerDay time.Duration
}

// MaxTimeLimits bounds the entries of the time_limits setting.
const MaxTimeLimits = 64

// ParseTimeLimits reads the time_limits setting: comma-separated
// LEVEL=PERCALL/PERDAY entries, each time a Go duration ("45m", "2h") or
// a number of minutes, 0 for no limit; "20=60/180, 255=0/0". A caller
// gets the entry with the highest LEVEL not above their level; a caller
// below every entry has no limit. "" is no limits.
func ParseTimeLimits(setting string) ([]TimeLimit, error) {
	var limits []TimeLimit
	for entry := range strings.SplitSeq(setting, ",") {
		if entry = strings.TrimSpace(entry); entry == "" {
			continue
		}
		level, times, ok := strings.Cut(entry, "=")
		perCall, perDay, ok2 := strings.Cut(times, "/")
		if !ok || !ok2 {
			return nil, fmt.Errorf("time limits: %q is not LEVEL=PERCALL/PERDAY", entry)
		}
		n, err := strconv.Atoi(strings.TrimSpace(level))
		if err != nil || n < 0 || n > store.MaxSecurity {
			return nil, fmt.Errorf("time limits: %q: the level is a number from 0 to %d", entry, store.MaxSecurity)
		}
		l := TimeLimit{Level: n}
		for _, f := range []struct {
			dst *time.Duration
			src string
		}{{&l.PerCall, perCall}, {&l.PerDay, perDay}} {
			if *f.dst, err = limitDuration(f.src); err != nil {
				return nil, fmt.Errorf("time limits: %q: %w", entry, err)
			}
		}
		limits = append(limits, l)
	}
	if len(limits) > MaxTimeLimits {
		return nil, fmt.Errorf("time limits: %d entries, at most %d", len(limits), MaxTimeLimits)
	}
	slices.SortStableFunc(limits, func(a, b TimeLimit) int { return a.Level - b.Level })
	return limits, nil
}

// limitDuration reads one time of a time limit: a duration or minutes.
func limitDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if m, err := strconv.Atoi(s); err == nil && m >= 0 {
		return time.Duration(m) * time.Minute, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a number of minutes or a duration like '45m'", s)
	}
	return d, nil
}

// limitFor is the limit of a caller at level, and whether there is one.
func limitFor(limits []TimeLimit, level int) (TimeLimit, bool) {
	var found TimeLimit
	ok := false
	for _, l := range limits {
		if l.Level <= level {
			found, ok = l, true
		}
	}
	return found, ok && (found.PerCall > 0 || found.PerDay > 0)
}

// TimeWarnings are how long before the end of their time a caller is
// warned, longest first.
func TimeWarnings() []time.Duration { return []time.Duration{2 * time.Minute, time.Minute} }

// ChargeEvery is how often the time of a call is added to the day's in
// the store while it lasts.
const ChargeEvery = time.Minute

const fallbackTimeText = "Your time is up. Thanks for calling, and call again soon!"

// callClock is the time limit of one logged-in caller.
type callClock struct {
	perCall, perDay time.Duration
	loginAt         time.Time
	// day is the date the day's time is kept under, until dayEnds (its
	// midnight); today is that day's time as the store last said, up to
	// lastCharge.
	day        string
	dayEnds    time.Time
	today      time.Duration
	lastCharge time.Time
	// warned is the shortest warning given (0: none yet).
	warned time.Duration
	// kept says the store keeps when the call began (CallStarted).
	kept bool
}

// left is how long the caller has at now.
func (c *callClock) left(now time.Time) time.Duration {
	left := time.Duration(1<<63 - 1)
	if c.perCall > 0 {
		left = min(left, c.perCall-now.Sub(c.loginAt))
	}
	if c.perDay > 0 {
		left = min(left, c.perDay-c.today-now.Sub(c.lastCharge))
	}
	return left
}

// location is the time zone days are counted in.
func (t *Table) location() *time.Location {
	if t.cfg.TimeZone != nil {
		return t.cfg.TimeZone
	}
	return time.Local
}

// dayOf is the date of now in the board's time zone, and the midnight
// that ends that day.
func (t *Table) dayOf(now time.Time) (day string, ends time.Time) {
	local := now.In(t.location())
	y, m, d := local.Date()
	return local.Format(time.DateOnly), time.Date(y, m, d+1, 0, 0, 0, 0, t.location())
}

// startClock starts s's time limit once its caller is known: fresh at a
// login, or going on with the call's clock kept in the store when the
// session is rebuilt by a replay.
func (t *Table) startClock(s *Session, fresh bool) {
	if len(t.cfg.TimeLimits) == 0 || s.user == "" || t.deps.Store == nil || t.dry != nil {
		return // a dry run (dryrun.go) keeps no clock: it writes nothing
	}
	if s.clock != nil {
		if !fresh {
			return
		}
		// A new login on the session (a replay that restarted the call
		// from the top): the old clock's time is charged, and it ends.
		t.charge(s, t.now())
		t.endClock(s)
		s.clock = nil
	}
	ctx := context.Background()
	a, err := t.deps.Store.Account(ctx, s.user)
	if err != nil {
		s.log.Warn("time limit: the caller's level could not be read: no limit this call", "err", err)
		return
	}
	limit, ok := limitFor(t.cfg.TimeLimits, a.Security)
	if !ok {
		return
	}
	now := t.now()
	c := &callClock{perCall: limit.PerCall, perDay: limit.PerDay, loginAt: now, lastCharge: now}
	c.day, c.dayEnds = t.dayOf(now)
	if c.perCall > 0 {
		started, err := t.deps.Store.CallStarted(ctx, s.connID, s.user, now, fresh)
		if err != nil {
			s.log.Warn("time limit: when the call began could not be kept", "err", err)
		} else {
			c.loginAt, c.kept = started, true
		}
	}
	if c.perDay > 0 {
		used, err := t.deps.Store.TimeUsed(ctx, s.user, c.day)
		if err != nil {
			s.log.Warn("time limit: the day's time could not be read", "err", err)
		}
		c.today = time.Duration(used) * time.Second
	}
	s.clock = c
	s.log.Info("time limit", "per_call", c.perCall, "per_day", c.perDay, "left", c.left(now).Round(time.Second))
}

// endClock forgets when s's call began: the call is over.
func (t *Table) endClock(s *Session) {
	if s.clock == nil || !s.clock.kept {
		return
	}
	s.clock.kept = false
	if err := t.deps.Store.CallEnded(context.Background(), s.connID); err != nil {
		s.log.Warn("time limit: the call's start could not be forgotten", "err", err)
	}
}

// timeLeft is users.time_left: how long the caller on L has.
func (t *Table) timeLeft(L *lua.LState) (time.Duration, bool) {
	s := t.sessionOn(L)
	if s == nil || s.clock == nil {
		return 0, false
	}
	return max(s.clock.left(t.now()), 0), true
}

// checkTime keeps s's time limit at now: it rolls the day over at
// midnight, charges the day's time, warns the caller, and ends the
// session when their time is up, reporting whether it did.
func (t *Table) checkTime(s *Session, now time.Time) (ended bool) {
	c := s.clock
	if !now.Before(c.dayEnds) { // midnight: the day's time goes to the old day
		if midnight := c.dayEnds; midnight.After(c.lastCharge) {
			t.charge(s, midnight)
			c.lastCharge = midnight
		}
		c.day, c.dayEnds = t.dayOf(now)
		c.today = 0
	}
	if now.Sub(c.lastCharge) >= ChargeEvery {
		t.charge(s, now)
	}
	left := c.left(now)
	if left <= 0 {
		s.log.Info("time limit reached: ending the call")
		t.end(s, t.cfg.TimeScreen, fallbackTimeText)
		return true
	}
	warning := time.Duration(0)
	for _, w := range TimeWarnings() {
		if left <= w {
			warning = w
		}
	}
	if warning > 0 && (c.warned == 0 || warning < c.warned) {
		c.warned = warning
		t.tell(s, timeWarningText(left))
	}
	return false
}

// timeWarningText tells a caller how long they have, in minutes rounded
// up.
func timeWarningText(left time.Duration) string {
	minutes := int((left + time.Minute - 1) / time.Minute)
	unit := "minutes"
	if minutes == 1 {
		unit = "minute"
	}
	return fmt.Sprintf("Time check: you have %d %s left on the board.", minutes, unit)
}

// tell shows s's caller a line, as a broadcast does.
func (t *Table) tell(s *Session, text string) {
	msg := message.Screen(luaapi.RenderColour(text, s.conn.Colour))
	if err := s.conn.Send(s.conn.Sender, s.connID, msg, ""); err != nil {
		s.log.Warn("time warning", "err", err)
	}
}

// charge adds the time of s's call since it was last charged, up to
// until, to the day's time in the store, in whole seconds.
func (t *Table) charge(s *Session, until time.Time) {
	c := s.clock
	if c.perDay <= 0 {
		return
	}
	secs := int(until.Sub(c.lastCharge) / time.Second)
	if secs <= 0 {
		return
	}
	c.lastCharge = c.lastCharge.Add(time.Duration(secs) * time.Second)
	total, err := t.deps.Store.AddTimeUsed(context.Background(), s.user, c.day, secs)
	if err != nil {
		s.log.Warn("time limit: the day's time could not be stored", "err", err)
		c.today += time.Duration(secs) * time.Second
		return
	}
	c.today = time.Duration(total) * time.Second
}
