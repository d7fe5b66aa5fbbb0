package report

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestThousands(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.4: "1,234,567", -45678: "-45,678"} {
		if got := Thousands(in); got != want {
			t.Errorf("Thousands(%v) = %q, want %q", in, got, want)
		}
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}, {[]float64{7}, 7},
	}
	for _, tt := range tests {
		in := append([]float64(nil), tt.in...)
		if got := Median(tt.in); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", in, got, tt.want)
		}
		for i := range in {
			if in[i] != tt.in[i] {
				t.Fatalf("Median reordered its input: %v", tt.in)
			}
		}
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median of nothing is not NaN")
	}
}

// TestWrite: a row shows its median, the spread of its runs and whether
// the median met its target; a section title spans the columns; a row
// without values is left out.
func TestWrite(t *testing.T) {
	var out bytes.Buffer
	Write(&out, []Item{
		Section("a section title much longer than every row of the table"),
		Remark("(a remark)"),
		Row{Name: "round trips/s", Values: []float64{900, 1200, 1000}, Format: Thousands},
		Row{Name: "errors", Values: []float64{0, 2, 1}, Format: Unit("%.0f"), Target: "0", Pass: func(v float64) bool { return v == 0 }, Note: "failed"},
		Row{Name: "p99", Values: []float64{4}, Format: Unit("%.1f ms"), Target: "< 5 ms", Pass: func(v float64) bool { return v < 5 }},
		Row{Name: "not measured", Format: Thousands},
	})
	want := `figure           median  [min … max]    target          note
— a section title much longer than every row of the table
  (a remark)
  round trips/s  1,000   [900 … 1,200]
  errors         1       [0 … 2]        0       MISSED  failed
  p99            4.0 ms                 < 5 ms  met
`
	if got := out.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(out.String(), "not measured") {
		t.Error("a row without values was printed")
	}
}
