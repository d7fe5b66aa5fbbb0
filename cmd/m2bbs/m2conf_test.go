package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestM2confCallers: "m2bbs m2conf" sizes Mongrel2 for -callers, else for
// -max-callers, and tells the sysop the open-file limit it needs.
func TestM2confCallers(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		maxFD string
	}{
		{nil, "20128"}, // the host's default of 10,000 callers
		{[]string{"-callers", "3000"}, "6128"},
		{[]string{"-max-callers", "500"}, "1128"},
		{[]string{"-max-callers", "500", "-callers", "3000"}, "6128"},
	} {
		cmd := exec.Command(os.Args[0], append([]string{"m2conf"}, tc.args...)...)
		cmd.Env = append(os.Environ(), runMainEnv+"=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		conf, err := cmd.Output()
		if err != nil {
			t.Fatalf("m2conf %v: %v\n%s", tc.args, err, &stderr)
		}
		for _, want := range []string{"'superpoll.max_fd': " + tc.maxFD + "}", "'superpoll.hot_dividend': 2", "'limits.min_ping': 960", "ulimit -n " + tc.maxFD} {
			if !strings.Contains(string(conf), want) {
				t.Errorf("m2conf %v lacks %q:\n%s", tc.args, want, conf)
			}
		}
		if !strings.Contains(stderr.String(), "open-file limit of "+tc.maxFD) {
			t.Errorf("m2conf %v does not tell the open-file limit %s: %s", tc.args, tc.maxFD, &stderr)
		}
	}
	cmd := exec.Command(os.Args[0], "m2conf", "-callers", "100000")
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "callers") {
		t.Errorf("m2conf -callers 100000: %v\n%s", err, out)
	}
}
