package report

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Micro is one Go benchmark's results over its runs.
type Micro struct {
	// Name is the package's last element and the benchmark's name
	// without "Benchmark" and the GOMAXPROCS suffix: "m2proto
	// ParseRequest".
	Name    string
	NsPerOp []float64
	// other metrics by unit: B/op, allocs/op and custom ones.
	other map[string][]float64
	units []string // order of first appearance
}

// Note is the medians of the benchmark's metrics other than ns/op and
// MB/s, e.g. "704 B/op, 19 allocs/op".
func (m Micro) Note() string {
	var parts []string
	for _, u := range m.units {
		v := Median(m.other[u])
		if u == "B/op" || u == "allocs/op" || v >= 100 {
			parts = append(parts, fmt.Sprintf("%s %s", Thousands(v), u))
		} else {
			parts = append(parts, fmt.Sprintf("%.3g %s", v, u))
		}
	}
	return strings.Join(parts, ", ")
}

// Metric is the benchmark's values of unit over its runs ("ns/op",
// "B/op" or a custom unit such as "cpu-ns/op"), nil when it reported none.
func (m Micro) Metric(unit string) []float64 {
	if unit == "ns/op" {
		return m.NsPerOp
	}
	return m.other[unit]
}

// maxMicroLine bounds a line of benchmark output.
const maxMicroLine = 1 << 20

// ParseMicro reads `go test -bench` output: benchmark lines
// ("BenchmarkX-2  N  V ns/op  V B/op ...") grouped under their "pkg:"
// lines, each benchmark's runs gathered in one Micro, in the order of
// first appearance. Other lines are skipped; a benchmark line with a
// value that is not a number is an error.
func ParseMicro(r io.Reader) ([]Micro, error) {
	var (
		out   []Micro
		index = map[string]int{}
		pkg   string
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxMicroLine)
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
			out = append(out, Micro{Name: name, other: map[string][]float64{}})
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
				m.NsPerOp = append(m.NsPerOp, v)
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
