package session

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/shared/keystroke"
)

// keysScript collects keys in keystroke mode until Enter, echoing what it
// has so far, then asks a line.
const keysScript = `require 'ui'
function m2bbs(conn, req)
    req = ui.ask(conn, req, 'keys=' .. tostring(conn:terminal().keys))
    local got = ''
    req = ui.keys(conn, req, 'start')
    while true do
        if req.data.type == 'keys' then
            if req.data.msg == '\r' then break end
            got = got .. req.data.msg
        end
        req = ui.keys(conn, req, '[' .. got .. ']')
    end
    req = ui.ask(conn, req, 'got ' .. got)
end
`

func keysReq(connID, keys string) string {
	return `{"type":"keys","msg":"` + keys + `","terminal":{"ansi":true,"keys":true}}`
}

// TestKeystrokeMode: keys requests resume the coroutine only while the
// script has the caller in keystroke mode; a restart mid-way replays the
// keys from the journal and goes on where the caller was.
func TestKeystrokeMode(t *testing.T) {
	b := newJournaledBoard(t)
	if err := os.WriteFile(filepath.Join(b.scripts, "bbs.lua"), []byte(keysScript), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl, rec := b.table(t)
	handle(tbl, jsonReq("7", keysReq("7", "x"))) // no session: dropped
	expect(t, rec.take())
	handle(tbl, jsonReq("7", termLine("7", "connect", `{"ansi":true,"keys":true}`)))
	expect(t, rec.take(), "7 prompt:keys=true")
	handle(tbl, jsonReq("7", keysReq("7", "x"))) // at a prompt: dropped
	expect(t, rec.take())
	handle(tbl, jsonReq("7", termLine("7", "go", `{"ansi":true,"keys":true}`)))
	expect(t, rec.take(), "7 keys:start")
	handle(tbl, jsonReq("7", keysReq("7", "a")))
	expect(t, rec.take(), "7 keys:[a]")
	handle(tbl, jsonReq("7", keysReq("7", "b")))
	expect(t, rec.take(), "7 keys:[ab]")
	crash(tbl)

	tbl2, rec2 := b.table(t)
	handle(tbl2, jsonReq("7", keysReq("7", "c")))
	expect(t, rec2.take(), "7 keys:[abc]")
	handle(tbl2, jsonReq("7", keysReq("7", `\r`)))
	expect(t, rec2.take(), "7 prompt:got abc")
	if st := tbl2.JournalStats(); st.Replayed != 1 || st.Diverged != 0 {
		t.Errorf("journal stats %+v: want the call replayed, not diverged", st)
	}
	if st := tbl.Stats().Add(tbl2.Stats()); st.KeysDropped != 2 {
		t.Errorf("keys dropped %d, want 2", st.KeysDropped)
	}
}

// TestKeystrokeLimits: a keys request over MaxRequestBytes, and keys past
// the host's rate, are dropped and counted, never resumed; the line rate
// is not spent by keys.
func TestKeystrokeLimits(t *testing.T) {
	b := newJournaledBoard(t)
	if err := os.WriteFile(filepath.Join(b.scripts, "bbs.lua"), []byte(keysScript), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl, rec := b.table(t)
	handle(tbl, jsonReq("7", termLine("7", "connect", `{"ansi":true,"keys":true}`)))
	handle(tbl, jsonReq("7", termLine("7", "go", `{"ansi":true,"keys":true}`)))
	rec.take()
	handle(tbl, jsonReq("7", keysReq("7", strings.Repeat("k", keystroke.MaxRequestBytes+1))))
	expect(t, rec.take())
	resumed := 0
	began := time.Now()
	const sent = keystroke.HostKeysBurst + 100
	for range sent {
		handle(tbl, jsonReq("7", keysReq("7", "k")))
		resumed += len(rec.take())
	}
	// The bucket refills while the loop runs.
	most := keystroke.HostKeysBurst + int(time.Since(began).Seconds()*keystroke.HostKeysPerSecond) + 1
	if resumed < keystroke.HostKeysBurst || resumed > most {
		t.Errorf("%d keys requests resumed the script, want the burst %d (at most %d)", resumed, keystroke.HostKeysBurst, most)
	}
	if st := tbl.Stats(); st.KeysDropped != int64(sent-resumed+1) || st.Throttled != 0 {
		t.Errorf("stats %+v: want %d keys dropped, no line throttled", st, sent-resumed+1)
	}
}
