package dispatch

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/session"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// isChunk reports whether a reply body is a piece of a chunked HTTP
// answer (the watch stream), not a caller's frame.
func isChunk(body []byte) bool {
	return regexp.MustCompile(`^[0-9a-f]+\r\n`).Match(body)
}

// streamText is everything the host streamed to connID so far: the
// chunks' data, joined.
func (f *fakeTransport) streamText(t *testing.T, connID string) string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, raw := range f.sent {
		_, ids, body, err := m2proto.ParseReply(raw)
		if err != nil || len(ids) != 1 || ids[0] != connID || !isChunk(body) {
			continue
		}
		_, data, _ := strings.Cut(string(body), "\r\n")
		b.WriteString(strings.TrimSuffix(data, "\r\n"))
	}
	return b.String()
}

// awaitStream waits until the stream to connID holds want.
func (f *fakeTransport) awaitStream(t *testing.T, connID, want string) string {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		f.mu.Lock()
		notify := f.notify
		f.mu.Unlock()
		if text := f.streamText(t, connID); strings.Contains(text, want) {
			return text
		}
		select {
		case <-notify:
		case <-deadline:
			t.Fatalf("the stream to %s never held %q:\n%s", connID, want, f.streamText(t, connID))
		}
	}
}

// screenSaying matches a screen with text.
func screenSaying(text string) func(reply) bool {
	return func(r reply) bool { return r.kind == message.TypeScreen && r.text == text }
}

// promptSaying matches a prompt with text.
func promptSaying(text string) func(reply) bool {
	return func(r reply) bool { return r.kind == message.TypePrompt && r.text == text }
}

// secretScript asks a password, then echoes each line after in a prompt.
const secretScript = `require 'ui'
function m2bbs(conn, req)
    conn:reply_json(req, {type = 'prompt', msg = 'Password?', pchar = '> ', secret = true})
    req = coroutine.yield()
    req = ui.ask(conn, req, 'Logged in.')
    while true do req = ui.ask(conn, req, 'You said ' .. req.data.msg) end
end`

// TestWatchThroughTheStatusPage: the sysop's stream shows the caller's
// prompts and lines, a password as secret only; a chat line goes to the
// sysop and never into the caller's journal; after the chat the caller's
// line reaches the script; a watcher that hangs up ends its watch.
func TestWatchThroughTheStatusPage(t *testing.T) {
	b := startBoardWithStore(t, secretScript, Config{Workers: 1, Session: session.Config{Journal: true}})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", promptSaying("Password?"))

	b.ft.in <- request("POST", "901", StatusPath+watchPath, "", withHeaders(sysopTool, m2proto.Header{Name: "QUERY", Value: "conn_id=1"})...)
	if r := b.ft.waitFor(t, "901", kind("http")); !strings.HasPrefix(r.text, "HTTP/1.1 200 OK\r\n") || !strings.Contains(r.text, "Transfer-Encoding: chunked") {
		t.Fatalf("the watch's answer: %q", r.text)
	}
	b.ft.waitFor(t, "1", screenSaying(WatchStartText))
	b.ft.awaitStream(t, "901", `{"kind":"sent","type":"prompt","msg":"Password?","pchar":"> ","secret":true}`)
	b.say("1", "sekrit")
	b.ft.waitFor(t, "1", promptSaying("Logged in."))
	b.ft.awaitStream(t, "901", `{"kind":"typed","msg":"","secret":true}`)
	b.say("1", "hello")
	b.ft.waitFor(t, "1", promptSaying("You said hello"))
	b.ft.awaitStream(t, "901", `{"kind":"typed","msg":"hello"}`)

	// No chat yet: a chat line is refused.
	b.ft.in <- request("POST", "911", StatusPath+"/chat", "hi", withHeaders(sysopTool, m2proto.Header{Name: "QUERY", Value: "conn_id=1"})...)
	if r := b.ft.waitFor(t, "911", kind("http")); statusCode(r.text) != "409" {
		t.Errorf("a chat line with no chat: %q", r.text)
	}
	b.ft.in <- request("POST", "902", StatusPath+watchPath, "", withHeaders(sysopTool, m2proto.Header{Name: "QUERY", Value: "conn_id=1&chat=1"})...)
	b.ft.waitFor(t, "1", screenSaying(ChatStartText))
	b.ft.in <- request("POST", "912", StatusPath+"/chat", "Need help?", withHeaders(sysopTool, m2proto.Header{Name: "QUERY", Value: "conn_id=1"})...)
	b.ft.waitFor(t, "1", screenSaying(SysopChatPrefix+"Need help?"))
	b.say("1", "chat line")
	b.ft.waitFor(t, "1", func(r reply) bool { return r.kind == message.TypePrompt && r.text == "" })
	b.ft.awaitStream(t, "902", `{"kind":"chat","msg":"chat line"}`)
	b.ft.in <- request("POST", "913", StatusPath+"/chat", "", withHeaders(sysopTool, m2proto.Header{Name: "QUERY", Value: "conn_id=1&end=1"})...)
	b.ft.waitFor(t, "1", screenSaying(ChatEndText))
	b.ft.waitFor(t, "1", promptSaying("You said hello"))
	b.say("1", "after")
	b.ft.waitFor(t, "1", promptSaying("You said after"))

	entries, _, err := b.host.deps.Store.LoadJournal(context.Background(), "1")
	if err != nil {
		t.Fatal(err)
	}
	all := bytes.Join(entries, nil)
	if bytes.Contains(all, []byte("chat line")) || !bytes.Contains(all, []byte("after")) {
		t.Errorf("the journal holds the chat line, or misses the line after it: %q", all)
	}
	for _, id := range []string{"901", "902"} {
		if text := b.ft.streamText(t, id); strings.Contains(text, "sekrit") {
			t.Errorf("the password is in %s's stream:\n%s", id, text)
		}
	}

	// The first watcher hangs up: its watch ends and the caller is told.
	b.ft.in <- request("JSON", "901", "@*", `{"type":"disconnect"}`)
	b.ft.waitFor(t, "1", screenSaying(WatchStopText))
	b.ft.waitFor(t, "901", kind("hangup"))
}

// TestWatchRefusals: only the sysop may watch; nobody watches a caller
// who is not online, or themselves.
func TestWatchRefusals(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", kind("prompt"))
	for _, c := range []struct {
		id, query, code string
		headers         []m2proto.Header
	}{
		{"901", "conn_id=1", "403", []m2proto.Header{{Name: "host", Value: "127.0.0.1:6767"}}},
		{"902", "conn_id=9", "404", sysopTool},
		{"903", "", "400", sysopTool},
	} {
		b.ft.in <- request("POST", c.id, StatusPath+watchPath, "", withHeaders(c.headers, m2proto.Header{Name: "QUERY", Value: c.query})...)
		if r := b.ft.waitFor(t, c.id, kind("http")); statusCode(r.text) != c.code {
			t.Errorf("watch %q: %q, want %s", c.query, r.text, c.code)
		}
	}
	if _, err := b.host.startWatch("1", "1", false); !errors.Is(err, ErrWatchSelf) {
		t.Errorf("watching oneself: %v", err)
	}
}

// TestWatchHubBounds: the watchers of a caller and of the host are
// bounded, and one chat at a time.
func TestWatchHubBounds(t *testing.T) {
	var hub watchHub
	for i := range MaxWatchersPerCaller {
		if _, _, err := hub.add("a"+string(rune('0'+i)), "caller", i == 0); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := hub.add("a9", "caller", false); !errors.Is(err, ErrTooManyWatchers) {
		t.Errorf("a watcher past MaxWatchersPerCaller: %v", err)
	}
	if _, _, err := hub.add("a0", "other", false); !errors.Is(err, ErrAlreadyWatching) {
		t.Errorf("a second watch by one watcher: %v", err)
	}
	hub.remove("a1", "test", false)
	if _, _, err := hub.add("a1", "caller", true); !errors.Is(err, ErrChatTaken) {
		t.Errorf("a second chat: %v", err)
	}
	for i := len(hub.watchers); i < MaxWatchers; i++ {
		if _, _, err := hub.add("b"+string(rune('a'+i)), "caller"+string(rune('a'+i)), false); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := hub.add("z", "callerz", false); !errors.Is(err, ErrTooManyWatchers) {
		t.Errorf("a watcher past MaxWatchers: %v", err)
	}
	hub.closeAll()
	if hub.on.Load() || len(hub.watchers) != 0 {
		t.Error("watches left after closeAll")
	}
}

// TestSlowWatcherLosesEventsNotTime: a watcher whose buffer is full
// loses events without anyone waiting, and is told how many it lost.
func TestSlowWatcherLosesEventsNotTime(t *testing.T) {
	var hub watchHub
	w, _, err := hub.add("w", "c", false)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range WatchBuffer + 10 {
		hub.sent("s", []string{"c"}, message.Screen("x"), true)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("copying to a full buffer took %v", took)
	}
	if n := len(pending(WatchEvent{}, w.out)) - 1; n != WatchBuffer {
		t.Fatalf("%d events buffered, want %d", n, WatchBuffer)
	}
	hub.sent("s", []string{"c"}, message.Screen("after"), true)
	got := pending(WatchEvent{}, w.out)[1:]
	if len(got) != 2 || got[0].Msg != "(10 events dropped: the watcher reads too slowly)" || got[1].Msg != "after" {
		t.Errorf("after the loss: %+v", got)
	}
}

// BenchmarkReplyEdge is the cost of the outbound edge per message to a
// caller: deliver is the edge as it was before watching existed,
// unwatched is sendMessage with nobody watched (one atomic load more),
// watched is sendMessage while that caller is watched (the copy).
func BenchmarkReplyEdge(b *testing.B) {
	h := &Host{transport: discardTransport{}, log: nil}
	h.ws = h.newWebSocketLayer()
	m := message.Prompt("---(((MAIN MENU)))---\n1. Leave a message.\n2. Read messages left.\nQ. Quit the BBS.", "> ")
	ids := []string{"1796287851047667"}
	b.Run("deliver", func(b *testing.B) {
		for b.Loop() {
			_ = h.deliverMessage("s", ids, m)
		}
	})
	b.Run("unwatched", func(b *testing.B) {
		for b.Loop() {
			_ = h.sendMessage("s", ids, m)
		}
	})
	b.Run("watched", func(b *testing.B) {
		w, _, err := h.watch.add("w", ids[0], false)
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			_ = h.sendMessage("s", ids, m)
			<-w.out
		}
		h.watch.remove("w", "done", false)
	})
}

// discardTransport takes every reply and keeps none.
type discardTransport struct{}

func (discardTransport) Messages() <-chan []byte     { return nil }
func (discardTransport) Subscribed() <-chan struct{} { return nil }
func (discardTransport) Send([]byte) error           { return nil }

// TestSysopSessionWatches: the watch module's side of the host copies the
// caller's screens to the sysop's session as screens, and the sysop's
// hang-up ends the watch, telling the caller.
func TestSysopSessionWatches(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{Workers: 1})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", kind("prompt"))
	b.say("5", "connect") // the sysop's session
	b.ft.waitFor(t, "5", kind("prompt"))
	lw := luaWatch{b.host}
	if err := lw.Watch("s1", "5", "1"); err != nil {
		t.Fatal(err)
	}
	if err := lw.Watch("s1", "5", "1"); !errors.Is(err, ErrAlreadyWatching) {
		t.Errorf("a second watch: %v", err)
	}
	b.ft.waitFor(t, "1", screenSaying(WatchStartText))
	b.say("1", "hello there")
	var seen strings.Builder // the batches' screens, as they came
	b.ft.waitFor(t, "5", func(r reply) bool {
		if r.kind == message.TypeScreen {
			seen.WriteString(r.text + "\n")
		}
		return strings.Contains(seen.String(), "[watching conn 1]\n") && strings.Contains(seen.String(), "> hello there\nv1 hello there\n> ")
	})
	if err := lw.Say("5", "hi"); !errors.Is(err, ErrNoChat) {
		t.Errorf("a chat line before the chat: %v", err)
	}
	if err := b.host.send("s1", []string{"5"}, nil); err != nil { // the sysop's session hangs up
		t.Fatal(err)
	}
	b.ft.waitFor(t, "1", screenSaying(WatchStopText))
	if err := lw.Unwatch("5"); !errors.Is(err, ErrNotWatching) {
		t.Errorf("unwatch after the hang-up: %v", err)
	}
}

// TestChatLinesAreBounded: a caller's chat lines past
// MaxChatLinesPerSecond are dropped unanswered, and their session counts
// chat lines as input at most once per chatTouchEvery.
func TestChatLinesAreBounded(t *testing.T) {
	var hub watchHub
	if _, _, err := hub.add("9", "1", true); err != nil {
		t.Fatal(err)
	}
	hub.sent("s1", []string{"1"}, message.Prompt("Menu", "> "), true)
	line := &m2proto.Request{Sender: "s1", ConnID: "1", Path: "@bbs", Body: []byte(`{"type":"msg","msg":"hi"}`),
		Headers: []m2proto.Header{{Name: "METHOD", Value: "JSON"}}}
	now := time.Unix(1000, 0)
	var answered, touched int
	for i := range MaxChatLinesPerSecond + 5 {
		chat, touch, reply := hub.line(line, now.Add(time.Duration(i)*time.Millisecond))
		if !chat {
			t.Fatal("a chat line went to the script")
		}
		answered += len(reply)
		if touch {
			touched++
		}
	}
	if answered != MaxChatLinesPerSecond || touched != 1 {
		t.Errorf("%d chat lines answered, %d touched the session; want %d and 1", answered, touched, MaxChatLinesPerSecond)
	}
	if _, touch, reply := hub.line(line, now.Add(time.Second+chatTouchEvery)); len(reply) != 1 || !touch {
		t.Errorf("a chat line a minute later: %v, %v", reply, touch)
	}
}

// TestStuckWatcherHoldsUpNoOne: a watcher whose stream cannot be sent at
// all (its sends block) neither delays the caller it watches nor the
// host; it loses events and is told how many once it moves again.
func TestStuckWatcherHoldsUpNoOne(t *testing.T) {
	cfg := Config{Workers: 1}
	cfg.Session.RatePerSecond, cfg.Session.RateBurst = 1e9, 1e9 // no throttling
	b := startBoard(t, versioned("v1"), cfg)
	b.say("1", "connect")
	b.ft.waitFor(t, "1", kind("prompt"))
	release, stuck := make(chan struct{}), make(chan struct{}, 1)
	gate := func(msg []byte) {
		if _, ids, body, err := m2proto.ParseReply(msg); err == nil && len(ids) == 1 && ids[0] == "901" && isChunk(body) {
			select {
			case stuck <- struct{}{}:
			default:
			}
			<-release
		}
	}
	b.ft.gate.Store(&gate)
	b.ft.in <- request("POST", "901", StatusPath+watchPath, "", withHeaders(sysopTool, m2proto.Header{Name: "QUERY", Value: "conn_id=1"})...)
	b.ft.waitFor(t, "1", screenSaying(WatchStartText))
	<-stuck // the stream is stuck on its first send: every event from now on waits in the buffer
	start := time.Now()
	const lines = WatchBuffer/2 + 20 // two events each: more than the buffer holds
	for i := range lines {
		line := "line " + strconv.Itoa(i)
		b.say("1", line)
		b.ft.waitFor(t, "1", promptSaying("v1 "+line))
	}
	took := time.Since(start)
	t.Logf("%d round trips with a stuck watcher: %v", lines, took)
	close(release)
	b.ft.awaitStream(t, "901", "events dropped: the watcher reads too slowly)")
}

// TestWatchEndsWithTheHost: a host that stops ends its watches: the
// stream's last line says so, then the stream closes (a watch does not
// survive a restart).
func TestWatchEndsWithTheHost(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{Workers: 1})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", kind("prompt"))
	b.ft.in <- request("POST", "901", StatusPath+watchPath, "", withHeaders(sysopTool, m2proto.Header{Name: "QUERY", Value: "conn_id=1"})...)
	b.ft.waitFor(t, "1", screenSaying(WatchStartText))
	b.cancel()
	b.ft.awaitStream(t, "901", `{"kind":"end","msg":"the host is stopping"}`)
	b.ft.waitFor(t, "901", kind("hangup"))
}
