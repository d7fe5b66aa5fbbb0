package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/telnet"
)

// answer waits for each prompt (output that stops after "> ", ": " or
// "? ") and types the next line.
func (c *termCaller) answer(lines ...string) string {
	c.t.Helper()
	var seen strings.Builder
	for _, line := range lines {
		timeout := time.After(2 * readTimeout)
		for {
			p := string(c.pending)
			if strings.HasSuffix(p, "> ") || strings.HasSuffix(p, ": ") || strings.HasSuffix(p, "? ") {
				break
			}
			select {
			case more, ok := <-c.data:
				if !ok {
					c.t.Fatalf("the call ended at %q; saw %q", line, seen.String()+p)
				}
				c.pending = append(c.pending, more...)
			case <-timeout:
				c.t.Fatalf("no prompt for %q; saw %q", line, seen.String()+p)
			}
		}
		seen.Write(c.pending)
		c.pending = nil
		c.send(line)
	}
	return seen.String()
}

// TestFileAreasByZMODEM is issue 18's file-area test over telnet with
// real sz and rz on both ends: ann uploads a .zip with a FILE_ID.DIZ by
// ZMODEM from the Files menu; it waits for review; the sysop approves it;
// cy finds it by search and downloads it by ZMODEM byte for byte. An
// upload named ../../x is refused, and a cancelled one leaves nothing.
func TestFileAreasByZMODEM(t *testing.T) {
	needLrzsz(t)
	dir := t.TempDir()
	port := freePorts(t, 1)[0]
	b := startBBS(t, viaBuiltIn, "", append([]string{"-config", filesConfig(t, dir), "-web-port", "-1", "-telnet-port", fmt.Sprint(port)}, fastCallers...)...)
	b.play(t, "zed", "pw", "pw", "y", "Q")

	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	w, _ := zw.Create("FILE_ID.DIZ")
	w.Write([]byte("Tetris for DOS\r\nfalling blocks\r\n"))
	w, _ = zw.CreateHeader(&zip.FileHeader{Name: "TETRIS.EXE", Method: zip.Store})
	w.Write(randomBytes(100 << 10))
	zw.Close()
	mine := t.TempDir()
	if err := os.WriteFile(filepath.Join(mine, "TETRIS.ZIP"), zipped.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	ann := dialTelnetCaller(t, port)
	ann.answer("ann", "pw", "pw", "y", "F", "U", "1")
	ann.expect("upload now")
	ann.expect("\n")
	if err := ann.lrzsz(mine, "sz", "-b", "TETRIS.ZIP"); err != nil {
		t.Fatalf("ann's upload: %v", err)
	}
	ann.expect("TETRIS.ZIP is in")
	time.Sleep(2 * telnet.AfterBinaryQuiet) // a person, after their program's transfer

	deep := filepath.Join(mine, "a", "b")
	os.MkdirAll(deep, 0o755)
	os.WriteFile(filepath.Join(mine, "x"), []byte("escape"), 0o644)
	ann.answer("U", "1")
	ann.expect("upload now")
	ann.expect("\n")
	_ = ann.lrzsz(deep, "timeout", "10", "sz", "-b", "--full-path", "../../x")
	ann.expect("Nothing received")
	if _, err := os.Stat(filepath.Join(dir, "files", "uploads", "x")); err == nil {
		t.Fatal("../../x was taken into the area")
	}

	// A cancelled upload (Ctrl-X five times mid-transfer) leaves nothing
	// in the file areas (the transfers folder's side:
	// TestCancelledAndRefusedTransfersLeaveNothing).
	if err := os.WriteFile(filepath.Join(mine, "HUGE.BIN"), randomBytes(8<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * telnet.AfterBinaryQuiet)
	ann.answer("U", "1")
	ann.expect("upload now")
	ann.expect("\n")
	_ = ann.lrzszUntil(mine, 1<<20, false, "sz", "-b", "-w", "32768", "HUGE.BIN")
	ann.expect("Nothing received")
	for _, d := range []string{filepath.Join(dir, "files")} {
		_ = filepath.Walk(d, func(path string, info os.FileInfo, err error) error {
			if err == nil && strings.Contains(info.Name(), "HUGE") {
				t.Errorf("a cancelled upload left %s", path)
			}
			return nil
		})
	}

	sysop := b.play(t, "zed", "pw", "y", "S", "R", "A", "Q", "Q")
	for _, want := range []string{"TETRIS.ZIP to uploads by ann", "Tetris for DOS", "TETRIS.ZIP is listed."} {
		if !strings.Contains(sysop, want) {
			t.Errorf("the sysop's review lacks %q:\n%s", want, sysop)
		}
	}

	cy := dialTelnetCaller(t, port)
	out := cy.answer("cy", "pw", "pw", "y", "F", "S", "tetris")
	out += cy.answer("1")
	if !strings.Contains(out+string(cy.pending), "TETRIS.ZIP") {
		t.Fatalf("cy's search did not find TETRIS.ZIP:\n%s", out)
	}
	cy.answer("D")
	cy.expect("download now")
	cy.expect("\n")
	theirs := t.TempDir()
	if err := cy.lrzsz(theirs, "rz", "-b"); err != nil {
		t.Fatalf("cy's download: %v", err)
	}
	if got, err := os.ReadFile(filepath.Join(theirs, "TETRIS.ZIP")); err != nil || !bytes.Equal(got, zipped.Bytes()) {
		t.Fatalf("cy's download is not ann's upload (%d bytes, %v)", len(got), err)
	}
}
