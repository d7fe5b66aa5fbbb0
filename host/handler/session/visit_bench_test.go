package session

import (
	"bytes"
	"compress/gzip"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/m2bbs/m2bbs/host/handler/screens"
)

// visitTable is a journaled table on jb's board whose replies are
// encoded and dropped, as the edge would (the test recorder's decoding
// would be measured otherwise).
func visitTable(b *testing.B, jb *journaledBoard, main string) *Table {
	b.Helper()
	tbl, err := New(Config{
		ScriptsDir: jb.scripts, MainScript: filepath.Join(jb.scripts, main),
		RatePerSecond: 1e9, RateBurst: 1 << 30, Journal: true,
	}, Deps{
		Replier: discard{},
		Screens: screens.NewDir("../../../screens"),
		Store:   jb.db,
		Log:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(tbl.Close)
	return tbl
}

// answer sends each line as caller id and commits, as the worker does.
func answer(tbl *Table, id string, lines ...string) {
	for _, line := range lines {
		handle(tbl, msg(id, line))
	}
}

// loopPlan answers plan as caller 1 in each iteration, and reports ns
// and CPU (getrusage) per prompt round trip.
func loopPlan(b *testing.B, tbl *Table, plan []string) {
	prompts := 0
	start := processCPU(b)
	b.ResetTimer()
	for b.Loop() {
		answer(tbl, "1", plan...)
		prompts += len(plan)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(prompts), "ns/prompt")
	b.ReportMetric(float64((processCPU(b)-start).Nanoseconds())/float64(prompts), "cpu-ns/prompt")
}

// BenchmarkShippedVisit is the main menu part of the load suite's visit
// of the shipped board (make bench's throughput step), logged in, with
// journals on: a three-line message (menu 1), the reader and Q (menu 2),
// a three-line private message (menu 3, to themselves) and its reading
// (menu 4), 15 prompt round trips, each committed as the worker does.
// Logging in is left out: its bcrypt hash is accounted for apart.
func BenchmarkShippedVisit(b *testing.B) {
	jb := newJournaledBoardTB(b)
	tbl := visitTable(b, jb, "bbs.lua")
	answer(tbl, "1", "connect", "visitor", "pw", "pw", "y")
	plan := []string{"1", "a line", "another line", "the last line", ".", "2", "Q",
		"3", "visitor", "a line", "another line", "the last line", ".", "4", ""}
	answer(tbl, "1", plan...) // the first message and mail are out of the way
	loopPlan(b, tbl, plan)
}

// BenchmarkOriginalReading is the original board's returning user
// (make bench's original step), journals on: the 2010 bbs.lua and ui.lua
// unchanged, a caller at its main menu reading 50 messages (menu 2, Enter
// on each, Q on the last), 52 prompt round trips. It needs Debian's
// mongrel2-core examples.
func BenchmarkOriginalReading(b *testing.B) {
	const src = "/usr/share/doc/mongrel2-core/examples/bbs/"
	jb := newJournaledBoardTB(b)
	dir := b.TempDir()
	for _, f := range []string{"ui.lua", "engine.lua", "strict.lua", "config.lua", "bbs.lua.gz"} {
		raw, err := os.ReadFile(src + f)
		if err != nil {
			b.Skipf("the 2010 board is not installed (apt install mongrel2-core): %v", err)
		}
		if f == "bbs.lua.gz" {
			zr, err := gzip.NewReader(bytesReader(raw))
			if err != nil {
				b.Fatal(err)
			}
			if raw, err = io.ReadAll(zr); err != nil {
				b.Fatal(err)
			}
			f = "bbs.lua"
		}
		if err := os.WriteFile(filepath.Join(dir, f), raw, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	jb.scripts = dir
	tbl := visitTable(b, jb, "bbs.lua")
	answer(tbl, "1", "connect", "poster", "pw", "pw", "y")
	for i := range 60 {
		answer(tbl, "1", "1", "post "+strconv.Itoa(i), ".")
	}
	plan := []string{"2"}
	for range 50 {
		plan = append(plan, "")
	}
	plan = append(plan, "Q")
	loopPlan(b, tbl, plan)
}

// bytesReader reads b.
func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
