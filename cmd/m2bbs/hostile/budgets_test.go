package hostile

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/message"
)

// bombBoard is the shipped board with one addition for the test: a
// caller whose first line is "bomb:KIND" first runs a script that tries to
// outgrow its budget in a single call of a built-in or in memory. The
// hoarding bomb stops by itself at 1.6 GB, so that a watchdog that fails
// cannot take the test machine with it.
const bombBoard = `
dofile(%q)
local shipped = m2bbs
local bombs = {
    concat = function() local s = 'x' while true do s = s .. s end end,
    unpack = function() return unpack({}, 1, 1e7) end,
    byte = function() local s = string.rep('x', 1e6) return s:byte(1, -1) end,
    char = function() return string.char(unpack({}, 1, 3e5)) end,
    hoard = function()
        local kept = {}
        for i = 1, 1600 do kept[i] = string.rep('x', 1048000) .. i end
    end,
}
function m2bbs(conn, req)
    local kind = req.data.msg:match('^bomb:(%%a+)$')
    if kind then bombs[kind]() end
    return shipped(conn, req)
end
`

// TestHostileScriptBombs: a script that doubles a string, unpacks ten
// million values, takes the bytes of a megabyte, or hoards memory is
// stopped at once: its caller gets the error screen, the bystander's menu
// stays quick, and the process never grows past a gigabyte.
func TestHostileScriptBombs(t *testing.T) {
	main := filepath.Join(t.TempDir(), "bombs.lua")
	script := fmt.Sprintf(bombBoard, filepath.Join(repoDir(t, "scripts"), "bbs.lua"))
	if err := os.WriteFile(main, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	b := startBoard(t, boardOptions{extra: []string{"-main", main}})
	by := b.bystander(t, "ann")
	for _, kind := range []string{"concat", "unpack", "byte", "char", "hoard"} {
		assertResponsive(t, by, func() {
			c, err := classic.NewClient(dialFrom(t, attackerIP, b.addr), "@bbs", false)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Send("bomb:" + kind); err != nil {
				t.Fatal(err)
			}
			m, err := c.Next(readTimeout)
			if err != nil || m.Type != message.TypeExit || !strings.Contains(m.Msg, "hit an error") {
				t.Errorf("bomb %s: the attacker got %v (%s %q), not the error screen", kind, err, m.Type, m.Msg)
			}
		})
	}
	if peak := peakRSS(t, b.proc.cmd.Process.Pid); peak > 1<<30 {
		t.Errorf("the board's peak RSS was %d MiB", peak>>20)
	}
}

// peakRSS is the most memory process pid has held (VmHWM), in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}
