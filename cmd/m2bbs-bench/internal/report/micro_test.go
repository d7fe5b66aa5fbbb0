package report

import (
	"strings"
	"testing"
)

func TestParseMicro(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/m2bbs/m2bbs/host/m2proto
cpu: AMD EPYC
BenchmarkParseRequest-2   	  471213	       480.1 ns/op	 387.42 MB/s	     704 B/op	      19 allocs/op
BenchmarkParseRequest-2   	  471213	       500.0 ns/op	 387.42 MB/s	     704 B/op	      19 allocs/op
BenchmarkParseRequest-2   	  471213	       490.0 ns/op	 387.42 MB/s	     704 B/op	      19 allocs/op
PASS
pkg: github.com/m2bbs/m2bbs/host/session
BenchmarkIdleSession/m2bbs-defaults-2   20000	     72999 ns/op	      7453 B/session
BenchmarkIdleSession/m2bbs-defaults-2   20000	     70000 ns/op	      7400 B/session
Benchmark-looking line that is not one
ok  	github.com/m2bbs/m2bbs/host/session	10.624s
`
	got, err := ParseMicro(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("%d benchmarks: %+v", len(got), got)
	}
	if got[0].Name != "m2proto ParseRequest" || len(got[0].NsPerOp) != 3 || got[0].Note() != "704 B/op, 19 allocs/op" {
		t.Errorf("first: %+v, note %q", got[0], got[0].Note())
	}
	if got[1].Name != "session IdleSession/m2bbs-defaults" || got[1].Note() != "7,427 B/session" {
		t.Errorf("second: %+v, note %q", got[1], got[1].Note())
	}
	if _, err := ParseMicro(strings.NewReader("BenchmarkX-2 10 abc ns/op\n")); err == nil {
		t.Error("a bad number was accepted")
	}
}

// FuzzParseMicro: any output parses without a panic, and no more ns/op
// values come out than the output holds.
func FuzzParseMicro(f *testing.F) {
	f.Add("pkg: a/b\nBenchmarkX-2 10 5.5 ns/op 3 B/op\n")
	f.Add("BenchmarkY 1 2 ns/op 4 MB/s\nBenchmarkY 1 3 ns/op\n")
	f.Fuzz(func(t *testing.T, out string) {
		ms, err := ParseMicro(strings.NewReader(out))
		if err != nil {
			return
		}
		values := 0
		for _, m := range ms {
			values += len(m.NsPerOp)
			_ = m.Note()
		}
		if n := strings.Count(out, "ns/op"); values > n {
			t.Errorf("%d ns/op values from an output naming ns/op %d times", values, n)
		}
	})
}
