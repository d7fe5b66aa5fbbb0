package websocket

import (
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// TestAppendText: a message reaches a browser as one text frame of its
// JSON, without window titles, clipboard writes or C1 controls; colour
// passes.
func TestAppendText(t *testing.T) {
	for _, tc := range []struct {
		m    message.Message
		want string
	}{
		{message.Prompt("Name?", "> "), `{"msg":"Name?","pchar":"> ","type":"prompt"}`},
		{message.Message{Type: "screen", Msg: "a\x1b]0;t\x07b\x1b]52;c;eA==\x1b\\c\u009b2J\x1b[1md", Extra: []message.Member{{Key: "x", Value: []byte("1")}}},
			`{"msg":"abc2J\u001b[1md","type":"screen","x":1}`},
		{message.Message{Type: "prompt", Msg: "\x1b[1mhi", PChar: "\x1b]0;t\x07> ", Secret: true},
			`{"msg":"\u001b[1mhi","pchar":"> ","secret":true,"type":"prompt"}`},
	} {
		f, _, err := m2proto.ParseWebSocketFrame(AppendText(nil, tc.m))
		if err != nil || f.Flags.Opcode() != m2proto.OpText || string(f.Payload) != tc.want {
			t.Errorf("%+v became %v %q (%v), want %q", tc.m, f.Flags.Opcode(), f.Payload, err, tc.want)
		}
	}
}

// TestAppendBody: bytes a script sends as they are
// (conn:reply) reach a browser as a frame of their own.
func TestAppendBody(t *testing.T) {
	for _, tc := range []struct {
		body string
		op   m2proto.Opcode
		want string
	}{
		{base64.StdEncoding.EncodeToString([]byte(`{"type":"prompt"}`)) + "\x00", m2proto.OpText, `{"type":"prompt"}`},
		{`{"raw":1}` + "\x00", m2proto.OpText, `{"raw":1}`}, // not base64: sent without the NUL
		{"plain text from conn:reply", m2proto.OpText, "plain text from conn:reply"},
		{"\xff\xfe", m2proto.OpBinary, "\xff\xfe"},
		// No window title, clipboard write or C1 control reaches a browser; colour does.
		{base64.StdEncoding.EncodeToString([]byte(`{"msg":"a\u001b]0;t\u0007b\u001b]52;c;eA==\u001b\\c\u009b2J\u001b[1md","type":"screen","x":1}`)) + "\x00",
			m2proto.OpText, `{"msg":"abc2J\u001b[1md","type":"screen","x":1}`},
		{base64.StdEncoding.EncodeToString([]byte(`{"msg":"\u001b[1mhi","type":"screen"}`)) + "\x00", m2proto.OpText, `{"msg":"\u001b[1mhi","type":"screen"}`},
	} {
		f, _, err := m2proto.ParseWebSocketFrame(appendBody([]byte(tc.body), false))
		if err != nil || f.Flags.Opcode() != tc.op || string(f.Payload) != tc.want {
			t.Errorf("body %q became %v %q (%v), want %v %q", tc.body, f.Flags.Opcode(), f.Payload, err, tc.op, tc.want)
		}
	}
}

// TestSweep: entries Mongrel2 dropped without telling are
// forgotten once stale, unless their caller still has a session.
func TestSweep(t *testing.T) {
	l := New(Config{Online: func(id string) bool { return id == "0" }})
	old := time.Now().Add(-2 * forgetAfter)
	for i := range sweepMin - 1 {
		l.set.add(fmt.Sprint(i), old)
	}
	if !l.set.add("fresh", time.Now()) {
		t.Fatal("no sweep asked for at the threshold")
	}
	l.sweep()
	if l.Len() != 2 || !l.Has("0") || !l.Has("fresh") {
		t.Errorf("after the sweep %d callers left, want the one online and the fresh one", l.Len())
	}
	if l.set.add("another", time.Now()) {
		t.Error("sweep asked for again at once")
	}
}

func TestPath(t *testing.T) {
	for n, want := range map[int]string{0: "/ws", -1: "/ws", 1: "/ws/1", 12: "/ws/12"} {
		if got := Path(n); got != want {
			t.Errorf("Path(%d) = %q", n, got)
		}
	}
}
