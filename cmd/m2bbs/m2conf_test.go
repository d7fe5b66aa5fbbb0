package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/handler/config"
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

// TestM2confLinesLayout: "m2conf -lines -handler-host -line-ports" puts
// every handler on that address and those ports, warns that they are open
// to the network, and "host -line N" with the same layout flags connects
// to line N's ports there; a layout off the port range is refused.
func TestM2confLinesLayout(t *testing.T) {
	cmd := exec.Command(os.Args[0], "m2conf", "-lines", "2", "-handler-host", "10.0.0.5", "-line-ports", "7000")
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	conf, err := cmd.Output()
	if err != nil {
		t.Fatalf("m2conf: %v\n%s", err, &stderr)
	}
	for _, want := range []string{"tcp://10.0.0.5:7000", "tcp://10.0.0.5:7001", "tcp://10.0.0.5:7002", "tcp://10.0.0.5:7003", "tcp://10.0.0.5:7004", "tcp://10.0.0.5:7005"} {
		if !strings.Contains(string(conf), want) {
			t.Errorf("m2conf lacks %s:\n%s", want, conf)
		}
	}
	if !strings.Contains(stderr.String(), "neither authenticated nor encrypted") {
		t.Errorf("m2conf does not warn of open handler ports: %s", &stderr)
	}
	s := &settings{line: 2, layoutFlags: lineLayout{host: "10.0.0.5", base: 7000}}
	s.Config = config.Defaults
	if err := applyLineDefaults(s); err != nil {
		t.Fatal(err)
	}
	if s.SendSpec != "tcp://10.0.0.5:7004" || s.RecvSpec != "tcp://10.0.0.5:7005" || s.directorySendSpec != "tcp://10.0.0.5:7000" || s.layout == nil {
		t.Errorf("host -line 2 on the layout: %s %s %s", s.SendSpec, s.RecvSpec, s.directorySendSpec)
	}
	if !remoteSpec(s.SendSpec) {
		t.Error("the front end at 10.0.0.5 is not taken for another machine")
	}
	s = &settings{line: 2, layoutFlags: lineLayout{host: "10.0.0.5", base: 65500}}
	s.Config = config.Defaults
	if err := applyLineDefaults(s); err == nil {
		t.Error("a layout past port 65535 was taken")
	}
}
