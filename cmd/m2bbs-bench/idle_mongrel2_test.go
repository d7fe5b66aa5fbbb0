package main

import (
	"strings"
	"testing"
)

// A Mongrel2 step the shell's open-file limit left short says so, and
// what limit it needs; one with room says nothing of it.
func TestMongrel2IdleLineSaysWhenTheFileLimitIsShort(t *testing.T) {
	short := idleMongrel2Result{target: 10000, fit: 9936, parked: 10000, stalled: true}
	if got := short.String(); !strings.Contains(got, "room for 9936 callers only: the step needs ulimit -n 20128") {
		t.Errorf("a step short of files: %q", got)
	}
	if short.met() {
		t.Error("a step that ran out of poll slots reads as met")
	}
	roomy := idleMongrel2Result{target: 9900, fit: 9900, parked: 9900}
	if got := roomy.String(); strings.Contains(got, "ulimit") {
		t.Errorf("a step with room: %q", got)
	}
}
