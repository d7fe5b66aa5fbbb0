package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/handler/dispatch"
)

// TestStatusShowsAdoptedLines: m2bbs status tells the sysop which lines
// of dead hosts this host serves.
func TestStatusShowsAdoptedLines(t *testing.T) {
	var out bytes.Buffer
	if err := printStatus(&out, dispatch.Status{AdoptedLines: []int{1, 3}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"adopted   line 1 (its host went down", "adopted   line 3 ("} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, &out)
		}
	}
}
