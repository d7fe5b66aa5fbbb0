package luaapi

import (
	"testing"

	"github.com/m2bbs/m2bbs/host/message"
)

// TestKeysModeFollowsMessages: a keys message starts keystroke mode, a
// screen leaves it on but marks the screen interrupted (once), a prompt
// or an exit ends it.
func TestKeysModeFollowsMessages(t *testing.T) {
	c := NewConn("1", "s", nopReplier{})
	steps := []struct {
		m                 message.Message
		keys, interrupted bool
	}{
		{message.Keys("x"), true, false},
		{message.Screen("page"), true, true},
		{message.Keys(""), true, false},
		{message.Prompt("?", "> "), false, false},
		{message.Keys("x"), true, false},
		{message.Exit("bye"), false, false},
	}
	for i, st := range steps {
		if err := c.Send("s", "1", st.m, ""); err != nil {
			t.Fatal(err)
		}
		if c.KeysMode() != st.keys {
			t.Errorf("step %d (%s): keys mode %v", i, st.m.Type, c.KeysMode())
		}
		if got := c.Interrupted(); got != st.interrupted {
			t.Errorf("step %d (%s): interrupted %v", i, st.m.Type, got)
		}
		if c.Interrupted() {
			t.Errorf("step %d: Interrupted did not forget", i)
		}
	}
}

type nopReplier struct{}

func (nopReplier) Reply(string, []string, []byte) error                { return nil }
func (nopReplier) SendMessage(string, []string, message.Message) error { return nil }
