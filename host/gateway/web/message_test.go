package web

import (
	"errors"
	"github.com/m2bbs/m2bbs/host/shared/keystroke"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/message"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // the classic request on @bbs.2, or "" for ErrBadRequest
	}{
		{"connect", `{"type":"msg","msg":"connect"}`, `@bbs.2 {"type":"msg","msg":"connect","ansi":true}` + "\x00"},
		{"connect without colour", `{"type":"msg","msg":"connect","color":false}`, `@bbs.2 {"type":"msg","msg":"connect","color":false}` + "\x00"},
		{"british colour", `{"type":"msg","msg":"connect","colour":false}`, `@bbs.2 {"type":"msg","msg":"connect","color":false}` + "\x00"},
		{"colour on", `{"type":"msg","msg":"connect","color":true}`, `@bbs.2 {"type":"msg","msg":"connect","ansi":true}` + "\x00"},
		{"a line", ` {"msg":"hi \"there\"","type":"msg"} `, `@bbs.2 {"type":"msg","msg":"hi \"there\"","ansi":true}` + "\x00"},
		{"empty line", `{"type":"msg","msg":""}`, `@bbs.2 {"type":"msg","msg":"","ansi":true}` + "\x00"},
		{"NUL cannot end the frame", `{"type":"msg","msg":"a\u0000b"}`, `@bbs.2 {"type":"msg","msg":"a\u0000b","ansi":true}` + "\x00"},
		{"unicode", `{"type":"msg","msg":"h\u00e9 ☎"}`, `@bbs.2 {"type":"msg","msg":"hé ☎","ansi":true}` + "\x00"},
		{"unknown fields ignored", `{"type":"msg","msg":"x","extra":[1,2]}`, `@bbs.2 {"type":"msg","msg":"x","ansi":true}` + "\x00"},
		{"longest line", `{"type":"msg","msg":"` + strings.Repeat("a", MaxLineBytes-2) + `"}`, `@bbs.2 {"type":"msg","msg":"` + strings.Repeat("a", MaxLineBytes-2) + `","ansi":true}` + "\x00"},
		{"the page's terminal", `{"type":"msg","msg":"x","terminal":{"type":"xterm.js","width":120,"height":40,"encoding":"utf-8","ansi":true}}`,
			`@bbs.2 {"type":"msg","msg":"x","ansi":true,"terminal":{"type":"xterm.js","width":120,"height":40,"encoding":"utf-8","ansi":true}}` + "\x00"},
		{"a terminal's garbage dropped", `{"type":"msg","msg":"x","terminal":{"type":"a b","width":99999,"height":40,"encoding":"koi8"}}`,
			`@bbs.2 {"type":"msg","msg":"x","ansi":true,"terminal":{"height":40,"ansi":true}}` + "\x00"},
		{"keys", `{"type":"keys","msg":"\u001b[A\r","terminal":{"type":"xterm.js","ansi":true,"keys":true}}`,
			`@bbs.2 {"type":"keys","msg":"\u001b[A\r","ansi":true,"terminal":{"type":"xterm.js","ansi":true,"keys":true}}` + "\x00"},
		{"keys too long", `{"type":"keys","msg":"` + strings.Repeat("k", keystroke.MaxRequestBytes+1) + `"}`, ""},
		{"keys too long once escaped", `{"type":"keys","msg":"` + strings.Repeat(`\u0001`, keystroke.MaxRequestBytes/6+1) + `"}`, ""},
		{"a terminal that is not an object ignored", `{"type":"msg","msg":"x","terminal":[1]}`, `@bbs.2 {"type":"msg","msg":"x","ansi":true}` + "\x00"},

		{"not JSON", `hello`, ""},
		{"empty", ``, ""},
		{"array", `[{"type":"msg","msg":"x"}]`, ""},
		{"string", `"connect"`, ""},
		{"null", `null`, ""},
		{"no type", `{"msg":"x"}`, ""},
		{"other type", `{"type":"ping","msg":"x"}`, ""},
		{"no msg", `{"type":"msg"}`, ""},
		{"null msg", `{"type":"msg","msg":null}`, ""},
		{"number msg", `{"type":"msg","msg":5}`, ""},
		{"trailing data", `{"type":"msg","msg":"x"} {}`, ""},
		{"truncated", `{"type":"msg","msg":"x`, ""},
		{"colour not a bool", `{"type":"msg","msg":"x","color":"no"}`, ""},
		{"invalid UTF-8", "{\"type\":\"msg\",\"msg\":\"\xff\"}", ""},
		{"line too long", `{"type":"msg","msg":"` + strings.Repeat("a", MaxLineBytes-1) + `"}`, ""},
		{"line too long once escaped", `{"type":"msg","msg":"` + strings.Repeat(`\u0001`, MaxLineBytes/6+1) + `"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := parseRequest([]byte(tt.in))
			if tt.want == "" {
				if !errors.Is(err, ErrBadRequest) {
					t.Fatalf("parseRequest(%q) = %+v, %v; want ErrBadRequest", tt.in, req, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseRequest(%q): %v", tt.in, err)
			}
			if got := string(req.appendClassic(nil, "@bbs.2")); got != tt.want {
				t.Errorf("classic request = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestEncodeMessage(t *testing.T) {
	tests := []struct {
		in   message.Message
		want string
	}{
		{message.Message{Type: "screen", Msg: "\x1b[1;32mhi\x1b[0m\nthere"}, `{"msg":"\u001b[1;32mhi\u001b[0m\nthere","type":"screen"}`},
		{message.Message{Type: "prompt", Msg: "name?", PChar: "> "}, `{"msg":"name?","pchar":"> ","type":"prompt"}`},
		{message.Message{Type: "prompt", Msg: "", PChar: "password: ", Secret: true}, `{"msg":"","pchar":"password: ","secret":true,"type":"prompt"}`},
		{message.Message{Type: "exit", Msg: "All lines are busy."}, `{"msg":"All lines are busy.","type":"exit"}`},
		// No window title, clipboard write or C1 control reaches the page; colour does.
		{message.Message{Type: "screen", Msg: "a\x1b]0;pwned\x07b\x1b]52;c;ZXZpbA==\x1b\\c\u009b2J\x1b[1md"}, `{"msg":"abc2J\u001b[1md","type":"screen"}`},
		{message.Message{Type: "prompt", Msg: "x", PChar: "\x1b]0;t\x07> "}, `{"msg":"x","pchar":"> ","type":"prompt"}`},
	}
	for _, tt := range tests {
		got, err := encodeMessage(tt.in)
		if err != nil || string(got) != tt.want {
			t.Errorf("encodeMessage(%+v) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

// FuzzParseRequest: any page message is either refused with ErrBadRequest
// or becomes exactly one classic request frame on the route, NUL only at
// its end and never longer than the front end's frame limit.
func FuzzParseRequest(f *testing.F) {
	for _, seed := range []string{
		`{"type":"msg","msg":"connect"}`, // what the page sends first
		`{"type":"msg","msg":"ann"}`,
		`{"type":"msg","msg":"connect","color":false}`,
		`{"type":"msg","msg":"s3cr\"t \u00e9"}`,
		`{"type":"msg","msg":"a\u0000b"}`,
		`{"type":"ping"}`,
		`[]`,
		`{"type":"msg","msg":`,
		`{"type":"keys","msg":"\u001b[A\r"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := parseRequest(data)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v is not ErrBadRequest", err)
			}
			return
		}
		frame := req.appendClassic(nil, "@bbs.12")
		typ := "msg"
		if req.keys {
			typ = "keys"
		}
		if !strings.HasPrefix(string(frame), `@bbs.12 {"type":"`+typ+`","msg":`) {
			t.Fatalf("frame %q does not start as a request", frame)
		}
		if i := strings.IndexByte(string(frame), 0); i != len(frame)-1 {
			t.Fatalf("NUL at %d in %q", i, frame)
		}
		if len(frame) > 4096 {
			t.Fatalf("frame of %d bytes passes the front end's limit", len(frame))
		}
		m, err := classic.NewFrameReader(strings.NewReader(string(frame[len("@bbs.12 "):])), true).Next()
		if err != nil || m.Type != typ || m.Msg != req.msg {
			t.Fatalf("frame %q decodes to %+v, %v; want msg %q", frame, m, err, req.msg)
		}
	})
}
