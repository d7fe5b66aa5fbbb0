package session

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/screens"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// newTimedTable is a table over a real store with time limits, on a
// fake clock.
func newTimedTable(t *testing.T, limits string, zone *time.Location, clock *fakeClock) (*Table, *recorder, store.Store) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	parsed, err := ParseTimeLimits(limits)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	tbl, err := New(Config{ScriptsDir: "testdata", MainScript: "testdata/timelimit.lua", TimeLimits: parsed, TimeZone: zone, IdleTimeout: -1},
		Deps{Replier: rec, Screens: screenMap{"timeout": "Time is up. Bye!"}, Store: db, Now: clock.Now, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Close)
	return tbl, rec, db
}

// TestTimeLimits: a caller is told their time, warned two minutes and
// one minute before the end, and hung up on with the goodbye screen; the
// day's time is stored, so the next call has what is left of the day,
// until midnight in the board's time zone; the sysop's level has no
// limit. All on a fake clock.
func TestTimeLimits(t *testing.T) {
	zone := time.FixedZone("UTC+2", 2*60*60)
	clock := &fakeClock{t: time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC)} // 22:00 on the board
	tbl, rec, db := newTimedTable(t, "0=3m/4m, 255=0/0", zone, clock)

	tbl.Handle(msg("9", "connect"))
	tbl.Handle(msg("9", "Zed")) // the first user: the sysop, no limit
	expect(t, rec.take(), "9 prompt:name?", "9 prompt:left nil")

	tbl.Handle(msg("1", "connect"))
	tbl.Handle(msg("1", "ann"))
	expect(t, rec.take(), "1 prompt:name?", "1 prompt:left 180")
	clock.Advance(59 * time.Second)
	if ended := tbl.ReapIdle(); len(ended) != 0 {
		t.Fatalf("ended %v with 121 s left", ended)
	}
	expect(t, rec.take())
	clock.Advance(2 * time.Second)
	tbl.ReapIdle()
	expect(t, rec.take(), "1 screen:Time check: you have 2 minutes left on the board.")
	tbl.Handle(msg("1", "x"))
	expect(t, rec.take(), "1 prompt:left 119")
	clock.Advance(30 * time.Second)
	tbl.ReapIdle()
	expect(t, rec.take()) // warned once for two minutes
	clock.Advance(30 * time.Second)
	tbl.ReapIdle()
	expect(t, rec.take(), "1 screen:Time check: you have 1 minute left on the board.")
	clock.Advance(60 * time.Second)
	if ended := tbl.ReapIdle(); strings.Join(ended, ",") != "1" {
		t.Fatalf("ended %v at the end of ann's time, want [1]", ended)
	}
	expect(t, rec.take(), "1 exit:Time is up. Bye!", "1 hangup")
	if used, err := db.TimeUsed(t.Context(), "ann", "2026-12-03"); err != nil || used != 181 {
		t.Errorf("the day's time stored: %d s, %v; want 181", used, err)
	}

	// The next call has what is left of the day: 240 - 181 s.
	tbl.Handle(msg("2", "connect"))
	tbl.Handle(msg("2", "ann"))
	expect(t, rec.take(), "2 prompt:name?", "2 prompt:left 59")
	tbl.Handle(msg("2", "Q"))
	rec.take()
	tbl.Handle(jsonReq("2", `{"type":"disconnect"}`)) // hangs up after 0 s

	// Midnight on the board (22:00 UTC), not in UTC, starts a new day.
	clock.t = time.Date(2026, 12, 3, 22, 0, 30, 0, time.UTC)
	tbl.Handle(msg("3", "connect"))
	tbl.Handle(msg("3", "ann"))
	expect(t, rec.take(), "3 prompt:name?", "3 prompt:left 180")
	if ended := tbl.ReapIdle(); len(ended) != 0 {
		t.Fatalf("ended %v on a new day", ended)
	}
	expect(t, rec.take())
	tbl.Handle(msg("9", "still here"))
	expect(t, rec.take(), "9 prompt:left nil")
}

// TestTimeChargedAcrossMidnight: a call that spans midnight charges the
// time before it to the old day and the rest to the new one, and the
// per-day limit starts over.
func TestTimeChargedAcrossMidnight(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 12, 3, 23, 58, 0, 0, time.UTC)}
	tbl, rec, db := newTimedTable(t, "0=0/10m", time.UTC, clock)
	tbl.Handle(msg("9", "connect"))
	tbl.Handle(msg("9", "Zed"))
	tbl.Handle(msg("1", "connect"))
	tbl.Handle(msg("1", "ann"))
	expect(t, rec.take(), "9 prompt:name?", "9 prompt:left 600", "1 prompt:name?", "1 prompt:left 600")
	clock.Advance(3 * time.Minute) // 00:01
	tbl.ReapIdle()
	tbl.Handle(msg("1", "x"))
	expect(t, rec.take(), "1 prompt:left 540")
	for day, want := range map[string]int{"2026-12-03": 0, "2026-12-04": 60} {
		// The old day's row is dropped once the new day's is written.
		if used, err := db.TimeUsed(t.Context(), "ann", day); err != nil || used != want {
			t.Errorf("%s: %d s, %v; want %d", day, used, err, want)
		}
	}
}

// TestParseTimeLimits reads the setting as a sysop writes it.
func TestParseTimeLimits(t *testing.T) {
	got, err := ParseTimeLimits(" 20=60/180, 0 = 30m/1h ,255=0/0")
	if err != nil {
		t.Fatal(err)
	}
	want := []TimeLimit{{0, 30 * time.Minute, time.Hour}, {20, time.Hour, 3 * time.Hour}, {255, 0, 0}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %v, want %v", i, got[i], want[i])
		}
	}
	for level, limited := range map[int]bool{0: true, 19: true, 20: true, 254: true, 255: false} {
		if _, ok := limitFor(got, level); ok != limited {
			t.Errorf("level %d limited: %v, want %v", level, ok, limited)
		}
	}
	for _, bad := range []string{"20", "20=60", "x=1/2", "300=1/2", "20=-1/2", "20=1/forever"} {
		if _, err := ParseTimeLimits(bad); err == nil {
			t.Errorf("ParseTimeLimits(%q) accepted", bad)
		}
	}
}

// TestTimeLimitSurvivesACrash: the shipped board shows a caller's time
// under the main menu; after the host dies, the caller's session is
// replayed on a new host without diverging (users.time_left is a
// journaled host call), and both the day's time charged before the
// crash and the call's own clock hold on the new host; once the call
// ends, the store forgets when it began.
func TestTimeLimitSurvivesACrash(t *testing.T) {
	b := newJournaledBoard(t)
	clock := &fakeClock{t: time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)}
	limits, err := ParseTimeLimits("0=30/35, 255=0/0")
	if err != nil {
		t.Fatal(err)
	}
	table := func() (*Table, *recorder) {
		rec := &recorder{}
		tbl, err := New(Config{
			ScriptsDir: b.scripts, MainScript: filepath.Join(b.scripts, "bbs.lua"),
			RatePerSecond: 1e6, RateBurst: 1 << 20, Journal: true, TimeLimits: limits, TimeZone: time.UTC,
		}, Deps{Replier: rec, Screens: screens.NewDir("../../../screens"), Store: b.db, Now: clock.Now,
			Log: slog.New(slog.NewTextHandler(&b.logs, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(tbl.Close)
		return tbl, rec
	}
	menuText := func(rec *recorder) string {
		got := rec.take()
		return got[len(got)-1]
	}
	tbl, rec := table()
	converse(tbl, rec, "9", "connect", "zed", "pw", "pw", "y") // the sysop
	for _, line := range []string{"connect", "ann", "pw", "pw"} {
		handle(tbl, msg("1", line))
	}
	if got := strings.Join(rec.take(), "\n"); !strings.Contains(got, "You have 30 minutes on the board this call.") {
		t.Errorf("ann is not told her time at login:\n%s", got)
	}
	handle(tbl, msg("1", "y"))
	if got := menuText(rec); !strings.Contains(got, "(30 minutes left)") {
		t.Errorf("the menu does not show her time:\n%s", got)
	}
	clock.Advance(10 * time.Minute)
	tbl.ReapIdle() // charges the day's time
	handle(tbl, msg("1", "5"))
	if got := menuText(rec); !strings.Contains(got, "(20 minutes left)") {
		t.Errorf("after 10 minutes:\n%s", got)
	}
	crash(tbl)

	clock.Advance(time.Minute)
	tbl2, rec2 := table()
	handle(tbl2, msg("1", "5"))
	if got := menuText(rec2); !strings.Contains(got, "(19 minutes left)") { // 30 of the call - 11
		t.Errorf("on the new host:\n%s", got)
	}
	if st := tbl2.JournalStats(); st.Replayed != 1 || st.Diverged != 0 {
		t.Errorf("journal stats %+v, want one replay and no divergence", st)
	}
	clock.Advance(12 * time.Minute) // 23 of the call's 30; 10 + 12 of the day's 35
	tbl2.ReapIdle()
	handle(tbl2, msg("1", "5"))
	if got := menuText(rec2); !strings.Contains(got, "(7 minutes left)") {
		t.Errorf("the call's clock before the crash is forgotten:\n%s", got)
	}
	converse(tbl2, rec2, "1", "Q")
	probe := clock.Now()
	if started, err := b.db.CallStarted(t.Context(), "1", "ann", probe, false); err != nil || !started.Equal(probe) {
		t.Errorf("the call's start is kept after it ended: %v, %v", started, err)
	}
}

// TestTurningTimeLimitsOnOrOffKeepsSessions: a caller who was writing a
// message when the host died, on a host without time limits, carries on
// after a restart with limits on (and the other way round): their
// journal replays without diverging, and the message is posted.
func TestTurningTimeLimitsOnOrOffKeepsSessions(t *testing.T) {
	limits, err := ParseTimeLimits("0=30/60, 255=0/0")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name          string
		before, after []TimeLimit
	}{{"on", nil, limits}, {"off", limits, nil}} {
		t.Run(c.name, func(t *testing.T) {
			b := newJournaledBoard(t)
			table := func(limits []TimeLimit) (*Table, *recorder) {
				rec := &recorder{}
				tbl, err := New(Config{
					ScriptsDir: b.scripts, MainScript: filepath.Join(b.scripts, "bbs.lua"),
					RatePerSecond: 1e6, RateBurst: 1 << 20, Journal: true, TimeLimits: limits, TimeZone: time.UTC,
				}, Deps{Replier: rec, Screens: screens.NewDir("../../../screens"), Store: b.db,
					Log: slog.New(slog.NewTextHandler(&b.logs, nil))})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(tbl.Close)
				return tbl, rec
			}
			tbl, rec := table(c.before)
			converse(tbl, rec, "9", "connect", "zed", "pw", "pw", "y") // the sysop
			converse(tbl, rec, "1", "connect", "ann", "pw", "pw", "y", "1", "line one")
			crash(tbl)
			tbl2, rec2 := table(c.after)
			converse(tbl2, rec2, "1", "line two", ".")
			if st := tbl2.JournalStats(); st.Replayed != 1 || st.Diverged != 0 {
				t.Errorf("journal stats %+v, want one replay and no divergence", st)
			}
			if n, err := b.db.MessageCount(t.Context()); err != nil || n != 1 {
				t.Errorf("%d messages (%v), want ann's one", n, err)
			}
		})
	}
}
