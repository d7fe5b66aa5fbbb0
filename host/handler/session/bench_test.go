package session

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/screens"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/message"
)

// discard is a Replier that drops every reply.
type discard struct{}

func (discard) Reply(string, []string, []byte) error { return nil }

// SendMessage encodes the message, as the edge would, and drops it.
func (discard) SendMessage(_ string, _ []string, m message.Message) error {
	_ = m.AppendJSON(nil)
	return nil
}

// benchTable is a table running testdata/bench_menu.lua with opts.
func benchTable(b *testing.B, opts lua.Options) *Table {
	b.Helper()
	// The benchmarks measure prompts, not flood protection: one caller
	// answers far faster than -rate allows.
	tbl, err := New(Config{ScriptsDir: "testdata", MainScript: "testdata/bench_menu.lua", LuaOptions: opts,
		RatePerSecond: 1e9, RateBurst: 1 << 30},
		Deps{Replier: discard{}, Screens: screenMap{}, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(tbl.Close)
	return tbl
}

// toMenu logs caller id in and leaves them waiting at the menu.
func toMenu(tbl *Table, id string) {
	for _, line := range []string{"connect", "caller" + id, "secret", "y"} {
		tbl.Handle(msg(id, line))
	}
}

// BenchmarkResumeAsk is one prompt round trip inside the host: a caller's
// line is decoded into a request table, their coroutine resumed, and the
// script's next ui.ask encoded as a reply, with 1,000 other callers
// waiting at the same menu.
func BenchmarkResumeAsk(b *testing.B) {
	tbl := benchTable(b, lua.Options{})
	for i := range 1000 {
		toMenu(tbl, strconv.Itoa(i))
	}
	toMenu(tbl, "active")
	req := msg("active", "1")
	b.ReportAllocs()
	for b.Loop() {
		tbl.Handle(req)
	}
	// Every line was a prompt round trip of the one session, not a
	// refusal or a fresh call.
	if st := tbl.Stats(); !tbl.Has("active") || st.Throttled != 0 || st.Started != 1001 {
		b.Fatalf("the benchmark measured more than prompts: %+v", st)
	}
}

// BenchmarkLuaResumeYield is the floor of BenchmarkResumeAsk: resuming a
// gopher-lua coroutine that yields from a Go function, nothing else.
func BenchmarkLuaResumeYield(b *testing.B) {
	L := lua.NewState(DefaultLuaOptions)
	defer L.Close()
	L.SetGlobal("wait", L.NewFunction(func(L *lua.LState) int { return L.Yield(L.Get(1)) }))
	if err := L.DoString(`function loop(x) while true do x = wait(x) end end`); err != nil {
		b.Fatal(err)
	}
	fn := L.GetGlobal("loop").(*lua.LFunction)
	th, _ := L.NewThread()
	if st, err, _ := L.Resume(th, fn, lua.LNumber(0)); st != lua.ResumeYield || err != nil {
		b.Fatalf("first resume: %v %v", st, err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if st, err, _ := L.Resume(th, fn, lua.LNumber(1)); st != lua.ResumeYield || err != nil {
			b.Fatalf("resume: %v %v", st, err)
		}
	}
}

// idleOptions are the lua.Options compared by BenchmarkIdleSession.
var idleOptions = []struct {
	name string
	opts lua.Options
}{
	{"gopher-lua-defaults", lua.Options{CallStackSize: lua.CallStackSize, RegistrySize: lua.RegistrySize}},
	{"m2bbs-defaults", DefaultLuaOptions},
	{"fixed-call-stack", func() lua.Options { o := DefaultLuaOptions; o.MinimizeStackMemory = false; return o }()},
	{"call-stack-64", func() lua.Options { o := DefaultLuaOptions; o.CallStackSize = 64; return o }()},
	{"registry-grow-32", func() lua.Options { o := DefaultLuaOptions; o.RegistryGrowStep = 32; return o }()},
}

// BenchmarkIdleSession starts sessions and leaves each waiting at the
// menu: ns/op is one login (four prompts) without a database, and
// B/session the live heap each suspended session keeps (after GC), for
// several lua.Options.
func BenchmarkIdleSession(b *testing.B) {
	for _, o := range idleOptions {
		b.Run(o.name, func(b *testing.B) {
			tbl := benchTable(b, o.opts)
			toMenu(tbl, "warm-up")
			before := heapAfterGC()
			n := 0
			for b.Loop() {
				toMenu(tbl, strconv.Itoa(n))
				n++
			}
			b.StopTimer()
			after := heapAfterGC()
			if tbl.Len() != n+1 {
				b.Fatalf("%d sessions for %d callers", tbl.Len(), n+1)
			}
			b.ReportMetric(float64(int64(after)-int64(before))/float64(n), "B/session")
		})
	}
}

// BenchmarkIdleBoardSession is BenchmarkIdleSession on the shipped board
// (scripts/bbs.lua, the real screens, SQLite with bcrypt at cost 4): each
// iteration registers a caller and leaves them at the main menu. ns/op is
// one registration (five prompts, one bcrypt); B/session the live heap
// each parked caller keeps.
func BenchmarkIdleBoardSession(b *testing.B) {
	for _, journaled := range []bool{false, true} {
		b.Run(fmt.Sprintf("journal=%v", journaled), func(b *testing.B) { benchIdleBoardSession(b, journaled) })
	}
}

func benchIdleBoardSession(b *testing.B, journaled bool) {
	db, err := store.Open(filepath.Join(b.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	tbl, err := New(Config{ScriptsDir: "../../../scripts", MainScript: "../../../scripts/bbs.lua", RatePerSecond: 1e6, RateBurst: 1 << 20, Journal: journaled},
		Deps{Replier: discard{}, Screens: screens.NewDir("../../../screens"), Store: db, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(tbl.Close)
	register := func(id string) {
		for _, line := range []string{"connect", "caller" + id, "secret", "secret", "y"} {
			handle(tbl, msg(id, line))
		}
	}
	for i := range 100 { // the first user is the sysop; the state warms up
		register("warm" + strconv.Itoa(i))
	}
	before := heapAfterGC()
	n := 0
	for b.Loop() {
		register(strconv.Itoa(n))
		n++
	}
	b.StopTimer()
	after := heapAfterGC()
	if tbl.Len() != n+100 {
		b.Fatalf("%d sessions for %d callers: some did not reach the menu", tbl.Len(), n+100)
	}
	b.ReportMetric(float64(int64(after)-int64(before))/float64(n), "B/session")
}

// TestBenchMenuScript checks the benchmarks' script does what they assume.
func TestBenchMenuScript(t *testing.T) {
	tbl, rec := newTable(t, "testdata/bench_menu.lua", nil)
	for _, line := range []string{"connect", "Ann", "pw", "y", "1", "q"} {
		tbl.Handle(msg("1", line))
	}
	got := rec.take()
	want := []string{"What's your name?", "What's your password?", "MOTD", "MAIN MENU", "MAIN MENU", "Bye, Ann."}
	if len(got) != len(want)+2 {
		t.Fatalf("replies: %q", got)
	}
	for i, w := range want {
		if !strings.Contains(got[i], w) {
			t.Errorf("reply %d = %q, want it to hold %q", i, got[i], w)
		}
	}
	if tbl.Len() != 0 {
		t.Errorf("%d sessions left after Q", tbl.Len())
	}
}
