package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestShippedCommandsLeaveTheBenchOut: the load suite and its echo floor
// live in m2bbs-bench, not in the shipped binary.
func TestShippedCommandsLeaveTheBenchOut(t *testing.T) {
	for _, name := range []string{"bench", "echo"} {
		var usage bytes.Buffer
		err := runCommand(t.Context(), []string{name}, &usage)
		if err == nil || !strings.Contains(err.Error(), "unknown command") {
			t.Errorf("m2bbs %s: %v, want unknown command", name, err)
		}
		if strings.Contains(usage.String(), "  "+name+" ") {
			t.Errorf("the usage lists %q:\n%s", name, &usage)
		}
	}
}
