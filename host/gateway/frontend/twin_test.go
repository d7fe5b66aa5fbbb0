package frontend

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// The twin tests run the same caller script against a real Mongrel2 1.12
// and against the built-in front end, each with a raw test handler behind
// it, and require the same transcript: every message the handler receives
// (conn ids renumbered in order of appearance) and every byte the caller
// receives.

const twinSender = "twin"

// twin is one front end under test.
type twin struct {
	name   string
	addr   string
	h      *rawHandler
	probe  net.Conn
	probes int
}

type twinOptions struct {
	protocol string
	base64   bool
}

func startMongrel2Twin(t *testing.T, opt twinOptions) *twin {
	t.Helper()
	if err := mongrel2.Available(); err != nil {
		t.Fatalf("no Mongrel2 (make deps installs it): %v", err)
	}
	s, err := mongrel2.Start(t.Context(), mongrel2.Config{
		Dir: t.TempDir(), SenderID: twinSender, Protocol: opt.protocol,
		Base64Payload: opt.base64, HTTPRoutes: []string{"/status"},
	})
	if err != nil {
		t.Fatalf("mongrel2: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("mongrel2 stop: %v", err)
		}
	})
	tw := &twin{name: "mongrel2", addr: s.Addr(), h: dialRawHandler(t, s.Cfg.SendSpec, s.Cfg.RecvSpec)}
	tw.start(t)
	return tw
}

func startBuiltInTwin(t *testing.T, opt twinOptions) *twin {
	t.Helper()
	h := &Handler{SendSpec: freeSpec(t), RecvSpec: freeSpec(t), SendIdent: twinSender,
		Protocol: opt.protocol, Base64Payload: opt.base64}
	// Mongrel2 has none of the abuse limits; the cases open many
	// connections from one address and send JSON frames that are not JSON.
	s := builtIn(t, Config{Routes: []Route{{"@bbs", h}, {"/status", h}}, Limits: withoutAbuseLimits(Limits{})})
	tw := &twin{name: "built-in", addr: s.Addr().String(), h: dialRawHandler(t, h.SendSpec, h.RecvSpec)}
	tw.start(t)
	return tw
}

// start opens the probe connection, whose frames mark points in the
// handler's message stream.
func (tw *twin) start(t *testing.T) {
	tw.probe = dial(t, tw.addr)
	s := &session{t: t, tw: tw, ids: map[string]string{}}
	s.sync()
	if len(s.events) > 0 {
		t.Fatalf("%s: unexpected messages before the first probe: %q", tw.name, s.events)
	}
}

// session records what happens during one case on one twin.
type session struct {
	t      *testing.T
	tw     *twin
	ids    map[string]string // conn id → "ID1", "ID2"... in order of appearance
	events []string
}

func (s *session) record(format string, args ...any) {
	s.events = append(s.events, fmt.Sprintf(format, args...))
}

func (s *session) alias(id string) string {
	if a, ok := s.ids[id]; ok {
		return a
	}
	a := "ID" + strconv.Itoa(len(s.ids)+1)
	s.ids[id] = a
	return a
}

func isProbe(msg []byte) bool { return bytes.Contains(msg, []byte(`{"probe":`)) }

// recordMsg records a handler message with its conn id replaced.
func (s *session) recordMsg(msg []byte) {
	parts := bytes.SplitN(msg, []byte(" "), 3)
	if len(parts) != 3 {
		s.record("handler: %q", msg)
		return
	}
	s.record("handler: %s %s %q", parts[0], s.alias(string(parts[1])), parts[2])
}

// msg waits for the next handler message, records it and returns its raw
// conn id.
func (s *session) msg() string {
	s.t.Helper()
	m := s.tw.h.next(s.t)
	if isProbe(m) {
		s.t.Fatalf("%s: got the probe while waiting for a message; so far:\n%s", s.tw.name, strings.Join(s.events, "\n"))
	}
	s.recordMsg(m)
	return connIDOf(m)
}

// sync sends a probe frame and records every handler message that arrives
// before it: how the tests see that nothing else was sent.
func (s *session) sync() {
	s.t.Helper()
	s.tw.probes++
	write(s.t, s.tw.probe, fmt.Sprintf(`@bbs {"probe":%d}`+"\x00", s.tw.probes))
	for {
		m := s.tw.h.next(s.t)
		if isProbe(m) {
			return
		}
		s.recordMsg(m)
	}
}

func (s *session) dial() net.Conn { return dial(s.t, s.tw.addr) }

func (s *session) send(c net.Conn, data string) { write(s.t, c, data) }

func (s *session) read(c net.Conn, n int) {
	s.t.Helper()
	s.record("caller: %q", readN(s.t, c, n))
}

func (s *session) readEOF(c net.Conn) {
	s.t.Helper()
	s.record("caller: %q, then closed", readToEOF(s.t, c))
}

func (s *session) reply(body string, ids ...string) {
	s.tw.h.reply(twinSender, []byte(body), ids...)
}

// hangUp closes a caller and waits for the handler's disconnect notice.
func (s *session) hangUp(c net.Conn) {
	s.t.Helper()
	c.Close()
	s.msg()
}

// twinCase is one caller script.
type twinCase struct {
	name string
	run  func(s *session)
}

func classicFrame(json string) string {
	return string(m2proto.AppendClientFrame(nil, []byte(json), false))
}

const (
	msgConnect = `@bbs {"type":"msg","msg":"connect"}` + "\x00"
	curlHead   = "GET /status HTTP/1.1\r\nHost: localhost:6767\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n"
	okResponse = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
)

func jsonFrameOfSize(n int) string {
	pad := n - len(`@bbs {"a":""}`) - 1
	return `@bbs {"a":"` + strings.Repeat("y", pad) + `"}` + "\x00"
}

var jsonCases = []twinCase{
	{"message, reply, hang-up", func(s *session) {
		c := s.dial()
		s.send(c, msgConnect)
		id := s.msg()
		frame := classicFrame(`{"type": "prompt", "msg": "hello", "pchar": "> "}`)
		s.reply(frame, id)
		s.read(c, len(frame))
		s.hangUp(c)
	}},
	{"two frames in one write", func(s *session) {
		c := s.dial()
		s.send(c, `@bbs {"a":1}`+"\x00"+`@bbs {"b":2}`+"\x00")
		s.msg()
		s.msg()
		s.hangUp(c)
	}},
	{"one frame in three writes", func(s *session) {
		c := s.dial()
		s.send(c, `@bbs {"ty`)
		s.send(c, `pe":"msg",`)
		s.send(c, `"msg":"x"}`+"\x00")
		s.msg()
		s.hangUp(c)
	}},
	{"invalid JSON and odd bytes are forwarded", func(s *session) {
		c := s.dial()
		s.send(c, `@bbs {not json}`+"\x00")
		s.send(c, `@bbs {"a":"`+"\x00"+`"}`+"\x00")
		s.send(c, "@bbs {\"a\":\n1, \"q\":\"\\\"\"}\x00")
		s.send(c, `@bbs {}`+"\x00")
		for range 4 {
			s.msg()
		}
		s.hangUp(c)
	}},
	{"a frame ends at the first }NUL", func(s *session) {
		c := s.dial()
		s.send(c, `@bbs {"a":1} `+"\x00"+`@bbs {"b":2}`+"\x00")
		s.msg()
		s.send(c, `@bbs {"a":"}`+"\x00"+`"}`+"\x00")
		s.msg()
		s.readEOF(c)
		s.sync()
	}},
	{"JSON array refused", func(s *session) {
		c := s.dial()
		s.send(c, `@bbs [1,2]`+"\x00")
		s.readEOF(c)
		s.sync()
	}},
	{"JSON string refused", func(s *session) {
		c := s.dial()
		s.send(c, `@bbs "s"`+"\x00")
		s.readEOF(c)
		s.sync()
	}},
	{"route syntax", func(s *session) {
		for _, frame := range []string{`@bbs{}`, `@bbs  {}`, `@a:b {}`, `@bbs%4 {}`, `@bbs%zz {}`} {
			c := s.dial()
			s.send(c, frame+"\x00")
			s.readEOF(c)
		}
		s.sync()
	}},
	{"route prefixes", func(s *session) {
		c := s.dial()
		for _, route := range []string{"@bbs.1", "@bbsx", "@bbs/a:b", "@bbs%41", "@b", "@", "@bbs"} {
			s.send(c, route+` {"a":1}`+"\x00")
			s.msg()
		}
		s.hangUp(c)
	}},
	{"unknown route", func(s *session) {
		c := s.dial()
		s.send(c, `@nope {"a":1}`+"\x00")
		s.readEOF(c)
		s.sync()
	}},
	{"unknown route during a session", func(s *session) {
		c := s.dial()
		s.send(c, msgConnect)
		s.msg()
		s.send(c, `@BBS {"a":1}`+"\x00")
		s.readEOF(c)
		s.sync()
	}},
	{"frame size limit", func(s *session) {
		c := s.dial()
		s.send(c, jsonFrameOfSize(DefaultMaxFrameBytes))
		s.msg()
		s.hangUp(c)
		c = s.dial()
		s.send(c, jsonFrameOfSize(DefaultMaxFrameBytes+1))
		s.readEOF(c)
		s.sync()
	}},
	{"no NUL before the limit", func(s *session) {
		c := s.dial()
		s.send(c, msgConnect)
		s.msg()
		s.send(c, `@bbs {"a":"`+strings.Repeat("z", 6000))
		s.readEOF(c)
		s.sync()
	}},
	{"garbage", func(s *session) {
		for _, in := range []string{"hello\r\n", "\x00", "\r\n", "<msg\x00", "< a>\x00"} {
			c := s.dial()
			s.send(c, in)
			s.readEOF(c)
		}
		s.sync()
	}},
	{"garbage during a session", func(s *session) {
		c := s.dial()
		s.send(c, msgConnect)
		s.msg()
		s.send(c, "hello\x00")
		s.readEOF(c)
		s.sync()
	}},
	{"flash policy", func(s *session) {
		c := s.dial()
		s.send(c, "<policy-file-request/>\x00")
		s.readEOF(c)
		c = s.dial()
		s.send(c, "<policy-file-request>x>\x00")
		s.readEOF(c)
		s.sync()
	}},
	{"flash policy during a session", func(s *session) {
		c := s.dial()
		s.send(c, msgConnect)
		s.msg()
		s.send(c, "<policy-file-request/>\x00")
		s.readEOF(c)
		s.sync()
	}},
	{"XML without an XML route", func(s *session) {
		c := s.dial()
		s.send(c, "<msg>hi</msg>\x00")
		s.readEOF(c)
		s.sync()
	}},
	{"pings are swallowed", func(s *session) {
		c := s.dial()
		s.send(c, `@bbs {"type":"ping"}`+"\x00")
		s.send(c, `@bbs {"type": "ping"}x}`+"\x00")
		s.send(c, `@bbs.1 {"type":"ping"}`+"\x00")
		s.msg()
		s.hangUp(c)
	}},
	{"HTTP GET, reply, keep-alive, hang-up", func(s *session) {
		c := s.dial()
		s.send(c, curlHead)
		id := s.msg()
		s.reply(okResponse, id)
		s.read(c, len(okResponse))
		s.send(c, "GET /status?x=1&y=%41#top HTTP/1.1\r\nHost: x\r\n\r\n")
		s.msg()
		s.hangUp(c)
	}},
	{"HTTP header order, repeats, escapes", func(s *session) {
		c := s.dial()
		s.send(c, "GET /status HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\nI: 9\r\nJ: 10\r\nK: 11\r\nConnection: keep-alive\r\nAccept-Encoding: gzip\r\nAccept-Language: en\r\nReferer: x\r\n\r\n")
		s.msg()
		s.send(c, "GET /status HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r\nX-A: 2\r\nx-a: 3\r\nCookie: a=\"b\\c\"\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n")
		s.msg()
		s.send(c, "GET /status HTTP/1.1\r\nX-A:1\r\nX-A:2\r\nX-A:3\r\nX-A:4\r\nX-A:5\r\nX-A:6\r\nX-A:7\r\n\r\n")
		s.msg()
		s.send(c, "GET /status HTTP/1.1\r\nX-Empty:\r\nX-Sp:   \r\nX-Trail: a  \r\nX-Tab:\tb\r\nX-Ctl: a\x01b\r\nX-Hi: caf\xc3\xa9\r\n\r\n")
		s.msg()
		s.send(c, "GET /status HTTP/1.1\nHost: lf\n\n")
		s.msg()
		s.hangUp(c)
	}},
	{"HTTP header table growth", func(s *session) {
		c := s.dial()
		var b strings.Builder
		b.WriteString("GET /status HTTP/1.1\r\n")
		for i := range 140 {
			fmt.Fprintf(&b, "h%d: %d\r\n", i, i)
		}
		b.WriteString("\r\n")
		s.send(c, b.String())
		s.msg()
		s.send(c, "GET /status HTTP/1.1\r\nHost: a\r\nAccept: b\r\nUser-Agent: c\r\nX-Q: d\r\n\r\n")
		s.msg()
		s.send(c, msgConnect)
		s.msg()
		s.hangUp(c)
	}},
	{"HTTP URIs", func(s *session) {
		c := s.dial()
		for _, uri := range []string{"/status/a/b?q=1#frag", "/status?", "/status#", "/statusx", "/s", "/", "@bbs", "/status;p=1"} {
			s.send(c, "GET "+uri+" HTTP/1.0\r\n\r\n")
			s.msg()
		}
		s.hangUp(c)
	}},
	{"HTTP not found", func(s *session) {
		for _, head := range []string{
			"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n",
			"GET http://host/status HTTP/1.1\r\nHost: localhost\r\n\r\n",
			"GET * HTTP/1.1\r\n\r\n",
			"GET //status HTTP/1.1\r\n\r\n",
			"GET /st%41tus HTTP/1.1\r\n\r\n",
			"GET //[::1]:80/status HTTP/1.1\r\n\r\n",
			"GET status HTTP/1.1\r\n\r\n",
		} {
			c := s.dial()
			s.send(c, head)
			s.readEOF(c)
		}
		s.sync()
	}},
	{"HTTP bad requests", func(s *session) {
		for _, head := range []string{
			"get /status HTTP/1.1\r\n\r\n",
			"GET /status HTTP/1.2\r\n\r\n",
			"GET /status HTTP/2.0\r\n\r\n",
			"GET /sta tus HTTP/1.1\r\n\r\n",
			"GET /status?a b HTTP/1.1\r\n\r\n",
			"GET /status?a=\"b\" HTTP/1.1\r\n\r\n",
			"GET /status HTTP/1.1\r\nX-Fold: a\r\n b\r\n\r\n",
			"GET /status HTTP/1.1\r\nBad Name: x\r\n\r\n",
			"X123456789012345678901 /status HTTP/1.1\r\n\r\n",
			"GET /a[b] HTTP/1.1\r\n\r\n",
			"GET /a%zz HTTP/1.1\r\n\r\n",
			"GET /status?%4 HTTP/1.1\r\n\r\n",
			"GET 1http://x/status HTTP/1.1\r\n\r\n",
			"GET /status HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("p", 100)+"\r\n", 40) + "\r\n",
		} {
			c := s.dial()
			s.send(c, head)
			s.readEOF(c)
		}
		s.sync()
	}},
	{"HTTP bodies", func(s *session) {
		c := s.dial()
		s.send(c, "POST /status HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello")
		s.msg()
		s.send(c, "POST /status HTTP/1.1\r\nContent-Length: 20480\r\n\r\n"+strings.Repeat("b", 20480))
		s.msg()
		s.send(c, "PUT /status HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
		s.read(c, len("HTTP/1.1 100 Continue\r\n\r\n"))
		s.send(c, "abc")
		s.msg()
		s.hangUp(c)
		for _, head := range []string{
			"POST /status HTTP/1.1\r\nContent-Length: 20481\r\n\r\n",
			"POST /status HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
			"GET /status HTTP/1.1\r\nExpect: weird\r\n\r\n",
		} {
			c := s.dial()
			s.send(c, head)
			s.readEOF(c)
		}
		c = s.dial()
		s.send(c, "POST /status HTTP/1.1\r\nContent-Length: abc\r\n\r\nabc")
		s.msg()
		s.readEOF(c)
		s.sync()
	}},
	{"JSON and HTTP on one connection", func(s *session) {
		c := s.dial()
		s.send(c, msgConnect)
		s.msg()
		s.send(c, "GET /status HTTP/1.1\r\n\r\n")
		s.msg()
		s.send(c, msgConnect)
		s.msg()
		s.hangUp(c)
	}},
	{"empty reply closes without a notice", func(s *session) {
		c := s.dial()
		s.send(c, msgConnect)
		id := s.msg()
		s.reply("bye\x00", id)
		s.reply("", id)
		s.readEOF(c)
		s.sync()
	}},
	{"replies to callers who are gone", func(s *session) {
		c := s.dial()
		s.send(c, msgConnect)
		id := s.msg()
		s.hangUp(c)
		s.reply("late", id)
		s.msg()
		s.reply("nobody", "999999")
		s.msg()
		s.reply("nobody", "0")
		s.msg()
		s.reply("nobody", "000123")
		s.msg()
	}},
	{"one reply to several callers", func(s *session) {
		a, b := s.dial(), s.dial()
		s.send(a, msgConnect)
		ida := s.msg()
		s.send(b, msgConnect)
		idb := s.msg()
		s.reply("to all\x00", ida, "424242", idb)
		s.msg()
		s.read(a, len("to all\x00"))
		s.read(b, len("to all\x00"))
		s.hangUp(a)
		s.hangUp(b)
	}},
}

var tnetCases = []twinCase{
	jsonCases[0],
	{"HTTP with repeated headers", func(s *session) {
		c := s.dial()
		s.send(c, "GET /status?q#f HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r\nX-A: 2\r\nx-a: 3\r\nCookie: a=\"b\\c\"\r\n\r\n")
		s.msg()
		s.send(c, "POST /status HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
		s.msg()
		s.hangUp(c)
	}},
}

var base64Cases = []twinCase{
	{"base64 replies", func(s *session) {
		c := s.dial()
		s.send(c, msgConnect)
		id := s.msg()
		for _, body := range []string{"hello\x00", "plain", "two\x00\x00"} {
			s.reply(body, id)
			s.read(c, len(m2proto.AppendClientFrame(nil, []byte(strings.TrimSuffix(body, "\x00")), false))-1)
		}
		s.reply("\x00", id)
		s.readEOF(c)
		s.sync()
	}},
	{"HTTP replies stay raw", func(s *session) {
		c := s.dial()
		s.send(c, curlHead)
		id := s.msg()
		s.reply(okResponse, id)
		s.read(c, len(okResponse))
		s.hangUp(c)
	}},
}

func TestTwins(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opt   twinOptions
		cases []twinCase
	}{
		{"json", twinOptions{}, jsonCases},
		{"tnetstring", twinOptions{protocol: ProtocolTNetstring}, tnetCases},
		{"base64", twinOptions{base64: true}, base64Cases},
	} {
		t.Run(tc.name, func(t *testing.T) {
			twins := []*twin{startMongrel2Twin(t, tc.opt), startBuiltInTwin(t, tc.opt)}
			for _, c := range tc.cases {
				t.Run(c.name, func(t *testing.T) {
					var transcripts [2][]string
					for i, tw := range twins {
						s := &session{t: t, tw: tw, ids: map[string]string{}}
						c.run(s)
						transcripts[i] = s.events
					}
					if testing.Verbose() {
						t.Logf("transcript:\n%s", strings.Join(transcripts[0], "\n"))
					}
					if d := diffLines(transcripts[0], transcripts[1]); d != "" {
						t.Errorf("built-in differs from Mongrel2 (-mongrel2 +built-in):\n%s", d)
					}
				})
			}
		})
	}
}

// diffLines returns a line diff of two transcripts, or "" if they match.
func diffLines(a, b []string) string {
	if strings.Join(a, "\n") == strings.Join(b, "\n") {
		return ""
	}
	var out strings.Builder
	for i := 0; i < max(len(a), len(b)); i++ {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x == y {
			fmt.Fprintf(&out, "  %s\n", x)
			continue
		}
		if i < len(a) {
			fmt.Fprintf(&out, "- %s\n", x)
		}
		if i < len(b) {
			fmt.Fprintf(&out, "+ %s\n", y)
		}
	}
	return out.String()
}
