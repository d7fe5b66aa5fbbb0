package main

import (
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/cmd/m2bbs-bench/internal/loadgen"
	"github.com/m2bbs/m2bbs/cmd/m2bbs-bench/internal/report"
)

// The targets asking the board for about what the transport alone costs
// (1 and 2) show the echo handler's figures of the same runs beside them.
func TestTargetsShowTheEchoFloorBesideTargetsOneAndTwo(t *testing.T) {
	o, err := parseBenchFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	run := func(roundTrips int, cpu time.Duration) loadRun {
		return loadRun{res: loadgen.Result{RoundTrips: roundTrips, Window: time.Second}, handlerCPU: cpu}
	}
	table := newTable(o)
	table.hashCPU[o.bcryptCost] = time.Millisecond
	table.addLoad(throughputKey(frontBuiltIn), handlerBoard, run(3_000, 900*time.Millisecond))
	table.addLoad(throughputKey(frontBuiltIn), handlerEcho, run(14_406, 360*time.Millisecond))
	for _, w := range originalWorkloads {
		table.addLoad(originalKey(w, o.bcryptCost), handlerBoard, run(4_000, time.Second))
	}
	var out strings.Builder
	report.Write(&out, table.targetRows())
	text := out.String()
	t.Log(text)
	for _, want := range []string{
		// 360 ms of CPU over 14,406 round trips
		`(?m)^ *the echo handler's host CPU per round trip +25\.0 µs`,
		// the board's 300 µs (no hashes) against 25 µs
		`(?m)^ *the board's ÷ the echo handler's +12\.0× .*the issue's 25 µs was 3\.1× its machine's echo handler \(8\.0 µs\)`,
		// 14,406 round trips/s against the original's 6,616, then 4,802
		`(?m)^ *2\. new-user visits .*\n *the echo floor ÷ original +2\.18×`,
		`(?m)^ *2\. returning users .*\n *the echo floor ÷ original +3\.00×`,
	} {
		if !regexp.MustCompile(want).MatchString(text) {
			t.Errorf("the targets lack %s", want)
		}
	}

	// A share just over the line reads as over it, not as the line: the
	// board 300 µs a round trip, without its journal 224 µs.
	table.addLoad(noJournalKey, handlerBoard, run(3_000, 672*time.Millisecond))
	out.Reset()
	report.Write(&out, table.targetRows())
	if want := regexp.MustCompile(`(?m)^ *6\. journaling's share of a prompt's host CPU +25\.3% +≤ 25% +MISSED`); !want.MatchString(out.String()) {
		t.Errorf("the journaling share lacks %s:\n%s", want, out.String())
	}
	delete(table.loads, noJournalKey)

	// Without the load step there is no floor to show.
	delete(table.loads, throughputKey(frontBuiltIn))
	out.Reset()
	report.Write(&out, table.targetRows())
	if strings.Contains(out.String(), "echo") {
		t.Errorf("the targets show an echo floor the runs did not measure:\n%s", out.String())
	}
}

// Target 1's floor is shown only when the micro-benchmarks hold its
// parts: the echo handler's host CPU plus a prompt plus an eighth of a
// commit of eight callers' journal rows.
func TestTargetOneShowsItsFloorOnlyWithTheMicroBenchmarks(t *testing.T) {
	o, err := parseBenchFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	table := newTable(o)
	table.hashCPU[o.bcryptCost] = time.Millisecond
	table.addLoad(throughputKey(frontBuiltIn), handlerBoard, loadRun{res: loadgen.Result{RoundTrips: 3_000, Window: time.Second}, handlerCPU: 900 * time.Millisecond})
	table.addLoad(throughputKey(frontBuiltIn), handlerEcho, loadRun{res: loadgen.Result{RoundTrips: 14_406, Window: time.Second}, handlerCPU: 360 * time.Millisecond})
	var out strings.Builder
	report.Write(&out, table.targetRows())
	if strings.Contains(out.String(), "the floor") {
		t.Errorf("the targets show a floor the micro-benchmarks did not measure:\n%s", out.String())
	}
	micro, err := report.ParseMicro(strings.NewReader(`pkg: github.com/m2bbs/m2bbs/host/handler/session
BenchmarkResumeAsk-2   	   30000	      7000 ns/op	    2622 B/op	      39 allocs/op
BenchmarkResumeAsk-2   	   30000	      7500 ns/op	    2622 B/op	      39 allocs/op
BenchmarkResumeAsk-2   	   30000	      9000 ns/op	    2622 B/op	      39 allocs/op
pkg: github.com/m2bbs/m2bbs/host/handler/store
BenchmarkWriteJournals/callers=8-2   	     500	    400000 ns/op	    240000 cpu-ns/op	    5792 B/op	     108 allocs/op
`))
	if err != nil {
		t.Fatal(err)
	}
	table.micro = micro
	out.Reset()
	report.Write(&out, table.targetRows())
	// 25 µs (360 ms over 14,406 round trips) + 7.5 µs + 240 µs / 8
	if want := regexp.MustCompile(`(?m)^ *the floor: echo handler \+ a prompt \+ a journal row +62\.5 µs .*\+ 7\.5 µs \(session ResumeAsk.*\+ 30\.0 µs \(store WriteJournals/callers=8`); !want.MatchString(out.String()) {
		t.Errorf("the floor lacks %s:\n%s", want, out.String())
	}
}
