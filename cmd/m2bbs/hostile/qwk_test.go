package hostile

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/qwk"
)

// TestHostileREPs: a caller uploads hostile reply packets one after
// another through the Offline mail menu (a zip bomb, an oversized file,
// garbage, and REPs at every limit that each post 100 messages of 10
// KiB in 20 lines), on a board with one Lua worker that the bystander shares (no
// rate limit: the long reports are paged with many Enters). Each
// gets its report, and the bystander's menu stays quick meanwhile.
func TestHostileREPs(t *testing.T) {
	dir := t.TempDir()
	repPath := filepath.Join(dir, "M2BBS.REP")
	main := filepath.Join(dir, "main.lua")
	src := fmt.Sprintf(`require 'bbs'
local offline = require 'offline'
function offline.receive(conn, req, user) return req, %q end
return m2bbs
`, repPath)
	if err := os.WriteFile(main, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	b := startBoard(t, boardOptions{extra: []string{"-main", main, "-workers", "1", "-rate", "1000", "-burst", "1000"}})
	by := b.bystander(t, "ann")
	mallory := b.call(t, attackerIP)
	if out := mallory.answer(t, "mallory", bystanderPassword, bystanderPassword, "y", "O"); !strings.Contains(out, "[U]pload M2BBS.REP") {
		t.Fatalf("the Offline mail menu:\n%s", mallory.seen.String())
	}

	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	w, _ := zw.Create("M2BBS.MSG")
	w.Write(make([]byte, 64<<20)) // 64 MiB of zeros in about 64 KiB
	zw.Close()
	noise := make([]byte, 600<<10)
	rand.Read(noise)
	full := func(salt int) []byte {
		var msgs []qwk.Message
		for i := range 100 {
			lines := make([]string, 20) // the board's posts are at most 24 lines
			for j := range lines {
				lines[j] = fmt.Sprintf("%d %d %d %s", salt, i, j, strings.Repeat("filler text ", 40))
			}
			msgs = append(msgs, qwk.Message{Conference: 1, To: "All", Subject: "flood", Lines: lines})
		}
		rep, err := qwk.BuildREP("M2BBS", msgs)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	attacks := []struct {
		name, want string
		data       []byte
	}{
		{"zip bomb", "refused, nothing was posted", bomb.Bytes()},
		{"oversized", "refused, nothing was posted: larger than", noise},
		{"garbage", "refused, nothing was posted: malformed", []byte("PK\x03\x04garbage")},
		{"full 1", "100 posted, 0 refused.", full(1)},
		{"full 1 again", "0 posted, 100 refused.", full(1)},
		{"full 2", "100 posted, 0 refused.", full(2)},
		{"full 3", "100 posted, 0 refused.", full(3)},
	}
	var slowest time.Duration
	assertResponsive(t, by, func() {
		for _, a := range attacks {
			if err := os.WriteFile(repPath, a.data, 0o600); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			if err := mallory.c.Send("U"); err != nil {
				t.Fatal(err)
			}
			out, _, err := mallory.next()
			slowest = max(slowest, time.Since(start))
			// A long report comes a screenful at a time.
			for err == nil && !strings.Contains(out, "[U]pload") {
				if err = mallory.c.Send(""); err == nil {
					var more string
					more, _, err = mallory.next()
					out += more
				}
			}
			if err != nil || !strings.Contains(out, a.want) {
				t.Errorf("%s: %v; the attacker saw:\n%s", a.name, err, out)
			}
		}
	})
	t.Logf("slowest REP answer %v", slowest)
}
