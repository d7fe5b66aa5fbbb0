package loadgen

import (
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name, stat string
		want       time.Duration
		wantErr    bool
	}{
		{"plain", "1234 (m2bbs) S 1 1234 1234 0 -1 4194560 1000 0 0 0 150 25 0 0 20 0 8 0 100 1000000 2000", 1750 * time.Millisecond, false},
		{"name with spaces and parentheses", "99 (a (b) c) R 1 99 99 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 5 100 10", 100 * time.Millisecond, false},
		{"truncated", "99 (x) R 1 2 3", 0, true},
		{"no name", "99 x R", 0, true},
		{"not a number", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 ten 0 0 0 20 0 1 0 5 100 10", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tt.stat))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("got %v, %v; want %v (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseStatusRSS(t *testing.T) {
	got, err := parseStatusRSS([]byte("Name:\tm2bbs\nVmPeak:\t  9000 kB\nVmRSS:\t    2048 kB\nThreads:\t5\n"))
	if err != nil || got != 2048<<10 {
		t.Errorf("got %d, %v; want %d", got, err, 2048<<10)
	}
	for _, bad := range []string{"Name:\tx\n", "VmRSS:\t12 MB\n", "VmRSS:\tlots kB\n"} {
		if _, err := parseStatusRSS([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestReadProcOfThisProcess(t *testing.T) {
	st, err := ReadProc(0)
	if err == ErrNoProc {
		t.Skip("no /proc here")
	}
	if err != nil {
		t.Fatal(err)
	}
	if st.RSS < 1<<20 {
		t.Errorf("RSS %d bytes: implausibly small for a Go test", st.RSS)
	}
	// Burn some CPU and see it counted (the clock ticks in 10 ms).
	before := st.CPU
	for deadline := time.Now().Add(50 * time.Millisecond); time.Now().Before(deadline); {
	}
	after, err := ReadProc(0)
	if err != nil {
		t.Fatal(err)
	}
	if after.CPU <= before {
		t.Errorf("CPU time did not grow over 50 ms of spinning: %v then %v", before, after.CPU)
	}
}
