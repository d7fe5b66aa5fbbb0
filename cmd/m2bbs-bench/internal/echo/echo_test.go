package echo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// Requests as Mongrel2 1.12 sends them (see shared/PROTOCOL.md).
const (
	capturedConnect = `ceo-bbs-handler 1 @bbs 124:{"PATH":"@bbs","x-forwarded-for":"127.0.0.1","METHOD":"JSON","PATTERN":"@bbs","URL_SCHEME":"http","REMOTE_ADDR":"127.0.0.1"},30:{"type":"msg","msg":"connect"},`
	capturedLeave   = `ceo-bbs-handler 1 @* 17:{"METHOD":"JSON"},21:{"type":"disconnect"},`
)

// fakeTransport feeds requests in and collects replies.
type fakeTransport struct {
	in  chan []byte
	out chan []byte
}

func newFake() *fakeTransport {
	return &fakeTransport{in: make(chan []byte, 16), out: make(chan []byte, 16)}
}

func (f *fakeTransport) Messages() <-chan []byte { return f.in }
func (f *fakeTransport) Send(msg []byte) error   { f.out <- msg; return nil }

// run starts a handler on a fake transport until the test ends.
func run(t *testing.T, raw bool) (*Handler, *fakeTransport) {
	t.Helper()
	f := newFake()
	h := New(f, raw, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return h, f
}

func (f *fakeTransport) reply(t *testing.T) (string, []string, []byte) {
	t.Helper()
	select {
	case msg := <-f.out:
		sender, ids, body, err := m2proto.ParseReply(msg)
		if err != nil {
			t.Fatalf("reply %q: %v", msg, err)
		}
		return sender, ids, body
	case <-time.After(10 * time.Second):
		t.Fatal("no reply")
	}
	return "", nil, nil
}

func lineRequest(connID, body string) []byte {
	return m2proto.AppendRequest(nil, &m2proto.Request{
		Sender: "s", ConnID: connID, Path: "@bbs",
		Headers: []m2proto.Header{{Name: "METHOD", Value: "JSON"}}, Body: []byte(body),
	}, m2proto.JSONHeaders)
}

func TestEchoesEachLineAsAPrompt(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"connect", `{"type":"msg","msg":"connect"}`, "connect"},
		{"quotes and newlines", `{"type":"msg","msg":"say \"hi\"\nbye"}`, "say \"hi\"\nbye"},
		{"unicode", `{"type":"msg","msg":"héllo ✓"}`, "héllo ✓"},
		{"empty line", `{"type":"msg","msg":""}`, ""},
	}
	h, f := run(t, false)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.in <- lineRequest("42", tt.body)
			sender, ids, body := f.reply(t)
			if sender != "s" || len(ids) != 1 || ids[0] != "42" {
				t.Fatalf("reply to %q %v", sender, ids)
			}
			if !bytes.HasSuffix(body, []byte{0}) {
				t.Fatalf("frame %q does not end in NUL", body)
			}
			raw, err := base64.StdEncoding.DecodeString(string(body[:len(body)-1]))
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]string
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatalf("frame %q: %v", raw, err)
			}
			if m["type"] != "prompt" || m["pchar"] != PromptChar || m["msg"] != tt.want {
				t.Errorf("message %v, want a prompt of %q", m, tt.want)
			}
			if got := h.Stats().Echoed; got != int64(i+1) {
				t.Errorf("echoed %d", got)
			}
		})
	}
}

func TestRawFrames(t *testing.T) {
	_, f := run(t, true)
	f.in <- []byte(capturedConnect)
	_, _, body := f.reply(t)
	if want := `{"msg":"connect","pchar":"> ","type":"prompt"}` + "\x00"; string(body) != want {
		t.Errorf("body %q, want %q", body, want)
	}
}

func TestIgnoresWhatIsNotALine(t *testing.T) {
	h, f := run(t, false)
	for _, msg := range [][]byte{
		[]byte(capturedLeave),
		lineRequest("1", `{"type":"chat","msg":"x"}`),
		lineRequest("1", `not json`),
		[]byte("garbage"),
	} {
		f.in <- msg
	}
	// The handler answers in order: once this echo is back, the rest has
	// been dealt with.
	f.in <- []byte(capturedConnect)
	f.reply(t)
	st := h.Stats()
	if st.Ignored != 3 || st.BadFrames != 1 || st.Echoed != 1 {
		t.Errorf("stats %+v, want 3 ignored, 1 bad frame, 1 echo", st)
	}
}

func TestStatusPage(t *testing.T) {
	_, f := run(t, false)
	get := func(path string) *http.Response {
		t.Helper()
		f.in <- m2proto.AppendRequest(nil, &m2proto.Request{
			Sender: "s", ConnID: "9", Path: path,
			Headers: []m2proto.Header{{Name: "PATH", Value: path}, {Name: "METHOD", Value: "GET"}, {Name: "VERSION", Value: "HTTP/1.1"}},
		}, m2proto.JSONHeaders)
		_, _, body := f.reply(t)
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(body)), nil)
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		return resp
	}
	resp := get(StatusPath)
	defer resp.Body.Close()
	var st Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %v", resp.Status, err)
	}
	if st.HeapBytes == 0 || st.Goroutines == 0 {
		t.Errorf("status %+v", st)
	}
	if resp := get("/elsewhere"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("/elsewhere: %s", resp.Status)
	}
}

func TestRunEndsWhenTheTransportCloses(t *testing.T) {
	f := newFake()
	close(f.in)
	if err := New(f, false, nil).Run(context.Background()); err == nil {
		t.Error("no error after the transport closed")
	}
}
