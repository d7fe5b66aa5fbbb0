//go:build m2explore

package frontend

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"syscall"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/mongrel2"
	zmq "github.com/pebbe/zmq4"
)

type xh struct {
	reqs chan []byte
	reps chan []byte
}

func xhandler(t *testing.T, send, recv string) *xh {
	zctx, _ := zmq.NewContext()
	h := &xh{reqs: make(chan []byte, 100), reps: make(chan []byte, 100)}
	quit := make(chan struct{})
	t.Cleanup(func() { close(quit); zctx.Term() })
	ready := make(chan struct{}, 2)
	go func() {
		pull, _ := zctx.NewSocket(zmq.PULL)
		defer pull.Close()
		pull.SetLinger(0)
		mon := fmt.Sprintf("inproc://mon-%p", pull)
		pull.Monitor(mon, zmq.EVENT_HANDSHAKE_SUCCEEDED)
		m, _ := zctx.NewSocket(zmq.PAIR)
		m.SetLinger(0)
		m.Connect(mon)
		pull.Connect(send)
		m.RecvEvent(0)
		m.Close()
		ready <- struct{}{}
		for {
			b, err := pull.RecvBytes(0)
			if err != nil {
				return
			}
			h.reqs <- b
		}
	}()
	go func() {
		pub, _ := zctx.NewSocket(zmq.XPUB)
		defer pub.Close()
		pub.SetLinger(0)
		pub.Connect(recv)
		pub.RecvBytes(0)
		ready <- struct{}{}
		for {
			select {
			case b := <-h.reps:
				pub.SendBytes(b, 0)
			case <-quit:
				return
			}
		}
	}()
	<-ready
	<-ready
	return h
}

func (h *xh) drain(d time.Duration) [][]byte {
	var out [][]byte
	for {
		select {
		case b := <-h.reqs:
			out = append(out, b)
		case <-time.After(d):
			return out
		}
	}
}

// readAll reads until EOF or d of silence.
func readAll(c net.Conn, d time.Duration) ([]byte, string) {
	var buf bytes.Buffer
	tmp := make([]byte, 65536)
	for {
		c.SetReadDeadline(time.Now().Add(d))
		n, err := c.Read(tmp)
		buf.Write(tmp[:n])
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return buf.Bytes(), "open"
			}
			if err == io.EOF {
				return buf.Bytes(), "EOF"
			}
			return buf.Bytes(), err.Error()
		}
	}
}

func start(t *testing.T, cfg mongrel2.Config) (*mongrel2.Server, *xh) {
	cfg.Dir = t.TempDir()
	if cfg.SenderID == "" {
		cfg.SenderID = "exp"
	}
	s, err := mongrel2.Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Stop()
		if os.Getenv("M2LOG") != "" {
			b, _ := os.ReadFile(s.Cfg.Dir + "/logs/m2sh.log")
			t.Logf("LOG:\n%s", b)
		}
	})
	return s, xhandler(t, s.Cfg.SendSpec, s.Cfg.RecvSpec)
}

func dialW(t *testing.T, addr string, chunks ...string) net.Conn {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range chunks {
		c.Write([]byte(ch))
		time.Sleep(30 * time.Millisecond)
	}
	return c
}

func TestExploreInputs(t *testing.T) {
	s, h := start(t, mongrel2.Config{HTTPRoutes: []string{"/status"}})
	big := strings.Repeat("x", 30000)
	cases := map[string][]string{
		"normal":      {`@bbs {"type":"msg","msg":"x"}` + "\x00"},
		"two":         {`@bbs {"a":1}` + "\x00" + `@bbs {"b":2}` + "\x00"},
		"split3":      {`@bbs {"ty`, `pe":"msg",`, `"msg":"x"}` + "\x00"},
		"split5":      {`@b`, `bs {"ty`, `pe":"msg",`, `"msg"`, `:"x"}` + "\x00"},
		"split6":      {`@b`, `bs `, `{"ty`, `pe":"msg",`, `"msg"`, `:"x"}` + "\x00"},
		"prefix":      {`@bbs.1 {"a":1}` + "\x00"},
		"prefix2":     {`@bbsx {"a":1}` + "\x00"},
		"prefix3":     {`@bbs/x {"a":1}` + "\x00"},
		"shorter":     {`@bb {"a":1}` + "\x00"},
		"unknown":     {`@other {"a":1}` + "\x00"},
		"badjson":     {`@bbs {not json}` + "\x00"},
		"array":       {`@bbs [1,2]` + "\x00"},
		"string":      {`@bbs "s"` + "\x00"},
		"emptyobj":    {`@bbs {}` + "\x00"},
		"spaceafter":  {`@bbs {"a":1} ` + "\x00" + `@bbs {"b":2}` + "\x00"},
		"nulinside":   {`@bbs {"a":"` + "\x00" + `"}` + "\x00"},
		"nonul":       {`@bbs {"a":"` + big + `"}`},
		"bigwithnul":  {`@bbs {"a":"` + big + `"}` + "\x00"},
		"policy":      {"<policy-file-request/>\x00"},
		"xml":         {"<msg>hi</msg>\x00"},
		"xmlroute":    {"<bbs>hi</bbs>\x00"},
		"garbage":     {"hello\r\n"},
		"garbagenul":  {"hello\x00"},
		"http":        {"GET /status HTTP/1.1\r\nHost: localhost\r\nUser-Agent: t\r\nAccept: */*\r\n\r\n"},
		"http404":     {"GET /nope HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		"http10":      {"GET /status?x=1 HTTP/1.0\r\n\r\n"},
		"nospace":     {`@bbs{"a":1}` + "\x00"},
		"twospace":    {`@bbs  {"a":1}` + "\x00"},
		"lf":          {"@bbs {\"a\":\n1}\x00"},
	}
	for name, chunks := range cases {
		t.Run(name, func(t *testing.T) {
			c := dialW(t, s.Addr(), chunks...)
			defer c.Close()
			got, state := readAll(c, 500*time.Millisecond)
			reqs := h.drain(200 * time.Millisecond)
			t.Logf("caller got %q state=%s", trunc(got), state)
			for _, r := range reqs {
				t.Logf("handler got %q", trunc(r))
			}
			c.Close()
			for _, r := range h.drain(300 * time.Millisecond) {
				t.Logf("after close handler got %q", trunc(r))
			}
		})
	}
}

func trunc(b []byte) string {
	if len(b) > 400 {
		return string(b[:200]) + fmt.Sprintf("...(%d bytes)...", len(b)) + string(b[len(b)-100:])
	}
	return string(b)
}

func frameOf(n int) string {
	// total frame length n including "@bbs " and NUL
	pad := n - len(`@bbs {"a":""}`) - 1
	return `@bbs {"a":"` + strings.Repeat("y", pad) + `"}` + "\x00"
}

func TestExploreSizes(t *testing.T) {
	s, h := start(t, mongrel2.Config{})
	for _, n := range []int{4000, 4095, 4096, 4097, 4100, 5000, 8192} {
		c := dialW(t, s.Addr(), frameOf(n))
		got, state := readAll(c, 500*time.Millisecond)
		reqs := h.drain(200 * time.Millisecond)
		t.Logf("size %d: caller %q %s; handler got %d msgs", n, trunc(got), state, len(reqs))
		for _, r := range reqs {
			t.Logf("   %q", trunc(r))
		}
		c.Close()
		h.drain(200 * time.Millisecond)
	}
	// second frame in a connection after a first
	c := dialW(t, s.Addr(), frameOf(100), frameOf(4000))
	got, state := readAll(c, 500*time.Millisecond)
	t.Logf("100 then 4000: caller %q %s; handler got %d", trunc(got), state, len(h.drain(200*time.Millisecond)))
	c.Close()
	h.drain(200 * time.Millisecond)
	c = dialW(t, s.Addr(), frameOf(100)+frameOf(4000))
	got, state = readAll(c, 500*time.Millisecond)
	t.Logf("100+4000 one write: caller %q %s; handler got %d", trunc(got), state, len(h.drain(200*time.Millisecond)))
	c.Close()
	h.drain(200 * time.Millisecond)
	for _, k := range []int{3, 4} {
		f := frameOf(60)
		var chunks []string
		step := len(f) / k
		for i := 0; i < k; i++ {
			end := (i + 1) * step
			if i == k-1 {
				end = len(f)
			}
			chunks = append(chunks, f[i*step:end])
		}
		c := dialW(t, s.Addr(), chunks...)
		got, state := readAll(c, 500*time.Millisecond)
		t.Logf("split %d: caller %q %s handler %d", k, trunc(got), state, len(h.drain(200*time.Millisecond)))
		c.Close()
		h.drain(200 * time.Millisecond)
	}
	// second message split in 3 after a first
	c = dialW(t, s.Addr(), frameOf(60), `@bbs {"a`, `":1`, `}`+"\x00")
	got, state = readAll(c, 500*time.Millisecond)
	t.Logf("1 + split3: caller %q %s handler %d", trunc(got), state, len(h.drain(200*time.Millisecond)))
	c.Close()
	h.drain(200 * time.Millisecond)
}

func TestExploreIDs(t *testing.T) {
	s, h := start(t, mongrel2.Config{})
	id := func(c net.Conn) string {
		c.Write([]byte(`@bbs {"a":1}` + "\x00"))
		r := <-h.reqs
		return strings.SplitN(string(r), " ", 3)[1]
	}
	a := dialW(t, s.Addr())
	b := dialW(t, s.Addr())
	t.Logf("b first: %s", id(b))
	t.Logf("a: %s", id(a))
	t.Logf("a again: %s", id(a))
	idle := dialW(t, s.Addr())
	a.Close()
	t.Logf("a closed: %q", <-h.reqs)
	c := dialW(t, s.Addr())
	t.Logf("c: %s", id(c))
	idle.Close()
	b.Close()
	c.Close()
	h.drain(300 * time.Millisecond)
}

func TestExploreRoutes(t *testing.T) {
	s, h := start(t, mongrel2.Config{HTTPRoutes: []string{"/status", "/who"}})
	for _, in := range []string{
		"@ {}\x00", "@b {}\x00", "@bbs {}\x00", "@bbsq {}\x00", "@x {}\x00",
		"GET / HTTP/1.1\r\n\r\n", "GET /s HTTP/1.1\r\n\r\n", "GET /statusx HTTP/1.1\r\n\r\n",
		"GET /status/a/b?q=1#frag HTTP/1.1\r\n\r\n", "GET /w HTTP/1.1\r\n\r\n", "GET /x HTTP/1.1\r\n\r\n",
		"GET @bbs HTTP/1.1\r\n\r\n", "GET http://host/status HTTP/1.1\r\nHost: localhost\r\n\r\n",
		"GET /status HTTP/1.1\r\nHost: otherhost\r\n\r\n",
	} {
		c := dialW(t, s.Addr(), in)
		got, state := readAll(c, 300*time.Millisecond)
		reqs := h.drain(100 * time.Millisecond)
		t.Logf("%q: caller %q %s", in, trunc(got), state)
		for _, r := range reqs {
			t.Logf("     handler %q", trunc(r))
		}
		c.Close()
		h.drain(200 * time.Millisecond)
	}
}

func TestExploreHTTP(t *testing.T) {
	for _, proto := range []string{"json", "tnetstring"} {
		s, h := start(t, mongrel2.Config{HTTPRoutes: []string{"/status"}, Protocol: proto})
		for _, in := range []string{
			"GET /status HTTP/1.1\r\nHost: localhost:6767\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
			"GET /status HTTP/1.1\r\nHost: localhost\r\nX-A: 1\r\nX-A: 2\r\nx-a: 3\r\nCookie: a=\"b\\c\"\r\n\r\n",
			"POST /status HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
			"GET /status HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\nG: 7\r\nH: 8\r\nI: 9\r\nJ: 10\r\nK: 11\r\nConnection: keep-alive\r\nAccept-Encoding: gzip\r\nAccept-Language: en\r\nReferer: x\r\n\r\n",
			"GET /status HTTP/1.1\r\nHost: localhost\r\n\r\nGET /status HTTP/1.1\r\nHost: localhost\r\n\r\n",
		} {
			c := dialW(t, s.Addr(), in)
			reqs := h.drain(300 * time.Millisecond)
			for _, r := range reqs {
				t.Logf("%s %q:\n     handler %q", proto, trunc([]byte(in)), trunc(r))
			}
			c.Close()
			h.drain(200 * time.Millisecond)
		}
		c := dialW(t, s.Addr(), `@bbs {"type":"msg"}`+"\x00")
		r := <-h.reqs
		t.Logf("%s json msg: %q", proto, r)
		c.Close()
		t.Logf("%s disconnect: %q", proto, <-h.reqs)
	}
}

func reply(h *xh, id string, body string) {
	h.reps <- []byte(fmt.Sprintf("exp %d:%s, %s", len(id), id, body))
}

func TestExploreReplies(t *testing.T) {
	for _, b64 := range []bool{false, true} {
		s, h := start(t, mongrel2.Config{HTTPRoutes: []string{"/status"}, Base64Payload: b64})
		connect := func() (net.Conn, string) {
			c := dialW(t, s.Addr(), `@bbs {"a":1}`+"\x00")
			r := <-h.reqs
			return c, strings.SplitN(string(r), " ", 3)[1]
		}
		c, id := connect()
		for _, body := range []string{"hello\x00", "plain", "two\x00\x00", "\x00"} {
			reply(h, id, body)
			got, state := readAll(c, 300*time.Millisecond)
			t.Logf("b64=%v reply %q -> caller %q %s", b64, body, got, state)
		}
		reply(h, id, "")
		got, state := readAll(c, 300*time.Millisecond)
		t.Logf("b64=%v empty reply -> caller %q %s; handler: %q", b64, got, state, h.drain(300*time.Millisecond))
		reply(h, id, "late")
		t.Logf("b64=%v reply to closed id %s -> handler: %q", b64, id, h.drain(300*time.Millisecond))
		reply(h, "999", "x")
		t.Logf("b64=%v reply to unknown id 999 -> handler: %q", b64, h.drain(300*time.Millisecond))
		c1, id1 := connect()
		c2, id2 := connect()
		h.reps <- []byte(fmt.Sprintf("exp %d:%s 77 %s, multi", len(id1+id2)+4, id1, id2))
		g1, _ := readAll(c1, 300*time.Millisecond)
		g2, _ := readAll(c2, 300*time.Millisecond)
		t.Logf("b64=%v multi -> %q %q handler %q", b64, g1, g2, h.drain(300*time.Millisecond))
		// bad reply
		h.reps <- []byte("exp garbage")
		reply(h, id1, "after-garbage")
		g1, _ = readAll(c1, 500*time.Millisecond)
		t.Logf("b64=%v after garbage -> %q", b64, g1)
		// HTTP reply
		hc := dialW(t, s.Addr(), "GET /status HTTP/1.1\r\nHost: x\r\n\r\n")
		r := <-h.reqs
		hid := strings.SplitN(string(r), " ", 3)[1]
		reply(h, hid, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
		g, st := readAll(hc, 300*time.Millisecond)
		t.Logf("b64=%v http reply -> %q %s", b64, g, st)
		hc.Write([]byte("GET /status HTTP/1.1\r\nHost: x\r\n\r\n"))
		t.Logf("b64=%v http keepalive 2nd -> %q", b64, h.drain(300*time.Millisecond))
		hc.Close()
		c1.Close()
		c2.Close()
		h.drain(300 * time.Millisecond)
	}
}

func TestExploreSlowReader(t *testing.T) {
	s, h := start(t, mongrel2.Config{})
	c := dialW(t, s.Addr(), `@bbs {"a":1}`+"\x00")
	r := <-h.reqs
	id := strings.SplitN(string(r), " ", 3)[1]
	other := dialW(t, s.Addr(), `@bbs {"a":1}`+"\x00")
	r = <-h.reqs
	oid := strings.SplitN(string(r), " ", 3)[1]
	big := strings.Repeat("z", 100000)
	for i := 0; i < 200; i++ {
		reply(h, id, big)
	}
	reply(h, oid, "other-ok")
	g, st := readAll(other, 500*time.Millisecond)
	t.Logf("other got %q %s", g, st)
	t.Logf("handler: %q", h.drain(time.Second))
	n := 0
	buf := make([]byte, 1<<20)
	for {
		c.SetReadDeadline(time.Now().Add(time.Second))
		k, err := c.Read(buf)
		n += k
		if err != nil {
			t.Logf("slow reader read %d bytes (%d msgs) then %v", n, n/len(big), err)
			break
		}
	}
	t.Logf("handler after: %q", h.drain(500*time.Millisecond))
}

func TestExploreIDs2(t *testing.T) {
	s, h := start(t, mongrel2.Config{HTTPRoutes: []string{"/status"}})
	id := func(c net.Conn) string {
		c.Write([]byte(`@bbs {"a":1}` + "\x00"))
		r := <-h.reqs
		return strings.SplitN(string(r), " ", 3)[1]
	}
	a := dialW(t, s.Addr())
	t.Logf("first: %s", id(a))
	for i := 0; i < 3; i++ {
		p := dialW(t, s.Addr())
		p.Close()
	}
	time.Sleep(100 * time.Millisecond)
	b := dialW(t, s.Addr())
	t.Logf("after 3 probes: %s", id(b))
	p := dialW(t, s.Addr(), "@nope {}\x00")
	readAll(p, 200*time.Millisecond)
	p.Close()
	p = dialW(t, s.Addr(), "<policy-file-request/>\x00")
	readAll(p, 200*time.Millisecond)
	p.Close()
	p = dialW(t, s.Addr(), "garbage\x00")
	readAll(p, 200*time.Millisecond)
	p.Close()
	c := dialW(t, s.Addr())
	t.Logf("after 404, policy, 400: %s", id(c))
	a.Close()
	b.Close()
	c.Close()
	h.drain(300 * time.Millisecond)
}

func TestExploreHTTPEdges(t *testing.T) {
	s, h := start(t, mongrel2.Config{HTTPRoutes: []string{"/status"}})
	for _, in := range []string{
		"GET /status HTTP/1.1\r\nX-Empty:\r\nX-Sp:   \r\nX-Trail: a  \r\nX-Tab:\tb\r\n\r\n",
		"GET /status HTTP/1.1\nHost: lf\n\n",
		"get /status HTTP/1.1\r\n\r\n",
		"GET /status HTTP/1.2\r\n\r\n",
		"GET /status HTTP/2.0\r\n\r\n",
		"GET /sta tus HTTP/1.1\r\n\r\n",
		"GET /status?a b HTTP/1.1\r\n\r\n",
		"GET /status?a=\"b\" HTTP/1.1\r\n\r\n",
		"GET /st%41tus HTTP/1.1\r\n\r\n",
		"GET /status HTTP/1.1\r\nX-Fold: a\r\n b\r\n\r\n",
		"GET /status HTTP/1.1\r\nX-Ctl: a\x01b\r\n\r\n",
		"GET /status HTTP/1.1\r\nX-Hi: caf\xc3\xa9\r\n\r\n",
		"GET /status HTTP/1.1\r\nBad Name: x\r\n\r\n",
		"GET /status HTTP/1.1\r\nX-A:1\r\nX-A:2\r\nX-A:3\r\nX-A:4\r\nX-A:5\r\nX-A:6\r\nX-A:7\r\n\r\n",
		"GET /status HTTP/1.1\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
		"GET /status HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
		"GET /status HTTP/1.1\r\nExpect: weird\r\n\r\n",
		"POST /status HTTP/1.1\r\nContent-Length: 30000\r\n\r\n" + strings.Repeat("b", 30000),
		"POST /status HTTP/1.1\r\nContent-Length: 20480\r\n\r\n" + strings.Repeat("b", 20480),
		"POST /status HTTP/1.1\r\nContent-Length: -5\r\n\r\nabc",
		"POST /status HTTP/1.1\r\nContent-Length: abc\r\n\r\nabc",
		"POST /status HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"GET /status HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("p", 100)+"\r\n", 40) + "\r\n",
		"GET //status HTTP/1.1\r\n\r\n",
		"GET * HTTP/1.1\r\n\r\n",
		"OPTIONS /status HTTP/1.1\r\n\r\n",
		"X123456789012345678901 /status HTTP/1.1\r\n\r\n",
		"GET /status HTTP/1.1\r\nConnection: close\r\n\r\n",
		"GET /status HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nHost: x\r\n\r\n",
	} {
		c := dialW(t, s.Addr(), in)
		got, state := readAll(c, 400*time.Millisecond)
		t.Logf("%q: caller %q %s", trunc([]byte(in)), trunc(got), state)
		for _, r := range h.drain(100 * time.Millisecond) {
			t.Logf("     handler %q", trunc(r))
		}
		c.Close()
		h.drain(200 * time.Millisecond)
	}
}

func TestExploreCustom(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"logs", "run", "tmp"} {
		os.MkdirAll(dir+"/"+sub, 0o755)
	}
	port, _ := mongrel2.FreePort()
	var specs [4]string
	for i := range specs {
		p, _ := mongrel2.FreePort()
		specs[i] = fmt.Sprintf("tcp://127.0.0.1:%d", p)
	}
	conf := fmt.Sprintf(`
h1 = Handler(send_spec='%s', send_ident='h1', recv_spec='%s', recv_ident='')
h2 = Handler(send_spec='%s', send_ident='h2', recv_spec='%s', recv_ident='')
main = Server(uuid='x', name='main', chroot='./', access_log='/logs/access.log', error_log='/logs/error.log',
  pid_file='/run/mongrel2.pid', default_host='localhost', bind_addr='127.0.0.1', port=%d,
  hosts=[Host(name='localhost', routes={'@bbs': h1, '@chat': h2, '<msg': h1, '/status': h2, '/who': h1})])
settings = {'zeromq.threads': 1, 'server.daemonize': 0, 'limits.tick_timer': 1, 'limits.min_ping': 3}
servers = [main]
`, specs[0], specs[1], specs[2], specs[3], port)
	os.WriteFile(dir+"/m2.conf", []byte(conf), 0o644)
	cmd := exec.Command("m2sh", "load", "-config", "m2.conf", "-db", "config.sqlite")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	out, _ := exec.Command("sqlite3", dir+"/config.sqlite", "update handler set raw_payload=1; select id, path from route").CombinedOutput()
	t.Logf("routes:\n%s", out)
	start := exec.Command("m2sh", "start", "-db", "config.sqlite", "-host", "localhost")
	start.Dir = dir
	start.Env = append(os.Environ(), "LOGNAME=x")
	start.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start.Start()
	t.Cleanup(func() {
		syscall.Kill(-start.Process.Pid, syscall.SIGKILL)
		start.Wait()
		b, _ := os.ReadFile(dir + "/logs/error.log")
		_ = b
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if i > 200 {
			t.Fatal("no start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	h1 := xhandler(t, specs[0], specs[1])
	h2 := xhandler(t, specs[2], specs[3])
	both := func() string {
		return fmt.Sprintf("h1=%q h2=%q", h1.drain(200*time.Millisecond), h2.drain(10*time.Millisecond))
	}
	c := dialW(t, addr, "@bbs {}\x00", "@chat {}\x00")
	t.Logf("bbs then chat: %s", both())
	c.Close()
	t.Logf("  close: %s", both())
	c = dialW(t, addr, "@chat {}\x00", "@bbs {}\x00")
	t.Logf("chat then bbs: %s", both())
	c.Close()
	t.Logf("  close: %s", both())
	for _, in := range []string{"<msg>hi</msg>\x00", "<msg x=\"1\"/>\x00", "<msgs>hi</msgs>\x00", "<m>x</m>\x00", "@ {}\x00", "GET / HTTP/1.1\r\n\r\n"} {
		c = dialW(t, addr, in)
		got, st := readAll(c, 300*time.Millisecond)
		t.Logf("%q: caller %q %s; %s", in, got, st, both())
		c.Close()
		t.Logf("   close: %s", both())
	}
	c = dialW(t, addr, "@bbs {}\x00")
	t.Logf("idle start: %s", both())
	t0 := time.Now()
	got, st := readAll(c, 8*time.Second)
	t.Logf("idle: after %v caller %q %s; %s", time.Since(t0), got, st, both())
	c = dialW(t, addr)
	t0 = time.Now()
	got, st = readAll(c, 8*time.Second)
	t.Logf("idle silent conn: after %v caller %q %s; %s", time.Since(t0), got, st, both())
	c = dialW(t, addr, "@bbs {\"a\":")
	t0 = time.Now()
	got, st = readAll(c, 8*time.Second)
	t.Logf("idle partial frame: after %v caller %q %s; %s", time.Since(t0), got, st, both())
}

func TestExploreMisc(t *testing.T) {
	s, h := start(t, mongrel2.Config{HTTPRoutes: []string{"/status"}})
	for _, chunks := range [][]string{
		{`@bbs {"type":"ping"}` + "\x00"},
		{`@bbs {"type": "ping"}` + "\x00"},
		{`@bbs {"type":"ping"}x}` + "\x00"},
		{`@bbs.1 {"type":"ping"}` + "\x00"},
		{`@BBS {"type":"ping"}` + "\x00"},
		{`@bbs {"a":"}` + "\x00" + `"}` + "\x00"},
		{`@a:b {}` + "\x00"},
		{`@bbs/a:b {}` + "\x00"},
		{`@bbs%41 {}` + "\x00"},
		{`@bbs%4 {}` + "\x00"},
		{"@bbs {}\x00", "GET /status HTTP/1.1\r\n\r\n", "@bbs {}\x00"},
		{"@bbs {}\x00", "<policy-file-request/>\x00"},
		{"@bbs {}\x00", "@nope {}\x00"},
		{"<policy-file-request>x>\x00"},
		{"<policy-file-request/>"},
		{"<msg\x00"},
		{"< a>\x00"},
		{"\x00"},
		{"\r\n"},
		{"@bbs {\x00"},
	} {
		c := dialW(t, s.Addr(), chunks...)
		got, st := readAll(c, 300*time.Millisecond)
		t.Logf("%q: caller %q %s handler %q", chunks, trunc(got), st, h.drain(100*time.Millisecond))
		c.Close()
		t.Logf("   close: %q", h.drain(200*time.Millisecond))
	}
}
