package luaapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// sentReply is one Reply call the fake replier saw.
type sentReply struct {
	Sender  string
	ConnIDs []string
	Body    []byte
	// Message is the message sent, nil for bytes.
	Message *message.Message
}

// recordingReplier records replies; failWith makes it refuse them.
type recordingReplier struct {
	replies  []sentReply
	failWith error
}

func (r *recordingReplier) Reply(sender string, connIDs []string, body []byte) error {
	if r.failWith != nil {
		return r.failWith
	}
	r.replies = append(r.replies, sentReply{sender, append([]string(nil), connIDs...), append([]byte(nil), body...), nil})
	return nil
}

// SendMessage records a message as the classic client's frame of it, the
// message itself kept beside.
func (r *recordingReplier) SendMessage(sender string, connIDs []string, m message.Message) error {
	if err := r.Reply(sender, connIDs, m2proto.AppendClientFrame(nil, m.AppendJSON(nil), false)); err != nil {
		return err
	}
	r.replies[len(r.replies)-1].Message = &m
	return nil
}

// messages decodes every reply body as a classic-client frame.
func (r *recordingReplier) messages(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, rep := range r.replies {
		if len(rep.Body) == 0 {
			out = append(out, map[string]any{"hangup": true})
			continue
		}
		out = append(out, decodeFrame(t, rep.Body))
	}
	return out
}

// decodeFrame undoes base64(JSON) + NUL.
func decodeFrame(t *testing.T, body []byte) map[string]any {
	t.Helper()
	if !strings.HasSuffix(string(body), "\x00") {
		t.Fatalf("frame %q does not end in NUL", body)
	}
	raw, err := base64.StdEncoding.DecodeString(string(body[:len(body)-1]))
	if err != nil {
		t.Fatalf("frame %q is not base64: %v", body, err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("frame %q is not a JSON object: %v", raw, err)
	}
	return m
}

// screenMap is a fake Screens.
type screenMap map[string]string

func (s screenMap) Screen(name string) (string, error) {
	if text, ok := s[name]; ok {
		return text, nil
	}
	return "", fmt.Errorf("no such screen %q", name)
}

// testEnv is a Lua state opened with the BBS API over fakes.
type testEnv struct {
	L       *lua.LState
	replier *recordingReplier
	conn    *Conn
	store   *memStore
	logs    *strings.Builder
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	e := &testEnv{
		L:       lua.NewState(),
		replier: &recordingReplier{},
		store:   newMemStore(),
		logs:    &strings.Builder{},
	}
	t.Cleanup(e.L.Close)
	log := slog.New(slog.NewTextHandler(e.logs, nil))
	err := New(Deps{
		Screens: screenMap{"hello": "Hello there.", "name": "What's your name?", "bye": "Bye now.", "menu_error": "Oops.", "password": "What's your password?"},
		Store:   e.store,
		Log:     func(*lua.LState) *slog.Logger { return log.With("conn_id", "7") },
	}).Open(e.L)
	if err != nil {
		t.Fatal(err)
	}
	e.conn = NewConn("7", "sender-1", e.replier)
	e.L.SetGlobal("conn", NewConnValue(e.L, e.conn))
	e.L.SetGlobal("req", e.request("7", "connect"))
	return e
}

// request builds a request table as the host does.
func (e *testEnv) request(connID, msg string) *lua.LTable {
	data := e.L.NewTable()
	data.RawSetString("type", lua.LString("msg"))
	data.RawSetString("msg", lua.LString(msg))
	req := e.L.NewTable()
	req.RawSetString("conn_id", lua.LString(connID))
	req.RawSetString("sender", lua.LString("sender-1"))
	req.RawSetString("data", data)
	return req
}

// run executes src on the main state and fails the test on error.
func (e *testEnv) run(t *testing.T, src string) {
	t.Helper()
	if err := e.L.DoString(src); err != nil {
		t.Fatalf("lua: %v", err)
	}
}

// runErr executes src and returns its error.
func (e *testEnv) runErr(src string) error { return e.L.DoString(src) }

// coroutine starts src's function body as a coroutine the way the session
// table does and returns a resume function.
func (e *testEnv) coroutine(t *testing.T, src string) func(args ...lua.LValue) (lua.ResumeState, error) {
	t.Helper()
	fn, err := e.L.LoadString(src)
	if err != nil {
		t.Fatal(err)
	}
	th, _ := e.L.NewThread()
	return func(args ...lua.LValue) (lua.ResumeState, error) {
		st, err, _ := e.L.Resume(th, fn, args...)
		return st, err
	}
}

// memStore is an in-memory store for testing the db module's Lua
// conventions: it keeps the db module's calls (store.Basic) and the two
// account calls db.auth_user makes. The other modules' calls are not
// faked: calling one panics on the nil embedded Store.
type memStore struct {
	store.Store
	users    map[string]string
	messages []store.Message
	mail     []store.Mail
	failWith error
}

func newMemStore() *memStore { return &memStore{users: map[string]string{}} }

func (m *memStore) UserExists(_ context.Context, name string) (bool, error) {
	_, ok := m.users[name]
	return ok, m.failWith
}

func (m *memStore) AuthUser(_ context.Context, name, password string) (bool, error) {
	pw, ok := m.users[name]
	return ok && pw == password, m.failWith
}

func (m *memStore) RegisterUser(_ context.Context, name, password string) error {
	if m.failWith != nil {
		return m.failWith
	}
	if _, ok := m.users[name]; ok {
		return store.ErrUserExists
	}
	m.users[name] = password
	return nil
}

func (m *memStore) PostMessage(_ context.Context, author string, lines []string) (store.Message, error) {
	if m.failWith != nil {
		return store.Message{}, m.failWith
	}
	msg := store.Message{ID: int64(len(m.messages) + 1), Author: author, Lines: lines}
	m.messages = append(m.messages, msg)
	return msg, nil
}

func (m *memStore) MessageCount(context.Context) (int, error) { return len(m.messages), m.failWith }

func (m *memStore) MessageAt(_ context.Context, i int) (store.Message, error) {
	if i < 0 || i >= len(m.messages) {
		return store.Message{}, store.ErrNotFound
	}
	return m.messages[i], nil
}

func (m *memStore) SendMail(_ context.Context, to, from string, lines []string) (store.Mail, error) {
	if _, ok := m.users[to]; !ok {
		return store.Mail{}, store.ErrNoSuchUser
	}
	mail := store.Mail{ID: int64(len(m.mail) + 1), To: to, From: from, Lines: lines}
	m.mail = append(m.mail, mail)
	return mail, nil
}

func (m *memStore) UnreadMailCount(_ context.Context, user string) (int, error) {
	n := 0
	for _, mail := range m.mail {
		if mail.To == user && !mail.Read {
			n++
		}
	}
	return n, m.failWith
}

func (m *memStore) ReadNextMail(_ context.Context, user string) (store.Mail, error) {
	for i := range m.mail {
		if m.mail[i].To == user && !m.mail[i].Read {
			m.mail[i].Read = true
			return m.mail[i], nil
		}
	}
	return store.Mail{}, store.ErrNotFound
}

func (m *memStore) Reconnect(context.Context) error { return m.failWith }

// Account is a plain account for every registered user.
func (m *memStore) Account(_ context.Context, name string) (store.Account, error) {
	if _, ok := m.users[name]; !ok {
		return store.Account{}, store.ErrNoSuchUser
	}
	return store.Account{Name: name}, nil
}

// RecordCall keeps no calls log.
func (m *memStore) RecordCall(context.Context, string) error { return nil }

var errDiskFull = errors.New("disk full")
