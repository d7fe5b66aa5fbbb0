package mongrel2

import (
	"errors"
	"testing"
	"time"
)

func TestTuningFor(t *testing.T) {
	for _, tc := range []struct {
		name              string
		callers           int
		fileLimit         int
		wantMaxFD, wantIn int
	}{
		{"default", 0, 0, 2 * (DefaultCallers + fdReserve), DefaultCallers},
		{"3000", 3000, 0, 6128, 3000},
		{"under the limit", 3000, 20000, 6128, 3000},
		{"cut to the limit", 10000, 20000, 20000, 10000 - 64},
		{"tiny limit", 10000, 100, 100, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := TuningFor(tc.callers, 0, tc.fileLimit)
			if got.MaxFD != tc.wantMaxFD || got.Callers != tc.wantIn {
				t.Errorf("MaxFD %d, Callers %d; want %d, %d", got.MaxFD, got.Callers, tc.wantMaxFD, tc.wantIn)
			}
			// The hot slots (max_fd / hot_dividend) hold the callers and the reserve.
			if hot := got.MaxFD / got.HotDividend; got.Callers > 0 && hot < got.Callers+fdReserve {
				t.Errorf("%d hot slots for %d callers", hot, got.Callers)
			}
			if got.HotDividend < 2 || got.HandlerTargets != 128 || got.MinPing != DefaultMinPing {
				t.Errorf("tuning %+v", got)
			}
		})
	}
	if err := (Config{Callers: MaxCallers + 1}).Validate(); !errors.Is(err, ErrBadConfig) {
		t.Errorf("%d callers: %v, want ErrBadConfig", MaxCallers+1, err)
	}
}

// TestRenderedTuningLoads checks that m2sh stores the tuning's settings
// as Mongrel2 reads them.
func TestRenderedTuningLoads(t *testing.T) {
	cfg := Config{Dir: t.TempDir(), Callers: 30000, MinPing: 20 * time.Minute,
		SendSpec: "tcp://127.0.0.1:1", RecvSpec: "tcp://127.0.0.1:2"}
	if err := load(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	db := openLoaded(t, cfg.Dir)
	want := map[string]string{
		"superpoll.max_fd": "60128", "superpoll.hot_dividend": "2",
		"limits.handler_targets": "128", "limits.min_ping": "1200",
		"server.daemonize": "0", "zeromq.threads": "1",
	}
	for key, v := range want {
		var got string
		if err := db.QueryRow(`SELECT value FROM setting WHERE key = ?`, key).Scan(&got); err != nil || got != v {
			t.Errorf("setting %s = %q (%v), want %q", key, got, err, v)
		}
	}
}
