package luaapi

import (
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/shared/termprofile"
)

// TestConnSetEncoding: conn:set_encoding changes what conn:terminal()
// says, the next message to the caller (only) carries it, and a name
// that is not an encoding is an error.
func TestConnSetEncoding(t *testing.T) {
	e := newTestEnv(t)
	e.run(t, `require 'ui'
		conn:set_encoding('CP437')
		ui.display(conn, req, 'one')
		ui.display(conn, req, 'two')
		local t = conn:terminal()
		result = t.encoding .. ' ' .. tostring(t.encoding_known) .. ' ' .. t.width .. 'x' .. t.height`)
	if got := e.L.GetGlobal("result").String(); got != "cp437 true 80x24" {
		t.Errorf("conn:terminal() after set_encoding: %s", got)
	}
	if len(e.replier.replies) != 2 {
		t.Fatalf("%d replies, want 2", len(e.replier.replies))
	}
	if m := e.replier.replies[0].Message; m == nil || m.Encoding != "cp437" {
		t.Errorf("the first message after set_encoding: %+v, want encoding cp437", m)
	}
	if m := e.replier.replies[1].Message; m == nil || m.Encoding != "" {
		t.Errorf("the second message: %+v, want no encoding", m)
	}
	if e.conn.Terminal.Encoding != termprofile.CP437 {
		t.Errorf("Conn.Terminal = %+v", e.conn.Terminal)
	}
	err := e.L.DoString(`conn:set_encoding('ebcdic')`)
	if err == nil || !strings.Contains(err.Error(), "encoding must be") {
		t.Errorf("set_encoding('ebcdic'): %v", err)
	}
}
