package main

import "testing"

// TestFilesSlack: the files step's download_rate leaves its reader
// filesMinSlack to pause before the front end hangs up on it. At 64
// MiB/s (62 ms) the step failed with "unexpected EOF" on a loaded 2-core
// machine, in CI's `make test` as in TestBenchSmoke.
func TestFilesSlack(t *testing.T) {
	if got := filesSlack(); got < filesMinSlack {
		t.Errorf("the files step's reader may pause %v at download_rate %d MiB/s, want at least %v: lower filesRate",
			got, filesRate>>20, filesMinSlack)
	}
}
