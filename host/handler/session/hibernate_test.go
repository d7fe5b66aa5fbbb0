package session

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/screens"
	"github.com/m2bbs/m2bbs/host/handler/transfer"
)

// sleepyTable starts a host's table on b, journaled, on clock, with
// callers hibernated after 30 s; edit, if set, changes its settings.
func (b *journaledBoard) sleepyTable(t *testing.T, clock *fakeClock, edit func(*Config)) (*Table, *recorder) {
	t.Helper()
	rec := &recorder{}
	cfg := Config{
		ScriptsDir: b.scripts, MainScript: filepath.Join(b.scripts, "bbs.lua"),
		RatePerSecond: 1e6, RateBurst: 1 << 20, Journal: true,
		HibernateAfter: 30 * time.Second,
	}
	if edit != nil {
		edit(&cfg)
	}
	tbl, err := New(cfg, Deps{
		Replier: rec, Screens: screens.NewDir("../../../screens"), Store: b.db,
		Log: slog.New(slog.NewTextHandler(&b.logs, nil)), Now: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Close)
	return tbl, rec
}

// sleepyBoard is a fresh board, a fake clock, and a sleepyTable on them.
func sleepyBoard(t *testing.T, edit func(*Config)) (*journaledBoard, *fakeClock, *Table, *recorder) {
	t.Helper()
	b := newJournaledBoard(t)
	clock := &fakeClock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	tbl, rec := b.sleepyTable(t, clock, edit)
	return b, clock, tbl, rec
}

// asleepAtMenu logs name in on connID as a new user, leaves them at the
// main menu for 31 s and runs the reaper, which hibernates them.
func asleepAtMenu(t *testing.T, tbl *Table, rec *recorder, clock *fakeClock, connID, name string) {
	t.Helper()
	converse(tbl, rec, connID, "connect", name, "pw", "pw", "y")
	clock.Advance(31 * time.Second)
	if reaped := tbl.ReapIdle(); len(reaped) != 0 {
		t.Fatalf("reaper ended %v", reaped)
	}
	if !tbl.Asleep(connID) {
		t.Fatalf("%s at the main menu for 31 s is not hibernated", name)
	}
	if s := tbl.sessions[connID]; s.thread != nil || s.connValue != nil || tbl.byThread[s.thread] != nil {
		t.Fatal("a hibernated session keeps its coroutine")
	}
}

func TestHibernatedCallerIsOnlineAndWokenByALine(t *testing.T) {
	b, clock, tbl, rec := sleepyBoard(t, nil)
	asleepAtMenu(t, tbl, rec, clock, "1", "ann")

	// Everything that walks the table sees her, as she stood.
	if !tbl.Has("1") || tbl.Len() != 1 {
		t.Fatal("a hibernated caller is not online")
	}
	callers := tbl.Callers()
	if len(callers) != 1 || callers[0].User != "ann" || callers[0].Showing != "Q. Quit the BBS." || callers[0].IdleSeconds != 31 {
		t.Fatalf("status page lists %+v, want ann idle 31 s at the main menu's last line", callers)
	}
	if who := tbl.who(); len(who) != 1 || who[0].User != "ann" {
		t.Fatalf("who's online: %+v", who)
	}
	if show, ok := tbl.Showing("1"); !ok || !show.HasPrompt || show.User != "ann" {
		t.Fatalf("watch shows %+v %v", show, ok)
	}
	if st := tbl.Stats(); st.Active != 1 || st.Asleep != 1 || st.Hibernated != 1 {
		t.Fatalf("stats %+v, want one active caller, asleep", st)
	}
	if n := tbl.Broadcast("System going down at noon"); n != 1 {
		t.Fatalf("broadcast reached %d callers, want 1", n)
	}
	expect(t, rec.take(), "1 screen:System going down at noon")
	if !tbl.Asleep("1") {
		t.Fatal("a broadcast woke the caller")
	}

	// Her line wakes her where she stood: who's online lists her, and the
	// main menu comes back.
	clock.Advance(10 * time.Second)
	tbl.Handle(msg("1", "5"))
	tbl.Commit()
	got := rec.take()
	if len(got) != 2 || got[0] != "1 screen:Online now:\n  ann" || !strings.HasPrefix(got[1], "1 prompt:---(((MAIN MENU)))---\n") {
		t.Fatalf("woken caller got:\n%s\nwant who's online naming her, then the main menu", strings.Join(got, "\n"))
	}
	if tbl.Asleep("1") || tbl.sessions["1"].thread == nil {
		t.Fatal("the caller is still asleep after their line")
	}
	if st := tbl.Stats(); st.Active != 1 || st.Asleep != 0 || st.Woken != 1 || st.Started != 1 {
		t.Fatalf("stats %+v after the wake-up", st)
	}
	if c := tbl.Callers(); len(c) != 1 || c[0].OnlineSeconds != 41 || c[0].IdleSeconds != 0 {
		t.Fatalf("status after the wake-up %+v: want online 41 s (the call's start kept), idle 0", c)
	}
	// The session goes on: she quits, and her journal goes.
	expect(t, converse(tbl, rec, "1", "Q"), "1 exit:Alright, see ya later.", "1 hangup")
	if j, _, _ := b.db.LoadJournal(context.Background(), "1"); len(j) != 0 {
		t.Errorf("journal of an ended call holds %d entries", len(j))
	}
}

func TestHibernatedCallerIsReapedKickedAndHungUp(t *testing.T) {
	b, clock, tbl, rec := sleepyBoard(t, func(c *Config) { c.IdleTimeout = 5 * time.Minute })
	for _, c := range []struct{ id, name string }{{"1", "ann"}, {"2", "bob"}, {"3", "cy"}} {
		asleepAtMenu(t, tbl, rec, clock, c.id, c.name)
	}
	rec.take()

	if !tbl.Kick("2") {
		t.Fatal("kick found no hibernated caller")
	}
	expect(t, rec.take(), "2 exit:"+screenText(t, "kicked"), "2 hangup")
	tbl.Handle(jsonReq("3", `{"type":"disconnect"}`))
	tbl.Commit()
	expect(t, rec.take())
	for _, id := range []string{"2", "3"} {
		if tbl.Has(id) {
			t.Fatalf("conn %s still online", id)
		}
		if j, _, _ := b.db.LoadJournal(context.Background(), id); len(j) != 0 {
			t.Fatalf("conn %s's journal kept after the call ended", id)
		}
	}

	clock.Advance(5 * time.Minute)
	if reaped := tbl.ReapIdle(); len(reaped) != 1 || reaped[0] != "1" {
		t.Fatalf("reaper ended %v, want the idle hibernated caller", reaped)
	}
	expect(t, rec.take(), "1 exit:"+screenText(t, "idle"), "1 hangup")
	if j, _, _ := b.db.LoadJournal(context.Background(), "1"); len(j) != 0 {
		t.Fatal("an idle caller's journal kept")
	}
	if st := tbl.Stats(); st.Active != 0 || st.Asleep != 0 || st.Reaped != 1 || st.Kicked != 1 || st.Disconnected != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// screenText is the first line of a shipped screen.
func screenText(t *testing.T, name string) string {
	t.Helper()
	text, err := screens.NewDir("../../../screens").Screen(name)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(text, "\n")
	return first
}

func TestHibernatedCallerSurvivesARestartAndAnUpgrade(t *testing.T) {
	b, clock, tbl, rec := sleepyBoard(t, nil)
	asleepAtMenu(t, tbl, rec, clock, "1", "ann")
	asleepAtMenu(t, tbl, rec, clock, "2", "bob")

	// An upgrade moves bob: detached asleep, adopted by the new table.
	tbl2, rec2 := b.sleepyTable(t, clock, nil)
	sender, ok := tbl.Detach("2")
	if !ok || sender != "sender-1" {
		t.Fatalf("detach of a hibernated caller: %q %v", sender, ok)
	}
	if !tbl2.Adopt("2", sender) {
		t.Fatal("the new table could not adopt the hibernated caller")
	}
	expect(t, converse(tbl2, rec2, "2", "Q"), "2 exit:Alright, see ya later.", "2 hangup")

	// The host dies with ann asleep: the next host rebuilds her.
	crash(tbl)
	tbl3, rec3 := b.sleepyTable(t, clock, nil)
	expect(t, converse(tbl3, rec3, "1", "Q"), "1 exit:Alright, see ya later.", "1 hangup")
	if st := tbl3.JournalStats(); st.Replayed != 1 || st.Diverged != 0 {
		t.Fatalf("journal stats %+v, want one clean replay", st)
	}
}

func TestSessionsThatCannotHibernate(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}

	// Without journals nobody hibernates: nothing could rebuild them.
	b := newJournaledBoard(t)
	tbl, rec := b.sleepyTable(t, clock, func(c *Config) { c.Journal = false })
	converse(tbl, rec, "1", "connect", "ann", "pw", "pw", "y")
	stayAwake(t, tbl, clock, "1", time.Hour, "without a journal")

	// Entries not stored yet (the worker has not committed), an idle time
	// under the setting, or the setting negative: not hibernated.
	b = newJournaledBoard(t)
	tbl, rec = b.sleepyTable(t, clock, nil)
	converse(tbl, rec, "1", "connect", "bob", "pw", "pw", "y")
	converse(tbl, rec, "2", "connect", "cy", "pw", "pw", "y")
	clock.Advance(29 * time.Second)
	tbl.Handle(msg("2", "5")) // no Commit
	clock.Advance(5 * time.Second)
	tbl.ReapIdle()
	if !tbl.Asleep("1") || tbl.Asleep("2") {
		t.Fatalf("asleep: bob %v (idle 34 s), cy %v (entries not stored)", tbl.Asleep("1"), tbl.Asleep("2"))
	}
	tbl.Commit()
	tbl.ReapIdle()
	if tbl.Asleep("2") {
		t.Fatal("cy, idle 5 s, hibernated")
	}
	never, rec2 := b.sleepyTable(t, clock, func(c *Config) { c.HibernateAfter = -1 })
	converse(never, rec2, "3", "connect", "dee", "pw", "pw", "y")
	stayAwake(t, never, clock, "3", time.Hour, "with HibernateAfter < 0")
}

// stayAwake advances clock by idle, runs tbl's reaper and fails the test
// if connID's caller hibernated, saying why they should not have.
func stayAwake(t *testing.T, tbl *Table, clock *fakeClock, connID string, idle time.Duration, why string) {
	t.Helper()
	clock.Advance(idle)
	tbl.ReapIdle()
	if tbl.Asleep(connID) {
		t.Fatalf("conn %s hibernated %s", connID, why)
	}
}

// TestHibernatedCallersRefusedLineDoesNotWakeThem: a line the limits
// refuse (too long) is answered from the kept record, the prompt asked
// again, without a replay.
func TestHibernatedCallersRefusedLineDoesNotWakeThem(t *testing.T) {
	_, clock, tbl, rec := sleepyBoard(t, nil)
	asleepAtMenu(t, tbl, rec, clock, "1", "ann")
	rec.take()
	got := converse(tbl, rec, "1", strings.Repeat("x", DefaultMaxLineBytes+1))
	expect(t, got, "1 screen:That line was too long (at most 4096 characters); try again.", "1 prompt:---(((MAIN MENU)))---")
	if !tbl.Asleep("1") || tbl.JournalStats().Replayed != 0 {
		t.Fatal("a refused line woke the caller")
	}
	tbl.Handle(jsonReq("1", `{"type":"keys","msg":"abc"}`)) // not in keystroke mode
	if !tbl.Asleep("1") || tbl.Stats().KeysDropped != 1 {
		t.Fatal("keys woke a caller at a plain prompt")
	}
}

// TestPageToAHibernatedCallerWaitsForThem: a caller who left a chat for a
// plain prompt hibernates; what is said in the room meanwhile is kept
// (not lost, not waking them) and shown once their line brings them back
// to the room. A caller listening in the room never hibernates.
func TestPageToAHibernatedCallerWaitsForThem(t *testing.T) {
	db, scripts := chatBoard(t)
	clock := &fakeClock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	h := newHubHost(t, db, Config{
		ScriptsDir: scripts, MainScript: filepath.Join(scripts, "main.lua"), Journal: true,
		HibernateAfter: 30 * time.Second,
	}, screenMap{}, clock.Now)
	h.join(0, "1", "ann")
	h.join(0, "2", "bob")
	h.say(0, "1", "menu") // ann at a plain prompt; bob listens
	h.recs[0].take()
	clock.Advance(time.Minute)
	h.tables[0].ReapIdle()
	if !h.tables[0].Asleep("1") || h.tables[0].Asleep("2") {
		t.Fatalf("asleep: ann %v (plain prompt), bob %v (in shared.ask)", h.tables[0].Asleep("1"), h.tables[0].Asleep("2"))
	}
	h.say(0, "2", "ann, are you there?")
	if !h.tables[0].Asleep("1") {
		t.Fatal("an event woke the hibernated caller")
	}
	h.recs[0].take()
	h.say(0, "1", "back")
	got := strings.Join(h.recs[0].take(), "\n")
	if !strings.Contains(got, "1 screen:bob: ann, are you there?") && !strings.Contains(got, "1 prompt:bob: ann, are you there?") {
		t.Fatalf("ann woke to:\n%s\nwant bob's line kept for her", got)
	}
}

// TestHibernatedCallerKeepsNodeAndTimeLimit: asleep, a caller keeps their
// node and their call's clock: they are warned and, when their time is
// up, hung up on, as if awake; woken, they have the same node and time.
func TestHibernatedCallerKeepsNodeAndTimeLimit(t *testing.T) {
	b := newJournaledBoard(t)
	clock := &fakeClock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	nodes := &fakeNodes{held: map[string]int{}}
	limits, err := ParseTimeLimits("0=4m/0")
	if err != nil {
		t.Fatal(err)
	}
	tbl, rec := b.sleepyTable(t, clock, func(c *Config) { c.TimeLimits, c.TimeZone = limits, time.UTC })
	tbl.deps.Nodes = nodes
	asleepAtMenu(t, tbl, rec, clock, "1", "ann")
	asleepAtMenu(t, tbl, rec, clock, "2", "bob")
	rec.take()
	if tbl.NodeOf("1") != 1 || tbl.NodeOf("2") != 2 {
		t.Fatalf("nodes %d and %d, want 1 and 2", tbl.NodeOf("1"), tbl.NodeOf("2"))
	}

	// Ann wakes and sleeps again: same node, same clock.
	converse(tbl, rec, "1", "5")
	if tbl.Asleep("1") || tbl.NodeOf("1") != 1 {
		t.Fatalf("woken ann: asleep %v node %d", tbl.Asleep("1"), tbl.NodeOf("1"))
	}
	clock.Advance(31 * time.Second)
	tbl.ReapIdle()
	if !tbl.Asleep("1") {
		t.Fatal("ann not hibernated again")
	}
	rec.take()
	clock.Advance(31 * time.Second) // ann has 1:56 left: warned asleep
	tbl.ReapIdle()
	expect(t, rec.take(), "1 screen:Time check: you have 2 minutes left on the board.")
	clock.Advance(150 * time.Second) // 4:34 since ann's login, 4:03 since bob's
	if ended := tbl.ReapIdle(); len(ended) != 2 {
		t.Fatalf("reaper ended %v, want both callers out of time", ended)
	}
	if got := strings.Join(rec.take(), "\n"); !strings.Contains(got, "1 exit:") || !strings.Contains(got, "2 exit:") {
		t.Fatalf("callers out of time got:\n%s", got)
	}
	if len(nodes.held) != 0 || tbl.Len() != 0 {
		t.Fatalf("nodes held after the calls ended: %v", nodes.held)
	}
}

// TestHostileCallerCannotMakeWakeUpsCostly: a caller far from the main
// menu's checkpoint (hundreds of prompts in the message boards' menu)
// would make their wake-up a long replay, holding everyone on their
// worker; they are never hibernated. A caller at the main menu beside
// them sleeps and wakes within a few milliseconds.
func TestHostileCallerCannotMakeWakeUpsCostly(t *testing.T) {
	_, clock, tbl, rec := sleepyBoard(t, nil)
	converse(tbl, rec, "1", "connect", "mallory", "pw", "pw", "y", "B")
	for range 200 {
		converse(tbl, rec, "1", "no such board")
	}
	if n := tbl.sessions["1"].journal.entries; n <= MaxHibernateEntries {
		t.Fatalf("mallory's journal holds %d entries, want more than %d for this test", n, MaxHibernateEntries)
	}
	asleepAtMenu(t, tbl, rec, clock, "2", "ann")
	if tbl.Asleep("1") {
		t.Fatal("a caller with a long journal was hibernated")
	}
	rec.take()
	began := time.Now()
	converse(tbl, rec, "2", "x")
	if took := time.Since(began); took > 500*time.Millisecond { // a few ms; generous for a shared machine
		t.Errorf("ann's wake-up and line took %v", took)
	}
	if tbl.Asleep("2") {
		t.Fatal("ann is still asleep after her line")
	}
}

// TestPageReachesAHibernatedCaller: callers.page (the main menu's "Page
// someone") finds a hibernated caller online and shows them the page at
// once, without waking them.
func TestPageReachesAHibernatedCaller(t *testing.T) {
	_, clock, tbl, rec := sleepyBoard(t, nil)
	asleepAtMenu(t, tbl, rec, clock, "1", "ann")
	converse(tbl, rec, "2", "connect", "bob", "pw", "pw", "y")
	rec.take()
	got := converse(tbl, rec, "2", "8", "ann", "lunch?")
	if len(got) < 3 || got[len(got)-3] != "1 screen:Page from bob: lunch?" || got[len(got)-2] != "2 screen:Paged." {
		t.Fatalf("paging a hibernated caller:\n%s", strings.Join(got, "\n"))
	}
	if !tbl.Asleep("1") {
		t.Fatal("a page woke the caller")
	}
}

// TestWokenCallerKeepsColourOff: a classic client says "color": false
// only with connect; the replay starts from the main menu's checkpoint,
// whose request does not say it, so the record's colour is carried over.
func TestWokenCallerKeepsColourOff(t *testing.T) {
	_, clock, tbl, rec := sleepyBoard(t, nil)
	handle(tbl, jsonReq("1", `{"type":"msg","msg":"connect","color":false}`))
	converse(tbl, rec, "1", "ann", "pw", "pw", "y")
	clock.Advance(31 * time.Second)
	tbl.ReapIdle()
	if !tbl.Asleep("1") || tbl.sessions["1"].conn.Colour {
		t.Fatalf("asleep %v, colour %v: want asleep, colour off", tbl.Asleep("1"), tbl.sessions["1"].conn.Colour)
	}
	handle(tbl, msg("1", "5"))
	if out := strings.Join(rec.take(), "\n"); tbl.sessions["1"].conn.Colour || strings.Contains(out, "\x1b[") {
		t.Fatalf("woken into colour (conn.Colour %v):\n%q", tbl.sessions["1"].conn.Colour, out)
	}
}

// TestCallersKeepHibernatingAtTheMainMenu: the cap on the journal counts
// the entries since the main menu's checkpoint, not the journal's count
// of every entry ever written: a long call at the main menu, woken again
// and again, keeps hibernating.
func TestCallersKeepHibernatingAtTheMainMenu(t *testing.T) {
	_, clock, tbl, rec := sleepyBoard(t, nil)
	asleepAtMenu(t, tbl, rec, clock, "1", "ann")
	for i := range 100 {
		converse(tbl, rec, "1", []string{"5", "x"}[i%2])
		clock.Advance(31 * time.Second)
		tbl.ReapIdle()
		if !tbl.Asleep("1") {
			s := tbl.sessions["1"]
			t.Fatalf("wake %d: not hibernated again; journal of %d entries (count %d)", i, s.journal.entries, s.journal.next)
		}
	}
}

// TestReaderFarFromTheMenuStaysAwake: a reader many messages past the
// main menu would make a costly wake-up (a replay of every read); past
// MaxHibernateEntries they stay awake, and back at the main menu they
// hibernate again.
func TestReaderFarFromTheMenuStaysAwake(t *testing.T) {
	b, clock, tbl, rec := sleepyBoard(t, nil)
	converse(tbl, rec, "9", "connect", "poster", "pw", "pw", "y")
	for range 40 {
		if _, err := b.db.PostMessage(context.Background(), "poster", []string{"a line"}); err != nil {
			t.Fatal(err)
		}
	}
	converse(tbl, rec, "1", "connect", "ann", "pw", "pw", "y", "2")
	for i := 0; tbl.sessions["1"].journal.entries <= MaxHibernateEntries; i++ {
		if i == 40 {
			t.Fatalf("40 messages read, journal of %d entries", tbl.sessions["1"].journal.entries)
		}
		converse(tbl, rec, "1", "")
	}
	stayAwake(t, tbl, clock, "1", time.Minute, "with a journal past the cap")
	for range 60 {
		if converse(tbl, rec, "1", "Q"); strings.Contains(tbl.sessions["1"].conn.LastText(), "Quit the BBS") {
			break
		}
	}
	clock.Advance(time.Minute)
	tbl.ReapIdle()
	if !tbl.Asleep("1") {
		t.Fatalf("back at the main menu (%q), journal of %d entries: not hibernated", tbl.sessions["1"].conn.LastText(), tbl.sessions["1"].journal.entries)
	}
}

// A new caller who reads "type it again" for 31 s hibernates; the same
// password typed after that registers them: the replay gives their script
// back the first password, not its placeholder.
func TestNewUserHibernatedAtTheRepeatPasswordPromptRegisters(t *testing.T) {
	tbl, rec := asleepAtRepeatPassword(t, "ann", "hunter22")
	out := strings.Join(converse(tbl, rec, "1", "hunter22", "y"), "\n")
	if strings.Contains(out, "don't match") || !strings.Contains(out, "registered") {
		t.Fatalf("the same password typed again after hibernating:\n%s\nwant registered", out)
	}
}

// A caller whose password is also their name (a call's argument) is woken
// where they were: the replay digests the calls that take their name as
// the journal did, with the password's placeholder.
func TestWokenCallerWhosePasswordIsTheirNameCarriesOn(t *testing.T) {
	b, clock, tbl, rec := sleepyBoard(t, nil)
	converse(tbl, rec, "2", "connect", "bob", "pw", "pw", "y")
	converse(tbl, rec, "1", "connect", "ann", "ann", "ann", "y")
	for range 2 {
		if _, err := b.db.SendMail(context.Background(), "ann", "bob", []string{"hi ann"}); err != nil {
			t.Fatal(err)
		}
	}
	got := converse(tbl, rec, "1", "4")
	if len(got) == 0 || !strings.Contains(got[len(got)-1], "prompt:") {
		t.Fatalf("ann's inbox: %q", got)
	}
	clock.Advance(31 * time.Second)
	tbl.ReapIdle()
	if !tbl.Asleep("1") {
		t.Fatal("ann reading her inbox not hibernated")
	}
	out := strings.Join(converse(tbl, rec, "1", ""), "\n")
	if st := tbl.JournalStats(); st.Diverged != 0 || strings.Contains(out, "upgraded") {
		t.Fatalf("ann's Enter after hibernating in her inbox (diverged %d):\n%s", st.Diverged, out)
	}
}

// A sysop's chat with a hibernated caller that outlasts the idle timeout
// keeps their journal from the pruning of calls nobody wrote: after the
// chat their next line finds them where they were.
func TestSysopChatKeepsTheCallersJournalFromThePruning(t *testing.T) {
	b, clock, tbl, rec := sleepyBoard(t, nil) // idle timeout 15 min
	asleepAtMenu(t, tbl, rec, clock, "1", "ann")
	rec.take()
	written := time.Now().UnixMilli() // her journal's last write, or after it
	for time.Now().UnixMilli() <= written {
		// The store keeps milliseconds: the chat's notes come later.
	}
	for range 17 { // a chat line a minute touches her (dispatch/watch.go)
		clock.Advance(time.Minute)
		tbl.Touch("1")
		if reaped := tbl.ReapIdle(); len(reaped) != 0 {
			t.Fatalf("reaped %v while chatting", reaped)
		}
	}
	// The host prunes the journals nobody wrote since before the chat.
	if _, err := b.db.PruneJournals(context.Background(), time.UnixMilli(written+1)); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(converse(tbl, rec, "1", "5"), "\n")
	if !strings.Contains(got, "Online now") {
		t.Fatalf("ann, online all along, typed 5 after the chat and got:\n%s\nwant who's online", got)
	}
}

// A new caller whose password is their name, hibernated at "type it
// again", registers with it: the replay learns the password where they
// typed it, so the calls made with their name before that are digested
// as they were.
func TestNewUserWhosePasswordIsTheirNameHibernatedAtTheRepeatPromptRegisters(t *testing.T) {
	tbl, rec := asleepAtRepeatPassword(t, "ann", "ann")
	out := strings.Join(converse(tbl, rec, "1", "ann", "y"), "\n")
	if st := tbl.JournalStats(); st.Diverged != 0 || !strings.Contains(out, "registered") {
		t.Fatalf("the same password typed again after hibernating (diverged %d):\n%s\nwant registered", st.Diverged, out)
	}
}

// asleepAtRepeatPassword brings a new caller, name, on conn id 1 to the
// shipped board's "type it again" after their password, leaves them there
// 31 s and runs the reaper, which hibernates them.
func asleepAtRepeatPassword(t *testing.T, name, password string) (*Table, *recorder) {
	t.Helper()
	_, clock, tbl, rec := sleepyBoard(t, nil)
	got := converse(tbl, rec, "1", "connect", name, password)
	if last := got[len(got)-1]; !strings.HasPrefix(last, "1 prompt:Looks like you're new here") {
		t.Fatalf("want the repeat-password prompt, got:\n%s", strings.Join(got, "\n"))
	}
	clock.Advance(31 * time.Second)
	tbl.ReapIdle()
	if !tbl.Asleep("1") {
		t.Fatal("caller at the repeat-password prompt not hibernated")
	}
	return tbl, rec
}

// TestWakeThatEndsTheCallEndsTheHibernatedCall: ann sleeps at the main
// menu with files received and not kept yet, and her line wakes her, but
// the replay of her journal ends the call (a script that fails on the
// replay, say; carryOver is told so with no woken session). The time she
// slept is charged to her day, her node is free, and the files are
// removed, as for any call that ends.
func TestWakeThatEndsTheCallEndsTheHibernatedCall(t *testing.T) {
	b := newJournaledBoard(t)
	clock := &fakeClock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	limits, err := ParseTimeLimits("0=60m/120m")
	if err != nil {
		t.Fatal(err)
	}
	nodes := &fakeNodes{held: map[string]int{}}
	tbl, rec := b.sleepyTable(t, clock, func(c *Config) { c.TimeLimits, c.TimeZone = limits, time.UTC })
	tbl.deps.Nodes = nodes
	asleepAtMenu(t, tbl, rec, clock, "1", "ann")
	asleep := tbl.sessions["1"]
	received := t.TempDir()
	asleep.received = []transfer.Result{{Dir: received}}

	clock.Advance(5 * time.Minute)
	tbl.unpark(asleep)
	tbl.carryOver(asleep, nil)
	if used, err := b.db.TimeUsed(t.Context(), "ann", "2026-12-03"); err != nil || used < 5*60 {
		t.Errorf("the day's time stored: %d s, %v; want at least the 5 min she slept", used, err)
	}
	if len(nodes.held) != 0 {
		t.Errorf("nodes held after the call ended: %v", nodes.held)
	}
	if _, err := os.Stat(received); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the files ann received in the call that ended are still in %s (%v)", received, err)
	}
}
