package session

import (
	"strings"
	"testing"
	"time"
)

func TestEntryInstalledByEngineRun(t *testing.T) {
	var logs strings.Builder
	tbl, rec := newTable(t, "testdata/startup/installed.lua", &logs)
	tbl.Handle(msg("4", "connect"))
	expect(t, rec.take(), "4 prompt:name?")
	tbl.Handle(msg("4", "Zed"))
	expect(t, rec.take(), "4 screen:hi Zed", "4 exit:", "4 hangup")
	// config.lua's settings were read from the scripts folder and logged
	// as not used.
	if !strings.Contains(logs.String(), "sender_id=startup-test") {
		t.Errorf("the script's connection settings were not read:\n%s", logs.String())
	}
}

func TestLoadThatNeverEndsIsStopped(t *testing.T) {
	for _, c := range []struct{ script, want string }{
		// The receive fails and ends the load at once: no budget spent.
		{"testdata/startup/receives.lua", "conn:recv_json at start-up: the host receives each caller's lines"},
		{"testdata/startup/spins.lua", "still running after 200ms"},
	} {
		start := time.Now()
		_, err := New(Config{ScriptsDir: "testdata/startup", MainScript: c.script, LoadBudget: 200 * time.Millisecond},
			Deps{Replier: &recorder{}, Screens: screenMap{}})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.script, err, c.want)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%s: the load took %v", c.script, took)
		}
	}
}

// TestLoadErrorIsNotAnOverrun: a main script that fails as it loads is
// reported with its own error and line, not as one that ran too long.
func TestLoadErrorIsNotAnOverrun(t *testing.T) {
	_, err := New(Config{ScriptsDir: "testdata/startup", MainScript: "testdata/startup/fails.lua", LoadBudget: 10 * time.Second},
		Deps{Replier: &recorder{}, Screens: screenMap{}})
	if err == nil || !strings.Contains(err.Error(), "fails.lua:3: the board is not set up yet") || strings.Contains(err.Error(), "still running") {
		t.Errorf("err = %v, want the script's own error at line 3", err)
	}
}

func TestEngineRunInsideASessionFails(t *testing.T) {
	tbl, rec := newTable(t, "testdata/startup/late_install.lua", nil)
	tbl.Handle(msg("2", "connect"))
	expect(t, rec.take(), "2 exit:Sorry, we broke.", "2 hangup")
	if st := tbl.Stats(); st.Errored != 1 {
		t.Errorf("stats %+v, want the session ended with an error", st)
	}
}

// TestCoroutineMadeAtLoadOutlivesTheLoad: the load's time budget ends
// with the load; a coroutine the main script made runs on for callers.
func TestCoroutineMadeAtLoadOutlivesTheLoad(t *testing.T) {
	tbl, rec := newTable(t, "testdata/startup/load_coroutine.lua", nil)
	tbl.Handle(msg("1", "connect"))
	expect(t, rec.take(), "1 screen:caller number 1", "1 exit:", "1 hangup")
	tbl.Handle(msg("2", "connect"))
	expect(t, rec.take(), "2 screen:caller number 2", "2 exit:", "2 hangup")
}
