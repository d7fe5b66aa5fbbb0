package session

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// fakeClock is a settable clock for idle and rate tests.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func newLimitedTable(t *testing.T, script string, cfg Config, clock *fakeClock) (*Table, *recorder) {
	t.Helper()
	rec := &recorder{}
	cfg.ScriptsDir, cfg.MainScript = "testdata", script
	deps := Deps{Replier: rec, Screens: screenMap{"error": "Sorry, we broke.", "idle": "Idle.", "flood": "Flood.", "kicked": "Kicked."},
		Log: slog.New(slog.DiscardHandler)}
	if clock != nil {
		deps.Now = clock.Now
	}
	tbl, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Close)
	return tbl, rec
}

func TestRunawayScriptsEndOnlyTheirSession(t *testing.T) {
	for _, choice := range []string{"loop", "recurse", "bigstring", "pcall-loop"} {
		t.Run(choice, func(t *testing.T) {
			tbl, rec := newLimitedTable(t, "testdata/runaway.lua", Config{ResumeBudget: 200 * time.Millisecond}, nil)
			tbl.Handle(msg("1", "connect"))
			tbl.Handle(msg("2", "connect"))
			rec.take()
			start := time.Now()
			tbl.Handle(msg("1", choice))
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("the runaway ran for %v", elapsed)
			}
			expect(t, rec.take(), "1 exit:Sorry, we broke.", "1 hangup")
			tbl.Handle(msg("2", "fine"))
			expect(t, rec.take(), "2 screen:ok fine", "2 prompt:which?")
			if st := tbl.Stats(); st.Errored != 1 || st.Active != 1 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestOvertimeIsCountedAndExplained(t *testing.T) {
	var logs strings.Builder
	rec := &recorder{}
	tbl, err := New(Config{ScriptsDir: "testdata", MainScript: "testdata/runaway.lua", ResumeBudget: 50 * time.Millisecond},
		Deps{Replier: rec, Screens: screenMap{}, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Close()
	tbl.Handle(msg("1", "connect"))
	tbl.Handle(msg("1", "loop"))
	if st := tbl.Stats(); st.Overran != 1 {
		t.Errorf("overran = %d, want 1", st.Overran)
	}
	if !strings.Contains(logs.String(), "ran for more than 50ms") || !strings.Contains(logs.String(), "runaway.lua") {
		t.Errorf("log does not explain the overrun:\n%s", logs.String())
	}
}

func TestAbortStopsTheRunningSession(t *testing.T) {
	tbl, rec := newLimitedTable(t, "testdata/runaway.lua", Config{ResumeBudget: time.Minute}, nil)
	tbl.Handle(msg("1", "connect"))
	rec.take()
	if tbl.Abort("idle") {
		t.Error("Abort with nothing running reported success")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tbl.Handle(msg("1", "loop"))
	}()
	for !tbl.Abort("the host ran short of memory") {
		select {
		case <-done:
			t.Fatal("the loop ended by itself")
		default:
		}
	}
	<-done
	if st := tbl.Stats(); st.Overran != 1 || st.Active != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestIdleSessionsAreReaped(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	tbl, rec := newLimitedTable(t, "testdata/post_style.lua", Config{IdleTimeout: time.Minute}, clock)
	tbl.Handle(msg("1", "connect"))
	clock.Advance(50 * time.Second)
	tbl.Handle(msg("2", "connect"))
	rec.take()
	clock.Advance(20 * time.Second) // 1 idle 70s, 2 idle 20s
	if got := tbl.ReapIdle(); strings.Join(got, ",") != "1" {
		t.Fatalf("reaped %v, want [1]", got)
	}
	expect(t, rec.take(), "1 exit:Idle.", "1 hangup")
	tbl.Handle(msg("2", "Bob")) // input resets the idle clock
	clock.Advance(59 * time.Second)
	if got := tbl.ReapIdle(); len(got) != 0 {
		t.Fatalf("reaped %v after 59s idle", got)
	}
	if st := tbl.Stats(); st.Reaped != 1 || st.Active != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestLongLinesAreRefusedAndThePromptRepeated(t *testing.T) {
	tbl, rec := newLimitedTable(t, "testdata/post_style.lua", Config{MaxLineBytes: 10}, nil)
	tbl.Handle(msg("1", "connect"))
	rec.take()
	tbl.Handle(msg("1", strings.Repeat("x", 11)))
	expect(t, rec.take(), "1 screen:That line was too long (at most 10 characters); try again.", "1 prompt:name?")
	tbl.Handle(msg("1", "Ann"))
	expect(t, rec.take(), "1 prompt:colour?")
	if st := tbl.Stats(); st.LineTooLong != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestFloodIsThrottledThenDisconnected(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	tbl, rec := newLimitedTable(t, "testdata/failing.lua", Config{RatePerSecond: 1, RateBurst: 3}, clock)
	tbl.Handle(msg("1", "connect"))
	for range 3 {
		tbl.Handle(msg("1", "hi"))
	}
	rec.take()
	tbl.Handle(msg("1", "too fast"))
	expect(t, rec.take(), "1 screen:Slow down: that line was ignored.", "1 prompt:say something")
	clock.Advance(time.Second) // one token back
	tbl.Handle(msg("1", "calm"))
	expect(t, rec.take(), "1 screen:echo: calm", "1 prompt:say something")
	for range 3 { // with the one refused before "calm": no pause forgave it
		tbl.Handle(msg("1", "flood"))
	}
	got := rec.take()
	if last := got[len(got)-2:]; strings.Join(last, "|") != "1 exit:Flood.|1 hangup" {
		t.Fatalf("flood ended with %v", got)
	}
	if tbl.Has("1") {
		t.Error("the flooding caller is still online")
	}
}

func TestKickBroadcastAndCallers(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	tbl, rec := newLimitedTable(t, "testdata/post_style.lua", Config{Version: 7}, clock)
	tbl.Handle(msg("1", "connect"))
	tbl.Handle(msg("2", "connect"))
	clock.Advance(3 * time.Second)
	tbl.Handle(msg("2", "Bob"))
	clock.Advance(2 * time.Second)
	rec.take()
	callers := map[string]Caller{}
	for _, c := range tbl.Callers() {
		callers[c.ConnID] = c
	}
	if c := callers["1"]; c.Showing != "name?" || c.IdleSeconds != 5 || c.OnlineSeconds != 5 || c.Version != 7 {
		t.Errorf("caller 1 = %+v", c)
	}
	if c := callers["2"]; c.Showing != "colour?" || c.IdleSeconds != 2 {
		t.Errorf("caller 2 = %+v", c)
	}
	if n := tbl.Broadcast("Board closes in 5 minutes."); n != 2 {
		t.Errorf("broadcast reached %d callers", n)
	}
	got := rec.take()
	if len(got) != 2 || !strings.HasSuffix(got[0], "screen:Board closes in 5 minutes.") {
		t.Errorf("broadcast sent %v", got)
	}
	if !tbl.Kick("2") || tbl.Kick("2") {
		t.Error("Kick should succeed once")
	}
	expect(t, rec.take(), "2 exit:Kicked.", "2 hangup")
}

// TestASteadyFloodJustPastTheRateIsCut: a caller who sends twice the rate,
// evenly, has every other line taken; the refused ones still add up to the
// flood limit, which only a pause long enough to earn a whole burst back
// forgives (a slow machine's host sees a flooder at about such a pace, and
// the refused count once started again at every taken line).
func TestASteadyFloodJustPastTheRateIsCut(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	tbl, rec := newLimitedTable(t, "testdata/failing.lua", Config{RatePerSecond: 1, RateBurst: 3}, clock)
	tbl.Handle(msg("1", "connect"))
	refuseThree := func() {
		t.Helper()
		for range 3 {
			tbl.Handle(msg("1", "burst"))
		}
		rec.take()
		for range 3 {
			tbl.Handle(msg("1", "past it"))
			expect(t, rec.take(), "1 screen:Slow down: that line was ignored.", "1 prompt:say something")
		}
	}
	refuseThree()
	clock.Advance(3 * time.Second) // a whole burst back: forgiven
	refuseThree()
	if !tbl.Has("1") {
		t.Fatal("cut off after a pause that earned the whole burst back")
	}
	clock.Advance(3 * time.Second)
	for range 3 {
		tbl.Handle(msg("1", "burst"))
	}
	rec.take()
	taken := 0
	for i := 0; i < 20 && tbl.Has("1"); i++ {
		clock.Advance(500 * time.Millisecond)
		tbl.Handle(msg("1", "steady"))
		if got := rec.take(); len(got) > 0 && got[0] == "1 screen:echo: steady" {
			taken++
		}
	}
	if tbl.Has("1") {
		t.Fatal("20 lines at twice the rate, every other one refused: never cut off")
	}
	if taken != 3 {
		t.Errorf("%d lines taken on the way to the cut-off, want 3 (one a second)", taken)
	}
}

// TestEveryThrottledLineIsAnswered: a pasted message arrives faster than
// the rate allows; each refused line is answered with the prompt again, so
// a client waiting for a prompt after every line never hangs, until the
// flood cut-off ends the call.
func TestEveryThrottledLineIsAnswered(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	tbl, rec := newLimitedTable(t, "testdata/failing.lua", Config{RatePerSecond: 1, RateBurst: 3}, clock)
	tbl.Handle(msg("1", "connect"))
	for range 3 {
		tbl.Handle(msg("1", "hi"))
	}
	rec.take()
	for i := range 3 {
		tbl.Handle(msg("1", "pasted line"))
		expect(t, rec.take(), "1 screen:Slow down: that line was ignored.", "1 prompt:say something")
		if !tbl.Has("1") {
			t.Fatalf("cut off after %d refused lines", i+1)
		}
	}
	tbl.Handle(msg("1", "one too many"))
	expect(t, rec.take(), "1 exit:Flood.", "1 hangup")
}

// TestHugeBuiltinCallsEndOnlyTheirSession: one call of unpack, string.byte
// or string.char over a huge range used to run for seconds past the time
// budget (gopher-lua checks it only between instructions) while the
// worker's other callers waited; it now fails at once, and only the caller
// whose script made it sees the error screen.
func TestHugeBuiltinCallsEndOnlyTheirSession(t *testing.T) {
	for _, choice := range []string{"unpack", "byte", "char"} {
		t.Run(choice, func(t *testing.T) {
			tbl, rec := newLimitedTable(t, "testdata/builtins.lua", Config{ResumeBudget: 2 * time.Second}, nil)
			tbl.Handle(msg("1", "connect"))
			tbl.Handle(msg("2", "connect"))
			rec.take()
			start := time.Now()
			tbl.Handle(msg("1", choice))
			if elapsed := time.Since(start); elapsed > time.Second {
				t.Errorf("the call ran for %v", elapsed)
			}
			expect(t, rec.take(), "1 exit:Sorry, we broke.", "1 hangup")
			tbl.Handle(msg("2", "fine"))
			expect(t, rec.take(), "2 screen:ok abab cc", "2 prompt:which?")
		})
	}
}

// TestStringTamperingDoesNotReachOtherCallers: callers share one Lua state;
// one caller's script changing the string library must not change string
// methods for another.
func TestStringTamperingDoesNotReachOtherCallers(t *testing.T) {
	tbl, rec := newLimitedTable(t, "testdata/builtins.lua", Config{}, nil)
	tbl.Handle(msg("1", "connect"))
	tbl.Handle(msg("2", "connect"))
	rec.take()
	tbl.Handle(msg("1", "tamper"))
	expect(t, rec.take(), "1 screen:tamper tried", "1 prompt:which?")
	tbl.Handle(msg("2", "fine"))
	expect(t, rec.take(), "2 screen:ok abab cc", "2 prompt:which?")
}
