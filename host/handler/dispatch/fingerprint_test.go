package dispatch

import (
	"os"
	"path/filepath"
	"testing"
)

// TestFingerprintOfAMissingFolder: a board without a screens folder (the
// 2010 board keeps its texts in ui.lua) is watched, and the folder
// appearing later is a change.
func TestFingerprintOfAMissingFolder(t *testing.T) {
	dir := t.TempDir()
	scripts, screens := filepath.Join(dir, "scripts"), filepath.Join(dir, "screens")
	if err := os.Mkdir(scripts, 0o755); err != nil {
		t.Fatal(err)
	}
	before, err := fingerprint([]string{scripts, screens})
	if err != nil {
		t.Fatalf("no screens folder: %v", err)
	}
	if err := os.Mkdir(screens, 0o755); err != nil {
		t.Fatal(err)
	}
	after, err := fingerprint([]string{scripts, screens})
	if err != nil || after == before {
		t.Errorf("the screens folder appeared: fingerprint %q -> %q, %v", before, after, err)
	}
}
