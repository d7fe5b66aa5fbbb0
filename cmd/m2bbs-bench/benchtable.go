package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/m2bbs/m2bbs/cmd/m2bbs-bench/internal/report"
)

// Keys of the load configurations in the table.
const latencyKey = "latency"

func throughputKey(front string) string { return "throughput/" + front }

// benchTable gathers the bench's measurements and prints them as one
// table of medians (package report).
type benchTable struct {
	o     *benchOptions
	loads map[string]map[string][]loadRun // configuration → handler → runs
	scale map[int][]scaleStep             // idle callers → runs
	micro []report.Micro
	// hashCPU is the CPU of one bcrypt hash by cost.
	hashCPU map[int]time.Duration
	// originalSkipped says why the original step did not run, if so.
	originalSkipped string
	// gateways are the gateways step's processes, in the order they ran.
	gateways []gatewayRun
	// files are the files step's runs.
	files []filesRun
}

func newTable(o *benchOptions) *benchTable {
	return &benchTable{o: o, loads: map[string]map[string][]loadRun{}, scale: map[int][]scaleStep{}, hashCPU: map[int]time.Duration{}}
}

func (t *benchTable) addLoad(key, handler string, r loadRun) {
	if t.loads[key] == nil {
		t.loads[key] = map[string][]loadRun{}
	}
	t.loads[key][handler] = append(t.loads[key][handler], r)
}

func (t *benchTable) addScale(steps []scaleStep) {
	for _, s := range steps {
		t.scale[s.target] = append(t.scale[s.target], s)
	}
}

// rows are the table's lines: each load configuration, the scale test's
// steps, the idle callers of the gateways, the original board, hashing
// and the micro-benchmarks, in that order.
func (t *benchTable) rows() []report.Item {
	var out []report.Item
	o := t.o
	for _, front := range []string{frontBuiltIn, frontMongrel2} {
		runs := t.loads[throughputKey(front)]
		if runs == nil {
			continue
		}
		title := "built-in front end (`m2bbs frontend`, own process)"
		if front == frontMongrel2 {
			title = "Mongrel2 1.12"
		}
		out = append(out, report.Section(fmt.Sprintf("load: %d callers without think time, behind %s%s", o.callers, title, o.engine())))
		target, pass := "", func(float64) bool { return true }
		if front == frontBuiltIn && o.callers >= 100 {
			target, pass = "≥ 0.50", func(v float64) bool { return v >= 0.5 }
		}
		out = append(out, t.loadRows(runs, target, pass, "", nil)...)
	}
	if runs := t.loads[latencyKey]; runs != nil {
		out = append(out, report.Section(fmt.Sprintf("latency: %d callers, each pausing %v (±50%%) before every answer, built-in front end%s; the board's callers arrive over %v, window %v–%v after the first call (the floor's %v–%v)",
			o.latencyCallers, o.think, o.engine(), o.latencyRamp, o.latencyWarmup, o.latencyWarmup+o.duration, min(echoLatencyWarmup, o.latencyWarmup), min(echoLatencyWarmup, o.latencyWarmup)+o.duration)))
		if visit := 20 * o.think; o.latencyRamp < visit*3/4 {
			out = append(out, report.Remark(fmt.Sprintf("(a visit lasts about %v: callers arriving over %v log in faster than they do afterwards; -latency-ramp %v spreads their first logins over one visit)",
				visit.Round(time.Second), o.latencyRamp, visit.Round(time.Second))))
		}
		target, pass := "", (func(float64) bool)(nil)
		if o.latencyCallers >= 1000 {
			target, pass = "< 5 ms", func(v float64) bool { return v < 5 }
		}
		out = append(out, t.loadRows(runs, "", nil, target, pass)...)
	}
	if len(t.scale) > 0 {
		out = append(out, report.Section(fmt.Sprintf("idle callers parked at the main menu: the bench plays the front end, all callers share one ZeroMQ socket pair; %d run(s)", o.idleRuns)))
		for _, n := range o.idle {
			steps := t.scale[n]
			if steps == nil {
				continue
			}
			target, pass := "", (func(float64) bool)(nil)
			if n >= 100000 {
				target, pass = "≤ 8 KiB", func(v float64) bool { return v <= 8 }
			}
			pre := fmt.Sprintf("%s idle: ", report.Thousands(float64(n)))
			out = append(out,
				report.Row{Name: pre + "sessions held", Values: collect(steps, func(s scaleStep) float64 { return float64(s.callers) }), Format: report.Thousands},
				report.Row{Name: pre + "host RSS per idle caller", Values: collect(steps, func(s scaleStep) float64 { return s.rssPerCaller() / 1024 }), Format: report.Unit("%.2f KiB"), Target: target, Pass: pass,
					Note: "(RSS − RSS before) ÷ callers"},
				report.Row{Name: pre + "Go heap per idle caller", Values: collect(steps, func(s scaleStep) float64 { return s.heapPerCaller() / 1024 }), Format: report.Unit("%.2f KiB"),
					Note: "heap objects, live or not yet collected"},
				report.Row{Name: pre + "host RSS", Values: collect(steps, func(s scaleStep) float64 { return float64(s.rss) / (1 << 20) }), Format: report.Unit("%.0f MiB")},
				report.Row{Name: pre + "host goroutines", Values: collect(steps, func(s scaleStep) float64 { return float64(s.goroutines) }), Format: report.Unit("%.0f")},
				report.Row{Name: pre + "logins/s while parking", Values: collect(steps, func(s scaleStep) float64 { return s.loginsPerSecond }), Format: report.Thousands,
					Note: fmt.Sprintf("new users, bcrypt cost %d, %d at once", o.bcryptCost, parkWindow)},
				report.Row{Name: pre + "time to park them", Values: collect(steps, func(s scaleStep) float64 { return s.elapsed.Seconds() }), Format: report.Unit("%.0f s"),
					Note: "this step's callers and the steps' before it"},
				report.Row{Name: pre + "sessions hibernated", Values: collect(steps, func(s scaleStep) float64 { return float64(s.asleep) }), Format: report.Thousands,
					Note: fmt.Sprintf("when measured, after waiting up to %v for them", o.hibernateWait)},
				report.Row{Name: pre + "wake-up p50", Values: collect(steps, func(s scaleStep) float64 { return ms(s.wake.Quantile(0.5)) }), Format: report.Unit("%.2f ms"),
					Note: fmt.Sprintf("%d hibernated callers each type a line, one at a time; rebuilt by replay", o.wakeSampleSize)},
				report.Row{Name: pre + "wake-up p99", Values: collect(steps, func(s scaleStep) float64 { return ms(s.wake.Quantile(0.99)) }), Format: report.Unit("%.2f ms")},
				report.Row{Name: pre + "host CPU per wake-up", Values: collect(steps, func(s scaleStep) float64 { return float64(s.wakeCPU) / float64(time.Microsecond) }), Format: report.Unit("%.0f µs"),
					Note: "the replay and the line's own work"},
			)
			for _, q := range []struct {
				name string
				q    float64
			}{{"p50", 0.5}, {"p99", 0.99}, {"p99.9", 0.999}} {
				note := ""
				if q.name == "p50" {
					note = fmt.Sprintf("one caller's whole visits over the same link for %v", o.active)
				}
				out = append(out, report.Row{Name: pre + "active caller latency " + q.name,
					Values: collect(steps, func(s scaleStep) float64 { return ms(s.active.Quantile(q.q)) }), Format: report.Unit("%.2f ms"), Note: note})
			}
			note := "callers not parked + host error counters + stray replies"
			for _, s := range steps {
				if s.failure != "" {
					note = s.failure
					break
				}
			}
			out = append(out, report.Row{Name: pre + "errors", Values: collect(steps, func(s scaleStep) float64 { return float64(s.errors()) }),
				Format: report.Unit("%.0f"), Target: "0", Pass: func(v float64) bool { return v == 0 }, Note: note})
		}
	}
	out = append(out, t.gatewayRows()...)
	out = append(out, t.filesRows()...)
	out = append(out, t.originalRows()...)
	out = append(out, t.hashingRows()...)
	if len(t.micro) > 0 {
		out = append(out, report.Section("micro-benchmarks (go test -bench, median of the runs in the file)"))
		for _, m := range t.micro {
			out = append(out, report.Row{Name: m.Name, Values: m.NsPerOp, Format: report.Nanos, Note: m.Note()})
		}
	}
	return append(out, t.targetRows()...)
}

// loadRows are the rows of one load configuration: the board, its floor,
// and the ratio.
func (t *benchTable) loadRows(runs map[string][]loadRun, ratioTarget string, ratioPass func(float64) bool, p99Target string, p99Pass func(float64) bool) []report.Item {
	board, floor := runs[handlerBoard], runs[handlerEcho]
	var out []report.Item
	rtps := func(r loadRun) float64 { return r.res.RoundTripsPerSecond() }
	out = append(out,
		report.Row{Name: "m2bbs prompt round trips/s", Values: collectRuns(board, rtps), Format: report.Thousands},
		report.Row{Name: "echo floor prompt round trips/s", Values: collectRuns(floor, rtps), Format: report.Thousands},
	)
	if len(board) > 0 && len(floor) > 0 && ratioPass != nil {
		var ratios []float64
		for i := range min(len(board), len(floor)) {
			ratios = append(ratios, rtps(board[i])/rtps(floor[i]))
		}
		out = append(out, report.Row{Name: "m2bbs ÷ floor (round trips/s)", Values: ratios, Format: report.Unit("%.2f"), Target: ratioTarget, Pass: ratioPass,
			Note: "paired runs"})
	}
	out = append(out, report.Row{Name: "m2bbs sessions/s", Values: collectRuns(board, func(r loadRun) float64 { return r.res.VisitsPerSecond() }), Format: report.Unit("%.1f"),
		Note: "whole visits, about 20 prompts each"})
	for _, q := range []struct {
		name string
		q    float64
	}{{"p50", 0.5}, {"p99", 0.99}, {"p99.9", 0.999}} {
		target, pass := "", (func(float64) bool)(nil)
		if q.name == "p99" {
			target, pass = p99Target, p99Pass
		}
		out = append(out,
			report.Row{Name: "m2bbs latency " + q.name, Values: collectRuns(board, func(r loadRun) float64 { return ms(r.res.Latency.Quantile(q.q)) }), Format: report.Unit("%.2f ms"), Target: target, Pass: pass},
			report.Row{Name: "echo floor latency " + q.name, Values: collectRuns(floor, func(r loadRun) float64 { return ms(r.res.Latency.Quantile(q.q)) }), Format: report.Unit("%.2f ms")},
		)
	}
	if slow := slowestSteps(board, 3); len(slow) > 0 {
		note := ""
		for i, st := range slow {
			if i > 0 {
				note += ", "
			}
			note += fmt.Sprintf("%s %.1f ms", st.name, st.p99)
		}
		out = append(out, report.Row{Name: "m2bbs p99 of the slowest steps", Values: slow[0].runs, Format: report.Unit("%.2f ms"),
			Note: note + " (medians)"})
	}
	// What a login's hash adds to the tail, apart: one round trip in
	// about 20 holds one.
	if logins := collectRuns(board, func(r loadRun) float64 { return ms(loginP99(r)) }); slices.ContainsFunc(logins, func(v float64) bool { return v > 0 }) {
		out = append(out,
			report.Row{Name: "m2bbs p99 of logins", Values: logins, Format: report.Unit("%.2f ms"), Note: "the password steps: each holds a bcrypt hash"},
			report.Row{Name: "m2bbs p99 of the other prompts", Values: collectRuns(board, func(r loadRun) float64 { return ms(nonLoginP99(r)) }), Format: report.Unit("%.2f ms")},
		)
	}
	perRT := func(cpu func(loadRun) time.Duration) func(loadRun) float64 {
		return func(r loadRun) float64 { return float64(cpu(r).Microseconds()) / float64(max(r.res.RoundTrips, 1)) }
	}
	for _, c := range []struct {
		name string
		cpu  func(loadRun) time.Duration
	}{
		{"host", func(r loadRun) time.Duration { return r.handlerCPU }},
		{"front end", func(r loadRun) time.Duration { return r.frontCPU }},
		{"load generator", func(r loadRun) time.Duration { return r.selfCPU }},
	} {
		out = append(out,
			report.Row{Name: "CPU per round trip: " + c.name + " (m2bbs)", Values: collectRuns(board, perRT(c.cpu)), Format: report.Unit("%.1f µs")},
			report.Row{Name: "CPU per round trip: " + c.name + " (echo)", Values: collectRuns(floor, perRT(c.cpu)), Format: report.Unit("%.1f µs")},
		)
	}
	out = append(out,
		report.Row{Name: "host CPU seconds in the window (m2bbs)", Values: collectRuns(board, func(r loadRun) float64 { return r.handlerCPU.Seconds() }), Format: report.Unit("%.2f s"),
			Note: fmt.Sprintf("of %v × %d cores", t.o.duration, runtime.NumCPU())},
		report.Row{Name: "host RSS (m2bbs)", Values: collectRuns(board, func(r loadRun) float64 { return float64(r.handlerRSS) / (1 << 20) }), Format: report.Unit("%.1f MiB")},
		report.Row{Name: "host Go heap (m2bbs)", Values: collectRuns(board, func(r loadRun) float64 { return float64(r.heap) / (1 << 20) }), Format: report.Unit("%.1f MiB")},
		report.Row{Name: "host goroutines (m2bbs)", Values: collectRuns(board, func(r loadRun) float64 { return float64(r.goroutines) }), Format: report.Unit("%.0f")},
		report.Row{Name: "errors (m2bbs)", Values: collectRuns(board, func(r loadRun) float64 { return float64(r.errors()) }), Format: report.Unit("%.0f"), Target: "0",
			Pass: func(v float64) bool { return v == 0 }, Note: "failed visits + host error counters + lost posts"},
		report.Row{Name: "errors (echo)", Values: collectRuns(floor, func(r loadRun) float64 { return float64(r.errors()) }), Format: report.Unit("%.0f"), Target: "0",
			Pass: func(v float64) bool { return v == 0 }, Note: "failed visits"},
	)
	return out
}

// stepP99 is one step of the board's visit and its p99 over runs.
type stepP99 struct {
	name string
	runs []float64 // p99 in ms, per run
	p99  float64   // their median
}

// slowestSteps are the n steps with the highest median p99.
func slowestSteps(runs []loadRun, n int) []stepP99 {
	byName := map[string]*stepP99{}
	for _, r := range runs {
		for name, l := range r.res.ByStep {
			if byName[name] == nil {
				byName[name] = &stepP99{name: name}
			}
			byName[name].runs = append(byName[name].runs, ms(l.Quantile(0.99)))
		}
	}
	var all []stepP99
	for _, s := range byName {
		s.p99 = report.Median(s.runs)
		all = append(all, *s)
	}
	slices.SortFunc(all, func(a, b stepP99) int { return cmp.Compare(b.p99, a.p99) })
	return all[:min(n, len(all))]
}

func collectRuns(runs []loadRun, f func(loadRun) float64) []float64 {
	var v []float64
	for _, r := range runs {
		v = append(v, f(r))
	}
	return v
}

func collect(steps []scaleStep, f func(scaleStep) float64) []float64 {
	var v []float64
	for _, s := range steps {
		v = append(v, f(s))
	}
	return v
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// print writes the table.
func (t *benchTable) print(w io.Writer, took time.Duration) {
	fmt.Fprintf(w, "m2bbs-bench: %s; took %v\n", report.Machine(), took.Round(time.Second))
	workers := "one per core"
	if t.o.workers > 0 {
		workers = strconv.Itoa(t.o.workers)
	}
	fmt.Fprintf(w, "%d runs per load figure, each %v after %v of warm-up (latency run: %v); median [min … max] of the runs; bcrypt cost %d; host Lua workers: %s\n",
		t.o.runs, t.o.duration, t.o.warmup, t.o.latencyWarmup, t.o.bcryptCost, workers)
	if len(t.o.hostEnv) > 0 {
		fmt.Fprintf(w, "host environment: %s\n", strings.Join(t.o.hostEnv, " "))
	}
	report.Write(w, t.rows())
}

// addMicro reads `go test -bench` output.
func (t *benchTable) addMicro(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("bench: -micro: %w", err)
	}
	defer f.Close()
	ms, err := report.ParseMicro(f)
	if err != nil {
		return fmt.Errorf("bench: -micro %s: %w", path, err)
	}
	t.micro = ms
	return nil
}
