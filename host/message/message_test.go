package message

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestAppendJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Message
		want string
	}{
		{"prompt", Prompt("Your name?", "> "), `{"msg":"Your name?","pchar":"> ","type":"prompt"}`},
		{"secret", Message{Type: TypePrompt, Msg: "Password?", PChar: "> ", Secret: true},
			`{"msg":"Password?","pchar":"> ","secret":true,"type":"prompt"}`},
		{"screen", Screen("Hi\n"), `{"msg":"Hi\n","type":"screen"}`},
		{"bare exit", Exit(""), `{"msg":"","type":"exit"}`},
		{"empty", Message{}, `{"msg":""}`},
		{"escapes", Screen("\x1b[1m\"a\"\\\u2028\xff"), `{"msg":"\u001b[1m\"a\"\\\u2028\ufffd","type":"screen"}`},
		{"extra merged in key order", Message{Type: "chat", Msg: "x", Extra: []Member{
			{"a", json.RawMessage(`1`)}, {"n", json.RawMessage(`[2]`)}, {"pchar", json.RawMessage(`""`)}, {"z", json.RawMessage(`null`)},
		}}, `{"a":1,"msg":"x","n":[2],"pchar":"","type":"chat","z":null}`},
		{"extra only", Message{Extra: []Member{{"msg", json.RawMessage(`42`)}}}, `{"msg":42}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(tc.m.AppendJSON(nil))
			if got != tc.want {
				t.Errorf("AppendJSON = %s, want %s", got, tc.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("%s is not JSON", got)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	m, err := Decode([]byte(` {"type":"prompt","msg":"Password?","pchar":": ","secret":true,"other":[1]}`))
	want := Message{Type: TypePrompt, Msg: "Password?", PChar: ": ", Secret: true}
	if err != nil || m.Type != want.Type || m.Msg != want.Msg || m.PChar != want.PChar || !m.Secret || m.Extra != nil {
		t.Fatalf("Decode = %+v, %v; want %+v", m, err, want)
	}
	for _, bad := range []string{``, `[]`, `"x"`, `{"msg":"no type"}`, `{"type":1}`, `{"type":"screen"`, `{"type":"screen","msg":2}`} {
		if _, err := Decode([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("Decode(%s) = %v, want ErrMalformed", bad, err)
		}
	}
	huge := `{"type":"screen","msg":"` + strings.Repeat("x", MaxBytes) + `"}`
	if _, err := Decode([]byte(huge)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Decode of %d bytes = %v, want ErrTooLarge", len(huge), err)
	}
}

func TestDecodeReadsWhatAppendJSONWrites(t *testing.T) {
	for _, m := range []Message{Prompt("a\x00b\n", "> "), Exit("bye"), {Type: "x", Msg: "é\u2029", Secret: true}} {
		got, err := Decode(m.AppendJSON(nil))
		if err != nil || got.Type != m.Type || got.Msg != m.Msg || got.PChar != m.PChar || got.Secret != m.Secret {
			t.Errorf("Decode(AppendJSON(%+v)) = %+v, %v", m, got, err)
		}
	}
}

// TestDecodeMatchesKeysExactly: the host marks a prompt secret only for
// the member "secret", so a gateway must not take "Secret" or "ſecret"
// (which encoding/json folds to it) as one, nor "Type" as the type:
// a caller's terminal hides exactly the answers the host keeps out of its
// journal.
func TestDecodeMatchesKeysExactly(t *testing.T) {
	for _, data := range []string{
		`{"type":"prompt","msg":"Name?","Secret":true}`,
		`{"type":"prompt","msg":"Name?","\u017fecret":true}`,
		`{"type":"prompt","msg":"Name?","SECRET":true,"secret":false}`,
	} {
		m, err := Decode([]byte(data))
		if err != nil || m.Secret {
			t.Errorf("Decode(%s) = %+v, %v; want a prompt that is not secret", data, m, err)
		}
	}
	if m, err := Decode([]byte(`{"Type":"prompt","MSG":"x","type":"screen","msg":"y"}`)); err != nil || m.Type != TypeScreen || m.Msg != "y" {
		t.Errorf("Decode with folded duplicates = %+v, %v; want the screen \"y\"", m, err)
	}
	if _, err := Decode([]byte(`{"Type":"prompt"}`)); !errors.Is(err, ErrMalformed) {
		t.Errorf("Decode of a message with only \"Type\" = %v, want ErrMalformed (no type)", err)
	}
}
