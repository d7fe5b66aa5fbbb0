package main

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/m2bbs/m2bbs/cmd/m2bbs-bench/internal/loadgen"
)

// Keys of the load configurations in the table.
const latencyKey = "latency"

func throughputKey(front string) string { return "throughput/" + front }

// benchTable gathers the bench's measurements and prints them as one
// table of medians.
type benchTable struct {
	o     *benchOptions
	loads map[string]map[string][]loadRun // configuration → handler → runs
	scale map[int][]scaleStep             // idle callers → runs
	micro []microBench
}

func newTable(o *benchOptions) *benchTable {
	return &benchTable{o: o, loads: map[string]map[string][]loadRun{}, scale: map[int][]scaleStep{}}
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

// row is one line of the table: a figure measured in several runs.
type row struct {
	name   string
	values []float64
	format func(float64) string
	target string
	// pass, if set, says whether the median meets the target.
	pass func(float64) bool
	note string
}

// section starts a group of rows.
type section string

// remark is a line of explanation under a section's title.
type remark string

func (t *benchTable) rows() []any {
	var out []any
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
		out = append(out, section(fmt.Sprintf("load: %d callers without think time, behind %s", o.callers, title)))
		target, pass := "", func(float64) bool { return true }
		if front == frontBuiltIn && o.callers >= 100 {
			target, pass = "≥ 0.50", func(v float64) bool { return v >= 0.5 }
		}
		out = append(out, t.loadRows(runs, target, pass, "", nil)...)
	}
	if runs := t.loads[latencyKey]; runs != nil {
		out = append(out, section(fmt.Sprintf("latency: %d callers, each pausing %v (±50%%) before every answer, built-in front end; window %v–%v after the first call",
			o.latencyCallers, o.think, o.latencyWarmup, o.latencyWarmup+o.duration)))
		if visit := 20 * o.think; o.latencyWarmup < visit {
			out = append(out, remark(fmt.Sprintf("(a visit lasts about %v: this window holds the callers' first steps, logins included; -latency-warmup %v measures the steady state)",
				visit.Round(time.Second), (visit+visit/4).Round(time.Second))))
		}
		target, pass := "", (func(float64) bool)(nil)
		if o.latencyCallers >= 1000 {
			target, pass = "< 5 ms", func(v float64) bool { return v < 5 }
		}
		out = append(out, t.loadRows(runs, "", nil, target, pass)...)
	}
	if len(t.scale) > 0 {
		out = append(out, section(fmt.Sprintf("idle callers parked at the main menu: the bench plays the front end, all callers share one ZeroMQ socket pair; %d run(s)", o.idleRuns)))
		for _, n := range o.idle {
			steps := t.scale[n]
			if steps == nil {
				continue
			}
			target, pass := "", (func(float64) bool)(nil)
			if n >= 100000 {
				target, pass = "≤ 8 KiB", func(v float64) bool { return v <= 8 }
			}
			pre := fmt.Sprintf("%s idle: ", thousands(float64(n)))
			out = append(out,
				row{name: pre + "sessions held", values: collect(steps, func(s scaleStep) float64 { return float64(s.callers) }), format: thousands},
				row{name: pre + "host RSS per idle caller", values: collect(steps, func(s scaleStep) float64 { return s.rssPerCaller() / 1024 }), format: unit("%.2f KiB"), target: target, pass: pass,
					note: "(RSS − RSS before) ÷ callers"},
				row{name: pre + "Go heap per idle caller", values: collect(steps, func(s scaleStep) float64 { return s.heapPerCaller() / 1024 }), format: unit("%.2f KiB"),
					note: "heap objects, live or not yet collected"},
				row{name: pre + "host RSS", values: collect(steps, func(s scaleStep) float64 { return float64(s.rss) / (1 << 20) }), format: unit("%.0f MiB")},
				row{name: pre + "host goroutines", values: collect(steps, func(s scaleStep) float64 { return float64(s.goroutines) }), format: unit("%.0f")},
				row{name: pre + "logins/s while parking", values: collect(steps, func(s scaleStep) float64 { return s.loginsPerSecond }), format: thousands,
					note: fmt.Sprintf("new users, bcrypt cost %d, %d at once", o.bcryptCost, parkWindow)},
			)
			for _, q := range []struct {
				name string
				q    float64
			}{{"p50", 0.5}, {"p99", 0.99}, {"p99.9", 0.999}} {
				note := ""
				if q.name == "p50" {
					note = fmt.Sprintf("one caller's whole visits over the same link for %v", o.active)
				}
				out = append(out, row{name: pre + "active caller latency " + q.name,
					values: collect(steps, func(s scaleStep) float64 { return ms(s.active.Quantile(q.q)) }), format: unit("%.2f ms"), note: note})
			}
			note := "callers not parked + host error counters + stray replies"
			for _, s := range steps {
				if s.failure != "" {
					note = s.failure
					break
				}
			}
			out = append(out, row{name: pre + "errors", values: collect(steps, func(s scaleStep) float64 { return float64(s.errors()) }),
				format: unit("%.0f"), target: "0", pass: func(v float64) bool { return v == 0 }, note: note})
		}
	}
	if len(t.micro) > 0 {
		out = append(out, section("micro-benchmarks (go test -bench, median of the runs in the file)"))
		for _, m := range t.micro {
			out = append(out, row{name: m.name, values: m.nsPerOp, format: nanos, note: m.note()})
		}
	}
	return out
}

// loadRows are the rows of one load configuration: the board, its floor,
// and the ratio.
func (t *benchTable) loadRows(runs map[string][]loadRun, ratioTarget string, ratioPass func(float64) bool, p99Target string, p99Pass func(float64) bool) []any {
	board, floor := runs[handlerBoard], runs[handlerEcho]
	var out []any
	rtps := func(r loadRun) float64 { return r.res.RoundTripsPerSecond() }
	out = append(out,
		row{name: "m2bbs prompt round trips/s", values: collectRuns(board, rtps), format: thousands},
		row{name: "echo floor prompt round trips/s", values: collectRuns(floor, rtps), format: thousands},
	)
	if len(board) > 0 && len(floor) > 0 && ratioPass != nil {
		var ratios []float64
		for i := range min(len(board), len(floor)) {
			ratios = append(ratios, rtps(board[i])/rtps(floor[i]))
		}
		out = append(out, row{name: "m2bbs ÷ floor (round trips/s)", values: ratios, format: unit("%.2f"), target: ratioTarget, pass: ratioPass,
			note: "paired runs"})
	}
	out = append(out, row{name: "m2bbs sessions/s", values: collectRuns(board, func(r loadRun) float64 { return r.res.VisitsPerSecond() }), format: unit("%.1f"),
		note: "whole visits, about 20 prompts each"})
	for _, q := range []struct {
		name string
		q    float64
	}{{"p50", 0.5}, {"p99", 0.99}, {"p99.9", 0.999}} {
		target, pass := "", (func(float64) bool)(nil)
		if q.name == "p99" {
			target, pass = p99Target, p99Pass
		}
		out = append(out,
			row{name: "m2bbs latency " + q.name, values: collectRuns(board, func(r loadRun) float64 { return ms(r.res.Latency.Quantile(q.q)) }), format: unit("%.2f ms"), target: target, pass: pass},
			row{name: "echo floor latency " + q.name, values: collectRuns(floor, func(r loadRun) float64 { return ms(r.res.Latency.Quantile(q.q)) }), format: unit("%.2f ms")},
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
		out = append(out, row{name: "m2bbs p99 of the slowest steps", values: slow[0].runs, format: unit("%.2f ms"),
			note: note + " (medians)"})
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
			row{name: "CPU per round trip: " + c.name + " (m2bbs)", values: collectRuns(board, perRT(c.cpu)), format: unit("%.1f µs")},
			row{name: "CPU per round trip: " + c.name + " (echo)", values: collectRuns(floor, perRT(c.cpu)), format: unit("%.1f µs")},
		)
	}
	out = append(out,
		row{name: "host CPU seconds in the window (m2bbs)", values: collectRuns(board, func(r loadRun) float64 { return r.handlerCPU.Seconds() }), format: unit("%.2f s"),
			note: fmt.Sprintf("of %v × %d cores", t.o.duration, runtime.NumCPU())},
		row{name: "host RSS (m2bbs)", values: collectRuns(board, func(r loadRun) float64 { return float64(r.handlerRSS) / (1 << 20) }), format: unit("%.1f MiB")},
		row{name: "host Go heap (m2bbs)", values: collectRuns(board, func(r loadRun) float64 { return float64(r.heap) / (1 << 20) }), format: unit("%.1f MiB")},
		row{name: "host goroutines (m2bbs)", values: collectRuns(board, func(r loadRun) float64 { return float64(r.goroutines) }), format: unit("%.0f")},
		row{name: "errors (m2bbs)", values: collectRuns(board, func(r loadRun) float64 { return float64(r.errors()) }), format: unit("%.0f"), target: "0",
			pass: func(v float64) bool { return v == 0 }, note: "failed visits + host error counters + lost posts"},
		row{name: "errors (echo)", values: collectRuns(floor, func(r loadRun) float64 { return float64(r.errors()) }), format: unit("%.0f"), target: "0",
			pass: func(v float64) bool { return v == 0 }, note: "failed visits"},
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
		s.p99 = loadgen.Median(s.runs)
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

func unit(format string) func(float64) string {
	return func(v float64) string { return fmt.Sprintf(format, v) }
}

// thousands formats v rounded, with thin thousands separators.
func thousands(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func nanos(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2f ms", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1f µs", v/1e3)
	}
	return fmt.Sprintf("%.0f ns", v)
}

// print writes the table.
func (t *benchTable) print(w io.Writer, took time.Duration) {
	fmt.Fprintf(w, "m2bbs-bench: %s; took %v\n", machine(), took.Round(time.Second))
	workers := "one per core"
	if t.o.workers > 0 {
		workers = strconv.Itoa(t.o.workers)
	}
	fmt.Fprintf(w, "%d runs per load figure, each %v after %v of warm-up (latency run: %v); median [min … max] of the runs; bcrypt cost %d; host Lua workers: %s\n",
		t.o.runs, t.o.duration, t.o.warmup, t.o.latencyWarmup, t.o.bcryptCost, workers)
	if len(t.o.hostEnv) > 0 {
		fmt.Fprintf(w, "host environment: %s\n", strings.Join(t.o.hostEnv, " "))
	}
	lines := [][]string{{"figure", "median", "[min … max]", "target", "", "note"}}
	for _, item := range t.rows() {
		switch it := item.(type) {
		case section:
			lines = append(lines, []string{"— " + string(it)})
		case remark:
			lines = append(lines, []string{"  " + string(it)})
		case row:
			if len(it.values) == 0 {
				continue
			}
			med := loadgen.Median(it.values)
			lo, hi := minMax(it.values)
			spread := ""
			if len(it.values) > 1 {
				spread = "[" + it.format(lo) + " … " + it.format(hi) + "]"
			}
			verdict := ""
			if it.pass != nil && it.target != "" {
				verdict = "MISSED"
				if it.pass(med) {
					verdict = "met"
				}
			}
			lines = append(lines, []string{"  " + it.name, it.format(med), spread, it.target, verdict, it.note})
		}
	}
	writeColumns(w, lines)
}

// writeColumns prints lines of cells in aligned columns; a line of one
// cell (a section title) spans the table and does not widen the first
// column.
func writeColumns(w io.Writer, lines [][]string) {
	var widths []int
	for _, cells := range lines {
		if len(cells) == 1 {
			continue
		}
		for i, c := range cells {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	for _, cells := range lines {
		var b strings.Builder
		for i, c := range cells {
			b.WriteString(c)
			if i < len(cells)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

func minMax(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}

// machine describes the computer: cores, CPU model, kernel, Go.
func machine() string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	kernel := "unknown kernel"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = "Linux " + strings.TrimSpace(string(b))
	}
	return fmt.Sprintf("%d × %s, %s, %s", runtime.NumCPU(), model, kernel, runtime.Version())
}

// microBench is one Go benchmark's results over its runs.
type microBench struct {
	name    string
	nsPerOp []float64
	// other metrics by unit: B/op, allocs/op and custom ones.
	other map[string][]float64
	units []string // order of first appearance
}

func (m microBench) note() string {
	var parts []string
	for _, u := range m.units {
		v := loadgen.Median(m.other[u])
		if u == "B/op" || u == "allocs/op" || v >= 100 {
			parts = append(parts, fmt.Sprintf("%s %s", thousands(v), u))
		} else {
			parts = append(parts, fmt.Sprintf("%.3g %s", v, u))
		}
	}
	return strings.Join(parts, ", ")
}

// addMicro reads `go test -bench` output.
func (t *benchTable) addMicro(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("bench: -micro: %w", err)
	}
	defer f.Close()
	ms, err := parseMicro(f)
	if err != nil {
		return fmt.Errorf("bench: -micro %s: %w", path, err)
	}
	t.micro = ms
	return nil
}

// parseMicro reads benchmark lines ("BenchmarkX-2  N  V ns/op  V B/op ...")
// grouped under their "pkg:" lines.
func parseMicro(r io.Reader) ([]microBench, error) {
	var (
		out   []microBench
		index = map[string]int{}
		pkg   string
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = p[strings.LastIndexByte(p, '/')+1:]
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
			continue
		}
		if _, err := strconv.Atoi(f[1]); err != nil {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		if pkg != "" {
			name = pkg + " " + name
		}
		i, ok := index[name]
		if !ok {
			i = len(out)
			index[name] = i
			out = append(out, microBench{name: name, other: map[string][]float64{}})
		}
		m := &out[i]
		for j := 2; j+1 < len(f); j += 2 {
			v, err := strconv.ParseFloat(f[j], 64)
			if err != nil {
				return nil, fmt.Errorf("%q: %w", line, err)
			}
			u := f[j+1]
			switch u {
			case "ns/op":
				m.nsPerOp = append(m.nsPerOp, v)
			case "MB/s":
			default:
				if _, seen := m.other[u]; !seen {
					m.units = append(m.units, u)
				}
				m.other[u] = append(m.other[u], v)
			}
		}
	}
	return out, sc.Err()
}
