package host

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/m2proto"
	"github.com/m2bbs/m2bbs/host/session"
)

// fakeTransport stands in for the ZeroMQ sockets.
type fakeTransport struct {
	in         chan []byte
	sent       [][]byte
	subscribed chan struct{}
	failSend   error
}

func newFakeTransport() *fakeTransport {
	ft := &fakeTransport{in: make(chan []byte, 16), subscribed: make(chan struct{})}
	close(ft.subscribed)
	return ft
}

func (f *fakeTransport) Messages() <-chan []byte     { return f.in }
func (f *fakeTransport) Subscribed() <-chan struct{} { return f.subscribed }
func (f *fakeTransport) Send(msg []byte) error {
	if f.failSend != nil {
		return f.failSend
	}
	f.sent = append(f.sent, append([]byte(nil), msg...))
	return nil
}

type noScreens struct{}

func (noScreens) Screen(name string) (string, error) { return "", fmt.Errorf("no screen %q", name) }

func newHost(t *testing.T, script string) (*Host, *fakeTransport) {
	t.Helper()
	dir := t.TempDir()
	main := filepath.Join(dir, "main.lua")
	if err := os.WriteFile(main, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	ft := newFakeTransport()
	h, err := New(ft, session.Config{MainScript: main}, session.Deps{Screens: noScreens{}})
	if err != nil {
		t.Fatal(err)
	}
	return h, ft
}

const greeter = `function m2bbs(conn, req) conn:reply_json(req, {type = 'exit', msg = 'hi ' .. req.data.msg}) end`

func request(method, connID, path, body string) []byte {
	return m2proto.AppendRequest(nil, &m2proto.Request{
		Sender: "s1", ConnID: connID, Path: path,
		Headers: []m2proto.Header{{Name: "PATH", Value: path}, {Name: "METHOD", Value: method}},
		Body:    []byte(body),
	}, m2proto.JSONHeaders)
}

func TestJSONRequestReachesTheScript(t *testing.T) {
	h, ft := newHost(t, greeter)
	h.Handle(request("JSON", "4", "@bbs", `{"type":"msg","msg":"zed"}`))
	if len(ft.sent) != 2 {
		t.Fatalf("sent %q, want an exit message and a hang-up", ft.sent)
	}
	sender, ids, body, err := m2proto.ParseReply(ft.sent[0])
	if err != nil || sender != "s1" || strings.Join(ids, " ") != "4" {
		t.Fatalf("reply %q: %s %v %v", ft.sent[0], sender, ids, err)
	}
	if want := m2proto.AppendClientFrame(nil, []byte(`{"msg":"hi zed","type":"exit"}`), false); string(body) != string(want) {
		t.Errorf("body = %q, want %q", body, want)
	}
	if _, _, body, _ := m2proto.ParseReply(ft.sent[1]); len(body) != 0 {
		t.Errorf("second reply %q is not a hang-up", ft.sent[1])
	}
}

func TestStatusPage(t *testing.T) {
	h, ft := newHost(t, greeter)
	h.Handle([]byte("garbage"))
	h.Handle(request("WEBSOCKET", "5", "/ws", "frame"))
	h.Handle(request("GET", "6", "/status", ""))
	_, _, body, err := m2proto.ParseReply(ft.sent[0])
	if err != nil {
		t.Fatal(err)
	}
	head, payload, ok := strings.Cut(string(body), "\r\n\r\n")
	if !ok || !strings.HasPrefix(head, "HTTP/1.1 200 OK") || !strings.Contains(head, "Content-Type: application/json") {
		t.Fatalf("status response %q", body)
	}
	var st Status
	if err := json.Unmarshal([]byte(payload), &st); err != nil {
		t.Fatal(err)
	}
	if st.BadFrames != 1 || st.Unsupported != 1 || st.HTTPRequests != 1 {
		t.Errorf("status = %+v", st)
	}
	h.Handle(request("GET", "6", "/elsewhere", ""))
	if _, _, body, _ := m2proto.ParseReply(ft.sent[1]); !strings.HasPrefix(string(body), "HTTP/1.1 404 Not Found") {
		t.Errorf("unknown page answered %q", body)
	}
}

func TestRepliesAreSplitForMongrel2(t *testing.T) {
	h, ft := newHost(t, greeter)
	ids := make([]string, m2proto.MaxReplyTargets*2+1)
	for i := range ids {
		ids[i] = fmt.Sprint(i + 1)
	}
	if err := h.send("s1", ids, []byte("x")); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, msg := range ft.sent {
		_, part, _, err := m2proto.ParseReply(msg)
		if err != nil || len(part) > m2proto.MaxReplyTargets {
			t.Fatalf("reply with %d targets: %v", len(part), err)
		}
		got = append(got, part...)
	}
	if len(ft.sent) != 3 || strings.Join(got, " ") != strings.Join(ids, " ") {
		t.Errorf("split into %d messages reaching %d ids", len(ft.sent), len(got))
	}
	ft.failSend = errors.New("queue full")
	if err := h.send("s1", ids[:1], []byte("x")); err == nil || h.Status().ReplyErrors != 1 {
		t.Errorf("a refused send: err %v, status %+v", err, h.Status())
	}
}

func TestRunStopsWithContextOrTransport(t *testing.T) {
	h, ft := newHost(t, greeter)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- h.Run(ctx) }()
	ft.in <- request("JSON", "1", "@bbs", `{"type":"msg","msg":"a"}`)
	<-h.Ready()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel = %v, want nil", err)
	}

	h2, ft2 := newHost(t, greeter)
	close(ft2.in)
	if err := h2.Run(context.Background()); err == nil {
		t.Error("Run returned nil after the transport closed")
	}
}
