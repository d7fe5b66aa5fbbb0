package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestPrepareOriginalCopiesTheFilesUnchanged(t *testing.T) {
	if _, err := os.Stat(originalDir); err != nil {
		t.Skipf("the original board's files are not installed (%v): Debian's mongrel2-core installs them", err)
	}
	o := &benchOptions{tmp: t.TempDir(), original: originalDir}
	spec, texts, err := o.prepareOriginal()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range originalFiles {
		want, err := readMaybeGzipped(filepath.Join(originalDir, name))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(spec.scripts, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s was not copied as it is (%v)", name, err)
		}
	}
	if _, err := os.Stat(spec.screens); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a screens folder was made (%v): the original keeps its texts in ui.lua", err)
	}
	if texts["menu"] == "" {
		t.Error("ui.lua's texts were not read")
	}
}

func TestPrepareOriginalSkipsMissingFiles(t *testing.T) {
	o := &benchOptions{tmp: t.TempDir(), original: t.TempDir()}
	if _, _, err := o.prepareOriginal(); !errors.Is(err, errNoOriginal) {
		t.Errorf("error %v, want errNoOriginal", err)
	}
}

func TestPostTallyAllowsPostsPendingAtTheCutOff(t *testing.T) {
	var p postTally
	p.add(5, false)
	p.add(2, true) // cut off after sending a post's last line
	for _, c := range []struct{ onBoard, lost int }{
		{8, 0},   // seed + 7 confirmed
		{9, 0},   // and the pending one
		{7, 1},   // one confirmed post missing
		{10, -1}, // one post nobody sent
	} {
		if got := p.lost(1, c.onBoard); got != c.lost {
			t.Errorf("%d on the board: lost %d, want %d", c.onBoard, got, c.lost)
		}
	}
}
