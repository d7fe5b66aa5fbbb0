package dispatch

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/wire/zmqtransport"
)

// TestBootTime reads btime from a /proc/stat file, and gives the zero time
// where there is none (not Linux) or it is unreadable.
func TestBootTime(t *testing.T) {
	dir := t.TempDir()
	stat := filepath.Join(dir, "stat")
	if err := os.WriteFile(stat, []byte("cpu  1 2 3\nintr 5\nbtime 1764700000\nprocesses 9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := bootTime(stat); !got.Equal(time.Unix(1764700000, 0)) {
		t.Errorf("bootTime = %v, want %v", got, time.Unix(1764700000, 0))
	}
	for name, body := range map[string]string{"none": "cpu 1\n", "garbage": "btime soon\n"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := bootTime(p); !got.IsZero() {
			t.Errorf("%s: bootTime = %v, want zero", name, got)
		}
	}
	if got := bootTime(filepath.Join(dir, "missing")); !got.IsZero() {
		t.Errorf("missing file: bootTime = %v, want zero", got)
	}
}

// TestJournalCutoffIsTheLatestStart: the cutoff is the latest of the
// given time, the run's start, the boot and Mongrel2's pid file.
func TestJournalCutoffIsTheLatestStart(t *testing.T) {
	pid := filepath.Join(t.TempDir(), "mongrel2.pid")
	if err := os.WriteFile(pid, []byte("42\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	started := time.Now().Add(time.Hour).Truncate(time.Second) // later than the boot
	if err := os.Chtimes(pid, started, started); err != nil {
		t.Fatal(err)
	}
	h := &Host{cfg: Config{FrontEndPIDFile: pid}}
	if got := h.journalCutoff(time.Time{}); !got.Equal(started) {
		t.Errorf("cutoff = %v, want Mongrel2's start %v", got, started)
	}
	later := started.Add(time.Minute)
	if got := h.journalCutoff(later); !got.Equal(later) {
		t.Errorf("cutoff = %v, want the later note %v", got, later)
	}
	h.cfg.FrontEndPIDFile = filepath.Join(t.TempDir(), "missing.pid")
	if got, boot := h.journalCutoff(time.Time{}), bootTime(procStat); !got.Equal(boot) {
		t.Errorf("without a pid file the cutoff = %v, want the boot %v", got, boot)
	}
	// A front end on another machine: this machine's boot ended none of
	// its calls, and drops no journal.
	h.cfg.FrontEndElsewhere = true
	if got := h.journalCutoff(time.Time{}); !got.IsZero() {
		t.Errorf("with the front end elsewhere the cutoff = %v, want none", got)
	}
}

// watchedTransport is a Transport that reports its front end's watch.
type watchedTransport struct {
	Transport
	st zmqtransport.PeerStats
}

func (w watchedTransport) PeerStats() zmqtransport.PeerStats { return w.st }

// TestStatusShowsMonitorErrors: a failing watch of the front end shows on
// the status page, with the drops and the replies dropped.
func TestStatusShowsMonitorErrors(t *testing.T) {
	h := &Host{transport: watchedTransport{st: zmqtransport.PeerStats{Drops: 2, MonitorErrors: 1, AwayDropped: 7}}}
	got, err := json.Marshal(h.frontEndWatch())
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"drops":2,"monitor_errors":1,"replies_dropped":7}`; string(got) != want {
		t.Errorf("front_end = %s, want %s", got, want)
	}
	if (&Host{transport: watchedTransport{}.Transport}).frontEndWatch() != nil {
		t.Error("a transport that watches nothing reported a watch")
	}
}
