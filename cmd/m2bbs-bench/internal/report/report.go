// Package report prints the bench's figures as one table: each row a
// figure measured over several runs, shown as the median of the runs and
// their [min … max], with a target and whether the median met it. It
// knows nothing of what was measured; it also reads the output of
// `go test -bench` ([ParseMicro]) to add micro-benchmarks to the table.
package report

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// Item is one line of the table: a [Row], a [Section] or a [Remark].
type Item interface{ item() }

// Row is a figure measured in several runs.
type Row struct {
	Name   string
	Values []float64 // one per run; a row without values is left out
	Format func(float64) string
	// Target is shown beside the median; Pass, if set with Target, says
	// whether the median meets it ("met" or "MISSED").
	Target string
	Pass   func(float64) bool
	Note   string
}

// Section starts a group of rows: its title spans the table.
type Section string

// Remark is a line of explanation under a section's title.
type Remark string

func (Row) item()     {}
func (Section) item() {}
func (Remark) item()  {}

// Write prints items as a table with a header line, in aligned columns:
// figure, median, [min … max] (for more than one run), target, verdict,
// note.
func Write(w io.Writer, items []Item) {
	lines := [][]string{{"figure", "median", "[min … max]", "target", "", "note"}}
	for _, item := range items {
		switch it := item.(type) {
		case Section:
			lines = append(lines, []string{"— " + string(it)})
		case Remark:
			lines = append(lines, []string{"  " + string(it)})
		case Row:
			if len(it.Values) == 0 {
				continue
			}
			med := Median(it.Values)
			lo, hi := minMax(it.Values)
			spread := ""
			if len(it.Values) > 1 {
				spread = "[" + it.Format(lo) + " … " + it.Format(hi) + "]"
			}
			verdict := ""
			if it.Pass != nil && it.Target != "" {
				verdict = "MISSED"
				if it.Pass(med) {
					verdict = "met"
				}
			}
			lines = append(lines, []string{"  " + it.Name, it.Format(med), spread, it.Target, verdict, it.Note})
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

// Median returns the middle of values (the mean of the two middle ones
// for an even count), or NaN for none. values is not changed.
func Median(values []float64) float64 {
	if len(values) == 0 {
		return math.NaN()
	}
	s := slices.Clone(values)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func minMax(v []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range v {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}
