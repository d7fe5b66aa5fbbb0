package dispatch

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/session"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// fakeTransport stands in for the ZeroMQ sockets; Send may be called from
// any worker.
type fakeTransport struct {
	in         chan []byte
	subscribed chan struct{}
	mu         sync.Mutex
	sent       [][]byte
	notify     chan struct{} // closed and replaced on each Send
	failSend   error
	// gate, if set, sees each message before Send keeps it, and may
	// hold it up (a reader that does not read).
	gate atomic.Pointer[func(msg []byte)]
}

func newFakeTransport() *fakeTransport {
	ft := &fakeTransport{in: make(chan []byte, 64), subscribed: make(chan struct{}), notify: make(chan struct{})}
	close(ft.subscribed)
	return ft
}

func (f *fakeTransport) Messages() <-chan []byte     { return f.in }
func (f *fakeTransport) Subscribed() <-chan struct{} { return f.subscribed }
func (f *fakeTransport) Send(msg []byte) error {
	if gate := f.gate.Load(); gate != nil {
		(*gate)(msg)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failSend != nil {
		return f.failSend
	}
	f.sent = append(f.sent, append([]byte(nil), msg...))
	close(f.notify)
	f.notify = make(chan struct{})
	return nil
}

// reply is one decoded message the host sent to a caller.
type reply struct {
	connID, kind, text string // kind "hangup" for a closed connection, "http" for an HTTP response
}

func decodeReply(t *testing.T, raw []byte) []reply {
	t.Helper()
	_, ids, body, err := m2proto.ParseReply(raw)
	if err != nil {
		t.Fatalf("reply %q: %v", raw, err)
	}
	var out []reply
	for _, id := range ids {
		switch {
		case len(body) == 0:
			out = append(out, reply{id, "hangup", ""})
		case strings.HasPrefix(string(body), "HTTP/1.1"), isChunk(body):
			out = append(out, reply{id, "http", string(body)})
		default:
			var m struct{ Type, Msg string }
			frame, err := decodeFrame(body)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(frame, &m); err != nil {
				t.Fatalf("frame %q: %v", frame, err)
			}
			out = append(out, reply{id, m.Type, m.Msg})
		}
	}
	return out
}

// waitFor waits until the host has sent a reply matching match to connID
// and returns it.
func (f *fakeTransport) waitFor(t *testing.T, connID string, match func(reply) bool) reply {
	t.Helper()
	r, ok := f.sentWithin(t, 10*time.Second, connID, match)
	if !ok {
		t.Fatalf("no matching reply to conn %s", connID)
	}
	return r
}

// sentWithin waits up to d for the host to send a reply matching match to
// connID, and returns it, or false.
func (f *fakeTransport) sentWithin(t *testing.T, d time.Duration, connID string, match func(reply) bool) (reply, bool) {
	t.Helper()
	deadline := time.After(d)
	seen := 0
	for {
		f.mu.Lock()
		sent, notify := f.sent[seen:], f.notify
		seen = len(f.sent)
		f.mu.Unlock()
		for _, raw := range sent {
			for _, r := range decodeReply(t, raw) {
				if r.connID == connID && match(r) {
					return r, true
				}
			}
		}
		select {
		case <-notify:
		case <-deadline:
			return reply{}, false
		}
	}
}

func kind(k string) func(reply) bool { return func(r reply) bool { return r.kind == k } }

type board struct {
	dir     string
	host    *Host
	ft      *fakeTransport
	reloads chan error
	cancel  context.CancelFunc
	done    chan error
}

// startBoardWithStore is startBoard with a real database.
func startBoardWithStore(t *testing.T, script string, cfg Config) *board {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return startBoardDeps(t, script, cfg, Deps{Store: db})
}

// startBoard runs a host over main.lua (written into a temp dir with
// screens) until the test ends.
func startBoard(t *testing.T, script string, cfg Config) *board {
	t.Helper()
	return startBoardDeps(t, script, cfg, Deps{})
}

// startBoardDeps is startBoard with the host's collaborators deps (its
// OnReload is the board's).
func startBoardDeps(t *testing.T, script string, cfg Config, deps Deps) *board {
	t.Helper()
	dir := t.TempDir()
	b := &board{dir: dir, ft: newFakeTransport(), reloads: make(chan error, 16), done: make(chan error, 1)}
	b.write(t, "scripts/main.lua", script)
	b.write(t, "screens/busy.txt", "Busy, call later.")
	b.write(t, "screens/idle.txt", "Too quiet.")
	b.write(t, "screens/error.txt", "Oops.")
	cfg.Session.ScriptsDir = filepath.Join(dir, "scripts")
	cfg.Session.MainScript = filepath.Join(dir, "scripts", "main.lua")
	cfg.ScreensDir = filepath.Join(dir, "screens")
	if cfg.ReloadInterval == 0 {
		cfg.ReloadInterval = 10 * time.Millisecond
	}
	deps.OnReload = func(_ int, err error) { b.reloads <- err }
	h, err := New(b.ft, cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	b.host = h
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	go func() { b.done <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-b.done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	<-h.Ready()
	return b
}

func (b *board) write(t *testing.T, name, text string) {
	t.Helper()
	path := filepath.Join(b.dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	// A different size or time each save, so the change is always seen.
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (b *board) say(connID, text string) {
	body, _ := json.Marshal(map[string]string{"type": "msg", "msg": text})
	b.ft.in <- request("JSON", connID, "@bbs", string(body))
}

func request(method, connID, path, body string, headers ...m2proto.Header) []byte {
	hs := []m2proto.Header{{Name: "PATH", Value: path}, {Name: "METHOD", Value: method}, {Name: "REMOTE_ADDR", Value: "127.0.0.1"}}
	for _, extra := range headers {
		replaced := false
		for i := range hs {
			if hs[i].Name == extra.Name {
				hs[i], replaced = extra, true
			}
		}
		if !replaced {
			hs = append(hs, extra)
		}
	}
	return m2proto.AppendRequest(nil, &m2proto.Request{Sender: "s1", ConnID: connID, Path: path, Headers: hs, Body: []byte(body)}, m2proto.JSONHeaders)
}

func httpGet(b *board, connID, path string, headers ...m2proto.Header) {
	b.ft.in <- request("GET", connID, path, "", headers...)
}

// versioned prompts with its version until the caller says bye.
func versioned(v string) string {
	return `require 'ui'
function m2bbs(conn, req)
    repeat req = ui.ask(conn, req, '` + v + ` ' .. req.data.msg) until req.data.msg == 'bye'
end`
}

func TestSessionsSpreadOverWorkers(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{Workers: 2})
	b.say("1", "connect")
	b.say("2", "connect")
	b.ft.waitFor(t, "1", kind("prompt"))
	b.ft.waitFor(t, "2", kind("prompt"))
	b.host.mu.Lock()
	w1, w2 := b.host.owners["1"].w, b.host.owners["2"].w
	b.host.mu.Unlock()
	if w1 == w2 {
		t.Error("two callers on one worker while another is idle")
	}
}

func TestBusySignal(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{MaxCallers: 1})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", kind("prompt"))
	b.say("2", "connect")
	if r := b.ft.waitFor(t, "2", kind("exit")); r.text != "Busy, call later." {
		t.Errorf("busy exit = %q", r.text)
	}
	b.ft.waitFor(t, "2", kind("hangup"))
	if st := b.host.Status(); st.Busy != 1 || st.Sessions.Started != 1 {
		t.Errorf("status = %+v", st)
	}
}

func TestIdleCallersAreReaped(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{Session: session.Config{IdleTimeout: 30 * time.Millisecond}})
	b.say("1", "connect")
	if r := b.ft.waitFor(t, "1", kind("exit")); r.text != "Too quiet." {
		t.Errorf("idle exit = %q", r.text)
	}
	b.ft.waitFor(t, "1", kind("hangup"))
	// Once the caller is gone, the conn id may start afresh (until then,
	// what it sends is dropped: see admission_test.go).
	b.ft.in <- request("JSON", "1", "@*", `{"type":"disconnect"}`)
	b.say("1", "connect")
	b.ft.waitFor(t, "1", func(r reply) bool { return r.kind == "prompt" })
	if st := b.host.Status(); st.Sessions.Reaped < 1 {
		t.Errorf("status = %+v", st)
	}
}

func TestRepliesAreSplitForMongrel2(t *testing.T) {
	ft := newFakeTransport()
	h := &Host{transport: ft}
	h.ws = h.newWebSocketLayer()
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
	if err := h.send("s1", ids[:1], []byte("x")); err == nil || h.replyErrors.Load() != 1 {
		t.Errorf("a refused send: err %v", err)
	}
}

func TestRunEndsWhenTheTransportCloses(t *testing.T) {
	dir := t.TempDir()
	main := filepath.Join(dir, "main.lua")
	if err := os.WriteFile(main, []byte(versioned("v1")), 0o600); err != nil {
		t.Fatal(err)
	}
	ft := newFakeTransport()
	h, err := New(ft, Config{Session: session.Config{MainScript: main}, ScreensDir: dir}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	close(ft.in)
	if err := h.Run(context.Background()); err == nil {
		t.Error("Run returned nil after the transport closed")
	}
}

// decodeFrame undoes base64(JSON) + NUL.
func decodeFrame(body []byte) ([]byte, error) {
	s := strings.TrimSuffix(string(body), "\x00")
	return base64.StdEncoding.DecodeString(s)
}

// TestOthersAreServedWhileARunawayIsStopped checks that a script looping
// without yielding delays no one else: another caller's prompts come back
// promptly while it burns its budget, and then it alone is ended.
func TestOthersAreServedWhileARunawayIsStopped(t *testing.T) {
	b := startBoard(t, `require 'ui'
function m2bbs(conn, req)
    while true do
        req = ui.ask(conn, req, 'echo ' .. req.data.msg)
        if req.data.msg == 'spin' then while true do end end
    end
end`, Config{Workers: 2, Session: session.Config{ResumeBudget: 3 * time.Second, RatePerSecond: 1e6, RateBurst: 1e6}})
	b.say("1", "connect")
	b.say("2", "connect")
	b.ft.waitFor(t, "1", kind("prompt"))
	b.ft.waitFor(t, "2", kind("prompt"))

	start := time.Now()
	b.say("1", "spin")
	var slowest time.Duration
	for i := 0; time.Since(start) < 1500*time.Millisecond && i < 300; i++ {
		sent := time.Now()
		text := fmt.Sprint("ping ", i)
		b.say("2", text)
		b.ft.waitFor(t, "2", func(r reply) bool { return r.text == "echo "+text })
		slowest = max(slowest, time.Since(sent))
	}
	if r := b.ft.waitFor(t, "1", kind("exit")); r.text != "Oops." {
		t.Errorf("the runaway's caller got %q", r.text)
	}
	// A generous bound for a shared, noisy machine: a caller queued behind
	// the runaway would wait out the rest of its 3 s budget.
	if slowest > 2*time.Second {
		t.Errorf("another caller waited %v for a prompt while a script ran away", slowest)
	}
	t.Logf("slowest prompt round trip meanwhile: %v", slowest)
	if st := b.host.Status(); st.Sessions.Overran != 1 || st.Sessions.Active != 1 {
		t.Errorf("status = %+v", st)
	}
}

// TestDeliverAcrossWorkers checks that conn:deliver_json reaches a caller
// whose session lives on another worker.
func TestDeliverAcrossWorkers(t *testing.T) {
	b := startBoard(t, `require 'ui'
function m2bbs(conn, req)
    while true do
        req = ui.ask(conn, req, conn:id() .. ' after ' .. req.data.msg)
        local to, text = req.data.msg:match('^tell (%d+) (.*)$')
        if to then conn:deliver_json({to}, {type = 'screen', msg = 'from ' .. conn:id() .. ': ' .. text}) end
    end
end`, Config{Workers: 2})
	b.say("1", "connect")
	b.say("2", "connect")
	b.ft.waitFor(t, "1", kind("prompt"))
	b.ft.waitFor(t, "2", kind("prompt"))
	b.host.mu.Lock()
	sameWorker := b.host.owners["1"].w == b.host.owners["2"].w
	b.host.mu.Unlock()
	if sameWorker {
		t.Fatal("the callers share a worker; the test needs two")
	}
	b.say("1", "tell 2 hello")
	b.ft.waitFor(t, "2", func(r reply) bool { return r.text == "from 1: hello" })
	b.say("1", "tell 99 anyone?")
	b.ft.waitFor(t, "1", func(r reply) bool { return r.text == "1 after tell 99 anyone?" })
	if st := b.host.Status(); st.Sessions.Vanished != 1 {
		t.Errorf("a delivery to nobody: vanished = %d, want 1", st.Sessions.Vanished)
	}
}

// TestWhoAndPageAcrossWorkers checks the callers module over two workers:
// everyone logged in is listed, and a page reaches a caller on the other
// worker without resuming their coroutine.
func TestWhoAndPageAcrossWorkers(t *testing.T) {
	b := startBoardWithStore(t, `require 'ui'
require 'db'
require 'callers'
function m2bbs(conn, req)
    req = ui.ask(conn, req, 'name?')
    local name = req.data.msg
    assert(db.register_user(name, 'pw'))
    while true do
        req = ui.ask(conn, req, name .. ' after ' .. req.data.msg)
        local cmd, arg, text = req.data.msg:match('^(%a+) ?(%S*) ?(.*)$')
        if cmd == 'who' then
            local names = {}
            for _, c in ipairs(callers.online()) do names[#names + 1] = c.user end
            ui.display(conn, req, 'online: ' .. table.concat(names, ','))
        elseif cmd == 'page' then
            local n, err = callers.page(conn, arg, text)
            ui.display(conn, req, n and ('paged ' .. n) or err)
        end
    end
end`, Config{Workers: 2})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", kind("prompt"))
	b.say("1", "ann")
	b.ft.waitFor(t, "1", func(r reply) bool { return r.text == "ann after ann" })
	b.say("2", "connect")
	b.say("3", "connect") // never logs in: not listed
	b.ft.waitFor(t, "2", kind("prompt"))
	b.say("2", "bob")
	b.ft.waitFor(t, "2", func(r reply) bool { return r.text == "bob after bob" })

	b.say("2", "who")
	b.ft.waitFor(t, "2", func(r reply) bool { return r.text == "online: ann,bob" })
	b.say("2", "page ANN lunch?")
	b.ft.waitFor(t, "1", func(r reply) bool { return r.kind == "screen" && r.text == "Page from bob: lunch?" })
	b.ft.waitFor(t, "2", func(r reply) bool { return r.text == "paged 1" })
	b.say("2", "page carol hi")
	b.ft.waitFor(t, "2", func(r reply) bool { return r.text == "carol is not online" })
	// ann's coroutine was not resumed by the page: her next answer is
	// still taken as the answer to her last prompt.
	b.say("1", "who")
	b.ft.waitFor(t, "1", func(r reply) bool { return r.text == "online: ann,bob" })
}
