package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/handler/dispatch"
	"github.com/m2bbs/m2bbs/host/handler/lines"
)

// browser is a WebSocket caller, as the browser page is: it sends the
// classic JSON requests as text messages and reads the BBS's messages as
// text messages of JSON.
type browser struct {
	conn *websocket.Conn
}

// dialBrowser opens a WebSocket on ws://ADDR/PATH through Mongrel2.
func dialBrowser(t *testing.T, addr, path string) *browser {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), readTimeout)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws://"+addr+path, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return &browser{conn: conn}
}

// say sends one classic request: {"type":"msg","msg":TEXT}.
func (b *browser) say(t *testing.T, text string) {
	t.Helper()
	msg, _ := json.Marshal(map[string]string{"type": "msg", "msg": text})
	ctx, cancel := context.WithTimeout(t.Context(), readTimeout)
	defer cancel()
	if err := b.conn.Write(ctx, websocket.MessageText, msg); err != nil {
		t.Fatalf("send %q: %v", text, err)
	}
}

// wsMessage is one message of the BBS.
type wsMessage struct {
	Type, Msg, PChar string
	Secret           bool
}

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

// next reads the next message: a text frame holding bare JSON.
func (b *browser) next(t *testing.T) wsMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), readTimeout)
	defer cancel()
	typ, data, err := b.conn.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var m wsMessage
	if typ != websocket.MessageText || json.Unmarshal(data, &m) != nil {
		t.Fatalf("got a %v message %q, want a text message of JSON", typ, data)
	}
	m.Msg = ansiEscape.ReplaceAllString(m.Msg, "")
	return m
}

// answer reads messages up to the next prompt, checks that it (or a
// screen before it) says want, and answers it.
func (b *browser) answer(t *testing.T, want, line string) wsMessage {
	t.Helper()
	var seen []string
	for {
		m := b.next(t)
		seen = append(seen, m.Msg)
		if m.Type == "exit" {
			t.Fatalf("the BBS said goodbye waiting for %q: %q", want, seen)
		}
		if m.Type != "prompt" {
			continue
		}
		if !strings.Contains(strings.Join(seen, "\n"), want) {
			t.Fatalf("prompt without %q: %q", want, seen)
		}
		b.say(t, line)
		return m
	}
}

// startWebSocketBBS starts a real Mongrel2 routing /ws (and /status) to
// one `m2bbs host`.
func startWebSocketBBS(t *testing.T) *bbs {
	t.Helper()
	if err := mongrel2.Available(); err != nil {
		t.Fatalf("%v (make deps installs it)", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	server, err := mongrel2.Start(ctx, mongrel2.Config{
		Dir: t.TempDir(), SenderID: "ws-handler",
		HTTPRoutes: []string{dispatch.StatusPath}, WebSocketPaths: []string{dispatch.WebSocketPath(0)},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := server.Stop(); err != nil {
			t.Error(err)
		}
	})
	logs := startM2BBS(t, "host", "-sender-id", "ws-handler",
		"-send-spec", server.Cfg.SendSpec, "-recv-spec", server.Cfg.RecvSpec,
		"-db", filepath.Join(t.TempDir(), "bbs.db"), "-bcrypt-cost", "4",
		"-scripts", "../../scripts", "-screens", "../../screens", "-main", e2eMain(t))
	b := &bbs{addr: server.Addr(), logs: logs}
	b.logs.WaitFor(t, 30*time.Second, "host ready")
	b.awaitRoute(t)
	return b
}

// TestWebSocketCallerBehindMongrel2: a browser registers through
// Mongrel2's WebSocket support and leaves; another drops its connection
// and its session is freed.
func TestWebSocketCallerBehindMongrel2(t *testing.T) {
	b := startWebSocketBBS(t)

	ann := dialBrowser(t, b.addr, dispatch.WebSocketPath(0))
	ann.say(t, "connect")
	ann.answer(t, "What's your name?", "ann")
	if p := ann.answer(t, "password", "s3cret"); !p.Secret {
		t.Error("the password prompt does not say secret")
	}
	ann.answer(t, "Type your password again", "s3cret")
	ann.answer(t, "(Y/n)", "y")
	ann.answer(t, "MAIN MENU", "Q")
	for {
		m := ann.next(t)
		if m.Type == "exit" {
			if !strings.Contains(m.Msg, "see ya later") {
				t.Errorf("goodbye = %q", m.Msg)
			}
			break
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), readTimeout)
	defer cancel()
	if _, _, err := ann.conn.Read(ctx); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("after the goodbye: %v, want a normal close", err)
	}
	st := b.quiet(t)
	if st.Sessions.Ended != 1 || st.Unsupported != 0 || st.BadFrames != 0 {
		t.Errorf("after ann left: %+v", st)
	}

	gone := dialBrowser(t, b.addr, dispatch.WebSocketPath(0))
	gone.say(t, "connect")
	gone.answer(t, "What's your name?", "bob")
	for b.status(t).Sessions.Active != 1 {
		gone.next(t) // the password prompt: bob's session is running
	}
	gone.conn.CloseNow() // the tab closed: TCP gone, no close frame
	if st := b.quiet(t); st.Sessions.Disconnected != 1 {
		t.Errorf("after the drop: %+v, want one caller who hung up", st.Sessions)
	}
}

// TestWebSocketPhoneLines: /ws/2 reaches line 2 and /ws line 1, with the
// web root on "/" beside them, as "m2bbs m2conf -lines" sets it up.
func TestWebSocketPhoneLines(t *testing.T) {
	server := startLinesMongrel2(t, 2)
	db := filepath.Join(t.TempDir(), "bbs.db")
	startLine(t, server, db, 1)
	startLine(t, server, db, 2)
	awaitLines(t, server.Addr(), 20*time.Second, "lines 1 and 2 up", upLines(1, 2))

	for _, tc := range []struct {
		path string
		line int
	}{{dispatch.WebSocketPath(2), 2}, {dispatch.WebSocketPath(0), 1}, {dispatch.WebSocketPath(1), 1}} {
		br := dialBrowser(t, server.Addr(), tc.path)
		br.say(t, "connect")
		br.answer(t, "What's your name?", "carol")
		awaitLines(t, server.Addr(), 10*time.Second, fmt.Sprintf("a caller on line %d", tc.line), func(ls []lines.Status) bool {
			for _, l := range ls {
				if l.Line == tc.line && l.Online == 1 {
					return true
				}
			}
			return false
		})
		if err := br.conn.Close(websocket.StatusNormalClosure, "bye"); err != nil {
			t.Errorf("%s: close: %v", tc.path, err)
		}
		awaitLines(t, server.Addr(), 10*time.Second, "no caller left", func(ls []lines.Status) bool {
			for _, l := range ls {
				if l.Online != 0 {
					return false
				}
			}
			return true
		})
	}
}

// TestBrowserOnAnotherLine: behind Mongrel2 with two lines, a browser on
// line 2 is paged by a classic caller on line 1, and told to hold on when
// line 2's host dies: both come from line 1's host, and both must reach
// the browser as WebSocket text frames (its host reports it as a browser
// in the shared directory).
func TestBrowserOnAnotherLine(t *testing.T) {
	m2 := startLinesMongrel2(t, 2)
	db := filepath.Join(t.TempDir(), "bbs.db")
	startLine(t, m2, db, 1)
	line2 := startLine(t, m2, db, 2)
	awaitLines(t, m2.Addr(), 20*time.Second, "lines 1 and 2 up", upLines(1, 2))

	br := dialBrowser(t, m2.Addr(), dispatch.WebSocketPath(2))
	br.say(t, "connect")
	br.answer(t, "What's your name?", "webby")
	br.answer(t, "password", "pw")
	br.answer(t, "again", "pw")
	br.answer(t, "continue", "y")
	for m := br.next(t); m.Type != "prompt"; m = br.next(t) {
	}
	// Line 1's host learns of the browser from line 2's heartbeat.
	awaitLines(t, m2.Addr(), 10*time.Second, "the browser on line 2", func(ls []lines.Status) bool {
		for _, l := range ls {
			if l.Line == 2 && l.Online == 1 {
				return true
			}
		}
		return false
	})

	pager, err := classic.Dial(t.Context(), m2.Addr(), lines.Route(1), false)
	if err != nil {
		t.Fatal(err)
	}
	defer pager.Close()
	if err := pager.Connect(); err != nil {
		t.Fatal(err)
	}
	arrive(t, pager, "pam", "pw", "pw", "y")
	// Who's online on line 1 lists the browser once line 1 has read the
	// directory; page until the page goes through.
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := visit(t, pager, "8", "webby", "hello browser")
		if strings.Contains(out, "Paged.") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("paging the browser on line 2:\n%s", out)
		}
	}
	if m := br.next(t); !strings.Contains(m.Msg, "hello browser") {
		t.Errorf("the browser got %+v, want the page", m)
	}

	line2.kill9(t)
	if m := br.next(t); m.Msg != lines.HoldText(2) {
		t.Errorf("the browser after line 2 died got %+v", m)
	}
}
