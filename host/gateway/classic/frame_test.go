package classic

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"github.com/m2bbs/m2bbs/host/message"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// capturedPrompt is the reply body captured in PROTOCOL.md, as the host
// sends it with raw_payload=1: base64 of the JSON, then NUL.
const capturedPromptJSON = `{"type": "prompt", "msg": "hello 1", "pchar": "> "}`

var capturedPrompt = base64.StdEncoding.EncodeToString([]byte(capturedPromptJSON)) + "\x00"

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// readAll reads messages until an error and returns them with the error.
func readAll(fr *FrameReader) ([]message.Message, error) {
	var ms []message.Message
	for {
		m, err := fr.Next()
		if err != nil {
			return ms, err
		}
		ms = append(ms, m)
	}
}

func TestFrameReader(t *testing.T) {
	prompt := message.Message{Type: message.TypePrompt, Msg: "hello 1", PChar: "> "}
	for _, tc := range []struct {
		name    string
		raw     bool
		input   string
		want    []message.Message
		wantErr error // error after the messages
	}{
		{"captured prompt", false, capturedPrompt, []message.Message{prompt}, io.EOF},
		{"raw prompt", true, capturedPromptJSON + "\x00", []message.Message{prompt}, io.EOF},
		{"several frames", false, b64(`{"type":"screen","msg":"a\nb"}`) + "\x00" + capturedPrompt + b64(`{"type":"exit","msg":"bye"}`) + "\x00",
			[]message.Message{{Type: message.TypeScreen, Msg: "a\nb"}, prompt, {Type: message.TypeExit, Msg: "bye"}}, io.EOF},
		{"unknown fields and types pass", true, `{"type":"beep","msg":"é","extra":[1,2]}` + "\x00",
			[]message.Message{{Type: "beep", Msg: "é"}}, io.EOF},
		{"empty stream", false, "", nil, io.EOF},
		{"eof inside frame", false, capturedPrompt + "eyJ0", []message.Message{prompt}, io.ErrUnexpectedEOF},
		{"bad base64", false, "not base64!\x00", nil, ErrBadBase64},
		{"base64 the raw reader cannot read", true, capturedPrompt, nil, ErrBadJSON},
		{"bad json", false, b64(`{"type":`) + "\x00", nil, ErrBadJSON},
		{"json not an object", true, `["screen"]` + "\x00", nil, ErrBadJSON},
		{"json null", true, "null\x00", nil, ErrBadJSON},
		{"no type", true, `{"msg":"hi"}` + "\x00", nil, ErrBadJSON},
		{"msg not a string", true, `{"type":"screen","msg":3}` + "\x00", nil, ErrBadJSON},
		{"empty frame", false, "\x00", nil, ErrBadJSON},
		{"frame too large", true, strings.Repeat("x", MaxFrameBytes+1) + "\x00", nil, ErrFrameTooLarge},
		{"frame too large, no NUL", true, strings.Repeat("x", MaxFrameBytes+1), nil, ErrFrameTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, split := range []struct {
				name string
				r    io.Reader
			}{
				{"whole", strings.NewReader(tc.input)},
				{"byte by byte", iotest.OneByteReader(strings.NewReader(tc.input))},
			} {
				got, err := readAll(NewFrameReader(split.r, tc.raw))
				if !reflect.DeepEqual(got, tc.want) || !errors.Is(err, tc.wantErr) {
					t.Errorf("%s: got %+v, %v; want %+v, %v", split.name, got, err, tc.want, tc.wantErr)
				}
			}
		})
	}
}

func TestFrameReaderLimitIsExact(t *testing.T) {
	msg := message.Message{Type: message.TypeScreen}
	body, _ := json.Marshal(msg)
	pad := MaxFrameBytes - len(body)
	frame := string(body[:len(body)-1]) + strings.Repeat(" ", pad) + "}" // exactly MaxFrameBytes
	if len(frame) != MaxFrameBytes {
		t.Fatalf("test frame is %d bytes", len(frame))
	}
	got, err := readAll(NewFrameReader(strings.NewReader(frame+"\x00"), true))
	if len(got) != 1 || !reflect.DeepEqual(got[0], msg) || err != io.EOF {
		t.Errorf("frame of MaxFrameBytes: got %+v, %v; want one message then EOF", got, err)
	}
}

// TestFrameReaderContinuesAfterBadFrame: a bad frame spoils only itself.
func TestFrameReaderContinuesAfterBadFrame(t *testing.T) {
	input := "%%%\x00" + capturedPrompt
	fr := NewFrameReader(strings.NewReader(input), false)
	if _, err := fr.Next(); !errors.Is(err, ErrBadBase64) {
		t.Fatalf("first Next: %v, want ErrBadBase64", err)
	}
	if m, err := fr.Next(); err != nil || m.Msg != "hello 1" {
		t.Fatalf("second Next: %+v, %v; want the prompt", m, err)
	}
}

func TestFrameReaderStopsAfterOversizeFrame(t *testing.T) {
	input := strings.Repeat("A", MaxFrameBytes+10) + "\x00" + capturedPrompt
	fr := NewFrameReader(strings.NewReader(input), false)
	for range 2 {
		if _, err := fr.Next(); !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("Next: %v, want ErrFrameTooLarge every time", err)
		}
	}
}

func TestAppendRequest(t *testing.T) {
	for _, tc := range []struct {
		msg, want, wantMsg string
	}{
		{"connect", `@bbs {"type":"msg","msg":"connect"}` + "\x00", "connect"},
		{"", `@bbs {"type":"msg","msg":""}` + "\x00", ""},
		{`say "hi" \o/`, `@bbs {"type":"msg","msg":"say \"hi\" \\o/"}` + "\x00", `say "hi" \o/`},
		{"a\nb\tc\r\x00\x1f", `@bbs {"type":"msg","msg":"a\nb\tc\r\u0000\u001f"}` + "\x00", "a\nb\tc\r\x00\x1f"},
		{"<é & 日本>", `@bbs {"type":"msg","msg":"<é & 日本>"}` + "\x00", "<é & 日本>"},
		{"bad \xff utf8", `@bbs {"type":"msg","msg":"bad \ufffd utf8"}` + "\x00", "bad \ufffd utf8"},
	} {
		got := string(AppendRequest(nil, "@bbs", tc.msg))
		if got != tc.want {
			t.Errorf("AppendRequest(%q) = %q, want %q", tc.msg, got, tc.want)
		}
		if msg, err := requestMsg([]byte(got), "@bbs"); err != nil || msg != tc.wantMsg {
			t.Errorf("AppendRequest(%q) decodes to %q, %v", tc.msg, msg, err)
		}
	}
}

// TestAppendRequestAnyString: whatever a caller types, the request is one
// frame of valid JSON that decodes to what was typed.
func TestAppendRequestAnyString(t *testing.T) {
	for c := range 256 {
		msg := "x" + string(rune(c)) + string([]byte{byte(c)})
		req := AppendRequest([]byte("prefix"), "@bbs", msg)
		frame, ok := bytes.CutPrefix(req, []byte("prefix"))
		if !ok || bytes.IndexByte(frame, 0) != len(frame)-1 {
			t.Fatalf("%q: request %q is not one NUL-terminated frame", msg, req)
		}
		got, err := requestMsg(frame, "@bbs")
		want := strings.ToValidUTF8(msg, "\ufffd")
		if err != nil || got != want || !utf8.Valid(frame) {
			t.Fatalf("%q: decodes to %q, %v", msg, got, err)
		}
	}
}

// chunkReader returns its input in reads of the sizes given by splits
// (each plus one, cycling), as a network does.
type chunkReader struct {
	data   []byte
	splits []byte
	i      int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := len(r.data)
	if len(r.splits) > 0 {
		n = min(n, int(r.splits[r.i%len(r.splits)])+1)
		r.i++
	}
	n = copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// outcome is one result of Next, comparable across readers.
type outcome struct {
	m   message.Message
	err string
}

func outcomes(fr *FrameReader) []outcome {
	var out []outcome
	for {
		m, err := fr.Next()
		if err != nil {
			return append(out, outcome{err: err.Error()})
		}
		out = append(out, outcome{m: m})
	}
}

// FuzzFrameReader feeds a stream split at arbitrary points and checks that
// the split changes nothing: same messages, same errors, and no panic or
// hang on any input. A small limit lets the fuzzer reach ErrFrameTooLarge.
func FuzzFrameReader(f *testing.F) {
	f.Add([]byte(capturedPrompt), []byte{0}, false)
	f.Add([]byte(capturedPromptJSON+"\x00"), []byte{3, 1}, true)
	f.Add([]byte(capturedPrompt+capturedPrompt[:10]), []byte{7}, false)
	f.Add([]byte(b64(`{"type":"screen","msg":"`+strings.Repeat("=", 80)+`"}`)+"\x00"), []byte{200, 5}, false)
	f.Add([]byte("not base64!\x00"+capturedPrompt), []byte{2}, false)
	f.Add([]byte("{\"type\":\"exit\"}\x00\x00null\x00"), []byte{}, true)
	f.Fuzz(func(t *testing.T, data, splits []byte, raw bool) {
		const limit = 256
		whole := NewFrameReader(bytes.NewReader(data), raw)
		whole.limit = limit
		split := NewFrameReader(&chunkReader{data: data, splits: splits}, raw)
		split.limit = limit
		want, got := outcomes(whole), outcomes(split)
		if len(got) != len(want) {
			t.Fatalf("split reader gave %d results, whole reader %d:\n%+v\n%+v", len(got), len(want), got, want)
		}
		for i := range got {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("result %d: split %+v, whole %+v", i, got[i], want[i])
			}
		}
		for _, o := range got {
			if o.err == "" && o.m.Type == "" {
				t.Fatalf("message without a type: %+v", o.m)
			}
		}
	})
}

func TestWithANSI(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{string(AppendConnect(nil, "@bbs", true)), `@bbs {"type":"msg","msg":"connect","ansi":true}` + "\x00"},
		{string(AppendGatewayConnect(nil, "@bbs", "10.0.0.1", "k")), `@bbs {"type":"msg","msg":"connect","peer":"10.0.0.1","peer_key":"k","ansi":true}` + "\x00"},
		{"not a frame", "not a frame"},
	} {
		if got := string(WithANSI([]byte(tc.in))); got != tc.want {
			t.Errorf("WithANSI(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAppendKeys(t *testing.T) {
	if got := string(AppendKeys(nil, "@bbs", "a\x1b[A\r")); got != `@bbs {"type":"keys","msg":"a\u001b[A\r"}`+"\x00" {
		t.Errorf("AppendKeys = %q", got)
	}
	if got := string(AppendGatewayKeys(nil, "@bbs", "x", "10.0.0.1", "k")); got != `@bbs {"type":"keys","msg":"x","peer":"10.0.0.1","peer_key":"k"}`+"\x00" {
		t.Errorf("AppendGatewayKeys = %q", got)
	}
}
