package main

import (
	"fmt"
	"time"

	"github.com/m2bbs/m2bbs/cmd/m2bbs-bench/internal/report"
)

// Issue 14's targets.
const (
	targetHostCPU      = 25.0 // µs of host CPU per prompt round trip, hashing excluded
	targetP99          = 5.0  // ms
	targetIdleKiB      = 8.0  // KiB of host RSS per idle caller
	targetIdleCallers  = 100000
	targetJournalShare = 25.0 // % of a prompt's host CPU
	// issueEchoCPU is the echo handler's host CPU per round trip, in µs,
	// on the machine where issue 14 set target 1: the target as a
	// multiple of the transport's own cost, for machines of other speeds.
	issueEchoCPU = 8.0
)

// The micro-benchmarks (make bench runs them) that, added to the echo
// handler's host CPU, make target 1's floor: what a journaled prompt of
// any board costs this machine at least.
const (
	// floorPromptBench is one prompt round trip inside the host: a
	// request decoded, a coroutine resumed, a ui.ask encoded; no store,
	// no journal.
	floorPromptBench = "session ResumeAsk"
	// floorJournalCallers is how many callers' journal rows the store's
	// WriteJournals benchmark commits at once (floorJournalBench); the
	// Makefile runs it with as many.
	floorJournalCallers = 8
)

// floorJournalBench names the micro-benchmark of one group commit of
// floorJournalCallers callers' journal rows, which reports its process
// CPU in cpu-ns/op.
var floorJournalBench = fmt.Sprintf("store WriteJournals/callers=%d", floorJournalCallers)

// originalRows are the section of the original board's workloads: m2bbs's
// figures beside the original's, and the ratios.
func (t *benchTable) originalRows() []report.Item {
	o := t.o
	title := report.Section("the original 2010 board (Mongrel2's examples/bbs: bbs.lua, ui.lua, engine.lua, strict.lua, config.lua, unchanged) on m2bbs, built-in front end, journals on")
	if t.originalSkipped != "" {
		return []report.Item{title, report.Remark("skipped: " + t.originalSkipped)}
	}
	if !o.step(stepOriginal) {
		return nil
	}
	out := []report.Item{title, report.Remark("original: C Lua 5.1 + lua-zmq + Redis 7 behind Mongrel2 1.12, measured on this machine class (2 cores) with this load generator (issue 14's table; constants)")}
	for _, w := range originalWorkloads {
		original := fmt.Sprintf("original %s round trips/s", report.Thousands(w.rtps))
		if w.p99 > 0 {
			original += fmt.Sprintf(", p99 %.2f ms", ms(w.p99))
		}
		for _, cost := range []int{o.bcryptCost, defaultCost} {
			runs := t.loads[originalKey(w, cost)][handlerBoard]
			if len(runs) == 0 {
				continue
			}
			pre := fmt.Sprintf("%s, %d caller(s), cost %d: ", w.title, o.callersOf(w), cost)
			target, pass := "", (func(float64) bool)(nil)
			if cost == o.bcryptCost && w.target > 0 && o.callersOf(w) == originalCallers {
				target, pass = fmt.Sprintf("≥ %.0f×", w.target), func(v float64) bool { return v >= w.target }
			}
			out = append(out,
				report.Row{Name: pre + "round trips/s", Values: collectRuns(runs, rtps), Format: report.Thousands, Note: original},
				report.Row{Name: pre + "÷ original", Values: collectRuns(runs, func(r loadRun) float64 { return rtps(r) / w.rtps }), Format: report.Unit("%.2f×"), Target: target, Pass: pass},
				report.Row{Name: pre + "p99", Values: collectRuns(runs, p99ms), Format: report.Unit("%.2f ms")},
				report.Row{Name: pre + "host CPU per round trip", Values: collectRuns(runs, hostCPUPerRT), Format: report.Unit("%.1f µs"),
					Note: fmt.Sprintf("hashing included: %s", hashNote(runs, t.hashCPU[cost]))},
				report.Row{Name: pre + "errors", Values: collectRuns(runs, func(r loadRun) float64 { return float64(r.errors()) }), Format: report.Unit("%.0f"),
					Target: "0", Pass: func(v float64) bool { return v == 0 }, Note: "failed visits + host error counters + lost posts"},
			)
		}
	}
	return out
}

// hashingRows are the section of the hashing step.
func (t *benchTable) hashingRows() []report.Item {
	rate, paced := t.loads[hashRateKey][handlerBoard], t.loads[hashPacedKey][handlerBoard]
	if len(rate) == 0 {
		return nil
	}
	o := t.o
	out := []report.Item{
		report.Section(fmt.Sprintf("hashing at the default bcrypt cost (%d), shipped board, built-in front end", defaultCost)),
		report.Row{Name: "sustained login rate", Values: collectRuns(rate, hashesPerSecond), Format: report.Unit("%.1f /s"),
			Note: fmt.Sprintf("%d callers registering at once, each hanging up at the menu", o.hashCallers)},
		report.Row{Name: "p99 of those logins' round trips", Values: collectRuns(rate, func(r loadRun) float64 { return ms(r.res.ByStep["password again"].Quantile(0.99)) }), Format: report.Unit("%.1f ms")},
	}
	for _, cost := range []int{o.bcryptCost, defaultCost} {
		if d, ok := t.hashCPU[cost]; ok {
			out = append(out, report.Row{Name: fmt.Sprintf("CPU of one bcrypt hash, cost %d", cost), Values: []float64{float64(d.Microseconds())}, Format: report.Unit("%.0f µs"),
				Note: "measured in the bench's process, one thread"})
		}
	}
	out = append(out,
		report.Row{Name: "paced: logins arriving", Values: collectRuns(paced, hashesPerSecond), Format: report.Unit("%.1f /s"),
			Note: fmt.Sprintf("half the sustained rate; new users' whole visits, %v pauses", o.hashThink)},
		report.Row{Name: "paced: p99 of non-login prompts", Values: collectRuns(paced, func(r loadRun) float64 { return ms(nonLoginP99(r)) }), Format: report.Unit("%.2f ms"),
			Target: fmt.Sprintf("< %.0f ms", targetP99), Pass: func(v float64) bool { return v < targetP99 }},
		report.Row{Name: "paced: p99 of all prompts", Values: collectRuns(paced, p99ms), Format: report.Unit("%.2f ms")},
		report.Row{Name: "errors", Values: collectRuns(append(append([]loadRun(nil), rate...), paced...), func(r loadRun) float64 { return float64(r.errors()) }),
			Format: report.Unit("%.0f"), Target: "0", Pass: func(v float64) bool { return v == 0 }},
	)
	return out
}

// targetRows are issue 14's targets, each with its figure and whether it
// is met.
func (t *benchTable) targetRows() []report.Item {
	o := t.o
	out := []report.Item{report.Section("issue 14's targets (medians; hashing taken out where said)")}
	lessThan := func(limit float64) func(float64) bool { return func(v float64) bool { return v < limit } }
	atMost := func(limit float64) func(float64) bool { return func(v float64) bool { return v <= limit } }
	missing := func(name, why string) report.Item { return report.Remark(name + ": not measured (" + why + ")") }

	board := t.loads[throughputKey(frontBuiltIn)][handlerBoard]
	hash := t.hashCPU[o.bcryptCost]
	if len(board) > 0 {
		out = append(out,
			report.Row{Name: "1. host CPU per prompt round trip, hashing excluded", Values: collectRuns(board, func(r loadRun) float64 { return hostCPUPerRTNoHash(r, hash) }),
				Format: report.Unit("%.1f µs"), Target: fmt.Sprintf("≤ %.0f µs", targetHostCPU), Pass: atMost(targetHostCPU),
				Note: fmt.Sprintf("shipped board, %d callers, built-in front end, journals on, cost %d", o.callers, o.bcryptCost)},
			report.Row{Name: "   hashing's CPU per round trip (apart)", Values: collectRuns(board, func(r loadRun) float64 { return hashPerRT(r, hash) }),
				Format: report.Unit("%.1f µs"), Note: hashNote(board, hash)},
		)
		if echo := t.echoFloor(); len(echo) > 0 {
			var times []float64
			for i := range min(len(board), len(echo)) {
				if floor := hostCPUPerRT(echo[i]); floor > 0 {
					times = append(times, hostCPUPerRTNoHash(board[i], hash)/floor)
				}
			}
			out = append(out,
				report.Row{Name: "   the echo handler's host CPU per round trip", Values: collectRuns(echo, hostCPUPerRT),
					Format: report.Unit("%.1f µs"), Note: "the same runs' transport alone: no Lua, no store, no journal"},
				report.Row{Name: "   the board's ÷ the echo handler's", Values: times, Format: report.Unit("%.1f×"),
					Note: fmt.Sprintf("paired runs; the issue's %.0f µs was %.1f× its machine's echo handler (%.1f µs)", targetHostCPU, targetHostCPU/issueEchoCPU, issueEchoCPU)})
			out = append(out, t.floorRows(echo)...)
		}
	} else {
		out = append(out, missing("1. host CPU per prompt round trip", "-steps without throughput or journal"))
	}

	for _, w := range originalWorkloads {
		if w.target == 0 {
			continue
		}
		name := fmt.Sprintf("2. %s ÷ original, %d callers", w.title, o.callersOf(w))
		runs := t.loads[originalKey(w, o.bcryptCost)][handlerBoard]
		switch {
		case t.originalSkipped != "":
			out = append(out, report.Remark(name+": skipped ("+t.originalSkipped+")"))
		case len(runs) == 0:
			out = append(out, missing(name, "-steps without original"))
		case o.callersOf(w) != originalCallers:
			out = append(out, missing(name, fmt.Sprintf("the original's figures are for %d callers", originalCallers)))
		default:
			out = append(out, report.Row{Name: name, Values: collectRuns(runs, func(r loadRun) float64 { return rtps(r) / w.rtps }), Format: report.Unit("%.2f×"),
				Target: fmt.Sprintf("≥ %.0f×", w.target), Pass: func(v float64) bool { return v >= w.target },
				Note: fmt.Sprintf("original %s round trips/s; cost %d", report.Thousands(w.rtps), o.bcryptCost)})
			if echo := t.echoFloor(); len(echo) > 0 && o.callers == o.callersOf(w) {
				out = append(out, report.Row{Name: "   the echo floor ÷ original", Values: collectRuns(echo, func(r loadRun) float64 { return rtps(r) / w.rtps }),
					Format: report.Unit("%.2f×"), Note: fmt.Sprintf("the echo handler's round trips/s at %d callers (load step): what no board can pass here", o.callers)})
			}
		}
	}

	if paced := t.loads[hashPacedKey][handlerBoard]; len(paced) > 0 {
		out = append(out,
			report.Row{Name: "3. p99 of non-login prompts, logins at half the sustained rate", Values: collectRuns(paced, func(r loadRun) float64 { return ms(nonLoginP99(r)) }),
				Format: report.Unit("%.2f ms"), Target: fmt.Sprintf("< %.0f ms", targetP99), Pass: lessThan(targetP99), Note: fmt.Sprintf("bcrypt cost %d", defaultCost)},
			report.Row{Name: "   sustained login rate", Values: collectRuns(t.loads[hashRateKey][handlerBoard], hashesPerSecond), Format: report.Unit("%.1f /s"),
				Note: fmt.Sprintf("bcrypt cost %d", defaultCost)},
		)
	} else {
		out = append(out, missing("3. hashing never blocks", "-steps without hashing"))
	}

	if lat := t.loads[latencyKey][handlerBoard]; len(lat) > 0 {
		target, pass := fmt.Sprintf("< %.0f ms", targetP99), lessThan(targetP99)
		note := fmt.Sprintf("%d callers, %v think time, logins included, journals on", o.latencyCallers, o.think)
		if o.latencyCallers < 1000 {
			target, pass, note = "", nil, note+" (the target is at 1,000)"
		}
		out = append(out, report.Row{Name: "4. p99 with callers thinking", Values: collectRuns(lat, p99ms), Format: report.Unit("%.2f ms"), Target: target, Pass: pass, Note: note})
	} else {
		out = append(out, missing("4. p99 at 1,000 callers", "-steps without latency"))
	}

	n := 0
	if len(o.idle) > 0 {
		n = o.idle[len(o.idle)-1]
	}
	switch steps := t.scale[n]; {
	case len(steps) == 0 && len(t.scale) > 0:
		out = append(out, report.Remark(fmt.Sprintf("5. RSS per idle caller at %s: MISSED: parking stopped before that step (the idle rows say why)", report.Thousands(float64(n)))))
	case len(steps) == 0:
		out = append(out, missing("5. RSS per idle caller at 100,000", "-steps without scale, or -idle empty"))
	default:
		kib, parked := "", ""
		passKiB, passAll := (func(float64) bool)(nil), (func(float64) bool)(nil)
		if n >= targetIdleCallers {
			kib, passKiB = fmt.Sprintf("≤ %.0f KiB", targetIdleKiB), atMost(targetIdleKiB)
			parked, passAll = report.Thousands(float64(n)), func(v float64) bool { return v >= float64(n) }
		}
		out = append(out,
			report.Row{Name: fmt.Sprintf("5. host RSS per idle caller at %s", report.Thousands(float64(n))), Values: collect(steps, func(s scaleStep) float64 { return s.rssPerCaller() / 1024 }),
				Format: report.Unit("%.2f KiB"), Target: kib, Pass: passKiB},
			report.Row{Name: "   callers parked", Values: collect(steps, func(s scaleStep) float64 { return float64(s.callers) }), Format: report.Thousands,
				Target: parked, Pass: passAll, Note: fmt.Sprintf("-idle-budget %v (0: none)", o.idleBudget)},
			report.Row{Name: "   time to park them", Values: collect(steps, func(s scaleStep) float64 { return s.elapsed.Seconds() }), Format: report.Unit("%.1f s")},
			report.Row{Name: "   of them hibernated", Values: collect(steps, func(s scaleStep) float64 { return float64(s.asleep) }), Format: report.Thousands,
				Note: "in their journals, no coroutine (docs/sessions.md)"},
			report.Row{Name: "   wake-up p50", Values: collect(steps, func(s scaleStep) float64 { return ms(s.wake.Quantile(0.5)) }), Format: report.Unit("%.2f ms"),
				Note: "a hibernated caller's line, rebuilt by replay (p99 and CPU in the idle rows)"},
		)
	}

	off := t.loads[noJournalKey][handlerBoard]
	if len(off) > 0 && len(board) > 0 {
		var shares []float64
		for i := range min(len(board), len(off)) {
			on, without := hostCPUPerRTNoHash(board[i], hash), hostCPUPerRTNoHash(off[i], hash)
			shares = append(shares, 100*(on-without)/on)
		}
		out = append(out,
			report.Row{Name: "6. journaling's share of a prompt's host CPU", Values: shares, Format: report.Unit("%.1f%%"),
				Target: fmt.Sprintf("≤ %.0f%%", targetJournalShare), Pass: atMost(targetJournalShare),
				Note: "paired runs with and without -no-journal, hashing excluded"},
			report.Row{Name: "   host CPU per round trip, -no-journal, hashing excluded", Values: collectRuns(off, func(r loadRun) float64 { return hostCPUPerRTNoHash(r, hash) }),
				Format: report.Unit("%.1f µs")},
			report.Row{Name: "   round trips/s, -no-journal", Values: collectRuns(off, rtps), Format: report.Thousands},
			report.Row{Name: "   errors, -no-journal", Values: collectRuns(off, func(r loadRun) float64 { return float64(r.errors()) }), Format: report.Unit("%.0f"),
				Target: "0", Pass: func(v float64) bool { return v == 0 }},
		)
	} else {
		out = append(out, missing("6. journaling's share", "-steps without journal"))
	}
	return out
}

// floorRows is target 1's floor beside it, when the micro-benchmarks
// hold its parts: the echo handler's host CPU per round trip in each of
// echo's runs, plus one prompt inside the host and one caller's journal
// row (medians).
func (t *benchTable) floorRows(echo []loadRun) []report.Item {
	prompt, okPrompt := t.microMedian(floorPromptBench, "ns/op")
	commit, okCommit := t.microMedian(floorJournalBench, "cpu-ns/op")
	if !okPrompt || !okCommit {
		return nil
	}
	promptUS, rowUS := prompt/1000, commit/floorJournalCallers/1000
	return []report.Item{report.Row{Name: "   the floor: echo handler + a prompt + a journal row",
		Values: collectRuns(echo, func(r loadRun) float64 { return hostCPUPerRT(r) + promptUS + rowUS }), Format: report.Unit("%.1f µs"),
		Note: fmt.Sprintf("what any journaled prompt costs here: + %.1f µs (%s, no store or journal) + %.1f µs (%s, per caller)",
			promptUS, floorPromptBench, rowUS, floorJournalBench)}}
}

// microMedian is the median of a micro-benchmark's values of unit, and
// whether the -micro file held them.
func (t *benchTable) microMedian(name, unit string) (float64, bool) {
	for _, m := range t.micro {
		if m.Name == name {
			if vs := m.Metric(unit); len(vs) > 0 {
				return report.Median(vs), true
			}
		}
	}
	return 0, false
}

// echoFloor are the echo handler's runs paired with the board's in the
// load step behind the built-in front end: the transport's own cost and
// rate, beside targets 1 and 2, which ask the board for about as much.
func (t *benchTable) echoFloor() []loadRun {
	return t.loads[throughputKey(frontBuiltIn)][handlerEcho]
}

func rtps(r loadRun) float64  { return r.res.RoundTripsPerSecond() }
func p99ms(r loadRun) float64 { return ms(r.res.Latency.Quantile(0.99)) }

// hostCPUPerRT is the host's CPU per prompt round trip in µs.
func hostCPUPerRT(r loadRun) float64 {
	return float64(r.handlerCPU) / float64(time.Microsecond) / float64(max(r.res.RoundTrips, 1))
}

// hashPerRT is the CPU of the run's hashes per round trip in µs.
func hashPerRT(r loadRun, hash time.Duration) float64 {
	return float64(time.Duration(r.hashes)*hash) / float64(time.Microsecond) / float64(max(r.res.RoundTrips, 1))
}

// hostCPUPerRTNoHash is hostCPUPerRT less the run's hashes.
func hostCPUPerRTNoHash(r loadRun, hash time.Duration) float64 {
	return hostCPUPerRT(r) - hashPerRT(r, hash)
}

// hashNote says how many hashes the runs held and what one costs.
func hashNote(runs []loadRun, hash time.Duration) string {
	var per []float64
	for _, r := range runs {
		per = append(per, float64(r.hashes))
	}
	return fmt.Sprintf("%s hashes per run (one per visit) × %v each", report.Thousands(report.Median(per)), hash.Round(time.Microsecond))
}
