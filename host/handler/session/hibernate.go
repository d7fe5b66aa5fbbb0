package session

import (
	"strings"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/journal"
)

// Hibernation: with journals on, a caller who has sat at a plain prompt
// for Config.HibernateAfter, whose journal is stored, gives up their
// coroutine: the Lua thread, its stack and frames, its context and the
// conn's Lua value go, and what the host must still know of the caller
// stays in the Session (conn id, sender, user, address, node, when they
// called and last typed, what they were shown, their time limit, their
// rate limits, events kept for them). The session stays in the table:
// everything that walks the table (the status page and who's online,
// Broadcast, Kick, ReapIdle and time limits, Disconnect and Forget,
// node numbers, Detach and Adopt) sees a hibernated caller as online,
// and works on them without waking them.
//
// The caller's next line wakes them: the session is rebuilt from its
// journal by the replay a restarted host uses (journal.go), the kept
// record is carried onto it, and the line is handled as usual. With the
// board's checkpoint at the main menu the journal is a few entries and
// the wake-up costs a replay of them (BenchmarkWake).
//
// A session is never hibernated while the board works for it or it waits
// for anything but a line: a hash (offload.go), a door, a transfer or
// another stream (stream.go), shared.ask (events.go), keystroke or binary
// mode, a replay; nor while its journal has entries not stored, is being
// reset, or was given up; nor on a table without journals (-no-journal).
// A page (callers.page) is a screen sent to them: it is shown at once,
// without waking them. An event of the shared module published for a
// hibernated caller is kept for them, as for any caller at a plain
// prompt, up to MaxQueuedEvents, and delivered when they next wait in
// shared.ask.

// MaxHibernateEntries bounds the journal of a session that hibernates. A
// wake-up holds the caller's worker, and every other caller on it, for
// the replay, which runs the script again over each journaled line (a
// reader 80 messages past the main menu took about 10 ms). A caller
// further from the main menu's checkpoint, whose journal holds more
// entries, stays in memory, as every caller did before; a caller at the
// main menu has four. So a wake-up costs a few lines' replay (about
// 0.2 ms at the main menu), and a hostile caller who idles and types,
// again and again, makes the board replay a few lines per HibernateAfter.
const MaxHibernateEntries = 32

// DefaultHibernateAfter is how long a caller sits at a prompt before
// their session is hibernated, when Config.HibernateAfter is zero. A
// caller who types within it pays no wake-up; one who sits longer costs
// about 1.7 KiB of live heap instead of 7 KiB (BenchmarkHibernatedSession).
const DefaultHibernateAfter = 30 * time.Second

// hibernateAfter is the idle time past which sessions hibernate, or a
// negative duration for never.
func (t *Table) hibernateAfter() time.Duration {
	if t.journals == nil || t.dry != nil {
		return -1
	}
	return t.cfg.HibernateAfter
}

// canHibernate reports whether s waits at a plain prompt with nothing
// but its journal needed to rebuild it.
func (t *Table) canHibernate(s *Session) bool {
	if s.asleep || s.thread == nil || t.running == s || !t.journaling(s) {
		return false
	}
	j := s.journal
	if !j.stored || j.reset || j.dirty || j.replaying || j.lost || len(j.pending) > 0 || j.entries > MaxHibernateEntries {
		return false
	}
	if s.waitingForWork() || s.inReplay || len(s.queued) > 0 || s.listening || s.eventsDue {
		return false
	}
	c := s.conn
	return c.LastPrompt() != nil && !c.KeysMode() && !c.BinaryMode() && !c.Closed() && !c.Exited()
}

// hibernate drops s's coroutine, keeping the session's record.
func (t *Table) hibernate(s *Session) {
	delete(t.byThread, s.thread)
	s.cancel()
	s.thread, s.cancel, s.connValue = nil, nil, nil
	s.journal.lastRequest = journal.Request{} // the replay reads it again
	s.journal.pending = nil                   // and its backing array
	s.conn.ShareTexts(t.shareText)
	s.asleep = true
	t.counts.asleep.Add(1)
	t.counts.hibernated.Add(1)
	s.log.Debug("session hibernated")
}

// Hibernate hibernates every session that can be and had no input for
// Config.HibernateAfter; it returns how many it hibernated. The host's
// worker runs it with ReapIdle.
func (t *Table) Hibernate() int {
	after := t.hibernateAfter()
	if after < 0 {
		return 0
	}
	now := t.now()
	n := 0
	for _, s := range t.sessions {
		if now.Sub(s.lastInput) >= after && t.canHibernate(s) {
			t.hibernate(s)
			n++
		}
	}
	return n
}

// Asleep reports whether connID's session is hibernated.
func (t *Table) Asleep(connID string) bool {
	s := t.sessions[connID]
	return s != nil && s.asleep
}

// unpark takes hibernated s out of the table so that its caller's line
// rebuilds the session by replay; its node stays claimed (the replay's
// claim finds it). repark puts it back if the journal could not be read.
func (t *Table) unpark(s *Session) {
	delete(t.sessions, s.connID)
	t.counts.active.Add(-1)
	t.counts.asleep.Add(-1)
}

// repark undoes unpark.
func (t *Table) repark(s *Session) {
	t.sessions[s.connID] = s
	t.counts.active.Add(1)
	t.counts.asleep.Add(1)
}

// carryOver gives the session rebuilt for a hibernated caller what the
// hibernated record kept that a replay cannot know: when they called,
// their rate limits, the address and credentials their gateway vouched
// for, their time limit's clock, events kept for them, their door and
// transfer bookkeeping (their secrets were given to the replay). woken
// is nil if the replay ended the call: then the hibernated record's call
// ends too (endAsleep).
func (t *Table) carryOver(asleep, woken *Session) {
	t.counts.woken.Add(1)
	if woken == nil {
		t.endAsleep(asleep)
		return
	}
	woken.started = asleep.started
	// What the caller's client said of itself (colour, ANSI, terminal) on
	// lines the replay does not start from (the classic client says
	// "color": false only with connect); the waking line may change it.
	woken.conn.Colour, woken.conn.ANSI, woken.conn.Terminal = asleep.conn.Colour, asleep.conn.ANSI, asleep.conn.Terminal
	woken.rate, woken.keyRate, woken.binRate, woken.pageRate = asleep.rate, asleep.keyRate, asleep.binRate, asleep.pageRate
	woken.peer, woken.preauth, woken.remote = asleep.peer, asleep.preauth, asleep.remote
	woken.doorStarted, woken.transferStarts = asleep.doorStarted, asleep.transferStarts
	woken.received, asleep.received = asleep.received, nil
	if asleep.clock != nil && woken.user == asleep.user {
		woken.clock = asleep.clock // its warnings given, its charges made
	}
	if len(asleep.events) > 0 {
		woken.events = append(asleep.events, woken.events...)
		if len(woken.events) > MaxQueuedEvents {
			woken.events = woken.events[:MaxQueuedEvents]
		}
		if !woken.eventsDue {
			woken.eventsDue = true
			t.eventsDue = append(t.eventsDue, woken)
		}
	}
	woken.log.Debug("session woken from hibernation", "asleep", t.now().Sub(asleep.lastInput).Round(time.Second))
}

// wokeWithoutJournal ends the call of hibernated s whose caller's line
// found no journal to rebuild it from (another host ended the call, or
// the line comes from another address): its clock and node go, and the
// line starts a new call.
func (t *Table) wokeWithoutJournal(s *Session) {
	s.log.Info("hibernated caller's journal is gone: their line starts a new call")
	t.counts.ended.Add(1)
	t.endAsleep(s)
}

// endAsleep ends the call of hibernated s, out of the table: the time
// since its clock's last charge is charged, and its call's start, its node
// and the files it received but did not keep go.
func (t *Table) endAsleep(s *Session) {
	if s.clock != nil {
		t.charge(s, t.now())
	}
	t.endClock(s)
	t.releaseNode(s)
	discardReceived(s)
}

// maxSharedTexts bounds the texts a table keeps one copy of for its
// hibernated callers (shareText); past it, the table starts a new set.
// With maxSharedText it bounds what the table's set costs at 2 MiB, even
// if every prompt a script shows is different.
const maxSharedTexts = 1024

// maxSharedText bounds the length of a text shared: a menu, not a
// message a caller was reading.
const maxSharedText = 2 << 10

// shareText returns the table's copy of text, so that hibernated callers
// shown the same menu hold it once (a rendered main menu is some 400
// bytes a caller).
func (t *Table) shareText(text string) string {
	if text == "" || len(text) > maxSharedText {
		return text
	}
	if shared, ok := t.sharedTexts[text]; ok {
		return shared
	}
	if len(t.sharedTexts) >= maxSharedTexts {
		clear(t.sharedTexts) // new menus (a reload) get shared from here on
	}
	if t.sharedTexts == nil {
		t.sharedTexts = make(map[string]string)
	}
	text = strings.Clone(text) // not a slice of a larger string
	t.sharedTexts[text] = text
	return text
}
