package web

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/access"
)

// wait bounds every wait in these tests.
const wait = 10 * time.Second

// call is one Dial the handler made: the BBS's end of the connection.
type call struct {
	route  string
	remote net.Addr
	conn   net.Conn
	in     *bufio.Reader
	raw    bool
}

// fakeBBS stands behind Config.Dial: each dial is a net.Pipe whose far end
// the test plays.
type fakeBBS struct {
	calls chan *call
	err   error // Dial fails with it when set
	raw   bool
}

func newFakeBBS() *fakeBBS { return &fakeBBS{calls: make(chan *call, 4)} }

func (f *fakeBBS) dial(ctx context.Context, route string, remote net.Addr) (net.Conn, error) {
	if f.err != nil {
		return nil, f.err
	}
	near, far := net.Pipe()
	f.calls <- &call{route: route, remote: remote, conn: far, in: bufio.NewReader(far), raw: f.raw}
	return near, nil
}

// next waits for the handler's next Dial.
func (f *fakeBBS) next(t *testing.T) *call {
	t.Helper()
	select {
	case c := <-f.calls:
		t.Cleanup(func() { c.conn.Close() })
		return c
	case <-time.After(wait):
		t.Fatal("the handler never dialed the BBS")
		return nil
	}
}

// expect reads the next classic request and checks its bytes.
func (c *call) expect(t *testing.T, want string) {
	t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(wait))
	got, err := c.in.ReadBytes(0)
	if err != nil || string(got) != want {
		t.Fatalf("the BBS got %q, %v; want %q", got, err, want)
	}
}

// send writes one message as the host frames it.
func (c *call) send(t *testing.T, m message.Message) {
	t.Helper()
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if !c.raw {
		data = []byte(base64.StdEncoding.EncodeToString(data))
	}
	_ = c.conn.SetWriteDeadline(time.Now().Add(wait))
	if _, err := c.conn.Write(append(data, 0)); err != nil {
		t.Fatalf("the BBS could not send %+v: %v", m, err)
	}
}

// hungUp waits until the bridge closes the BBS's connection.
func (c *call) hungUp(t *testing.T) {
	t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(wait))
	if b, err := c.in.ReadBytes(0); !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
		t.Fatalf("the BBS's connection is still open: read %q, %v", b, err)
	}
}

// serve starts the handler on a test server.
func serve(t *testing.T, cfg Config) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(NewHandler(cfg))
	t.Cleanup(srv.Close)
	return srv
}

// page opens a WebSocket as the page does.
func page(t *testing.T, srv *httptest.Server, path string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+path, &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": {srv.URL}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return ws
}

func pageSend(t *testing.T, ws *websocket.Conn, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	if err := ws.Write(ctx, websocket.MessageText, []byte(text)); err != nil {
		t.Fatal(err)
	}
}

// pageRead reads the next message the page gets, as text.
func pageRead(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	typ, data, err := ws.Read(ctx)
	if err != nil {
		t.Fatalf("page read: %v", err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("page got a %v message", typ)
	}
	return string(data)
}

// pageClosed waits for the server's close frame and returns its status
// and reason.
func pageClosed(t *testing.T, ws *websocket.Conn) (websocket.StatusCode, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	_, data, err := ws.Read(ctx)
	var ce websocket.CloseError
	if !errors.As(err, &ce) {
		t.Fatalf("page read %q, %v; want a close frame", data, err)
	}
	return ce.Code, ce.Reason
}

// pageCase is one request for a file of the page and what must answer.
type pageCase struct {
	method, path string
	status       int
	ctype        string
	body         string // a part of the body
}

func TestServesThePage(t *testing.T) {
	fallback := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"fallback":%q}`, r.URL.Path)
	})
	srv := serve(t, Config{Dial: newFakeBBS().dial, Fallback: fallback})
	_, vendorErr := fs.Stat(Files(), "vendor/xterm.js")
	haveVendor := vendorErr == nil

	tests := []pageCase{
		{"GET", "/", 200, "text/html; charset=utf-8", `<script src="bbs.js">`},
		{"HEAD", "/", 200, "text/html; charset=utf-8", ""},
		{"GET", "/index.html", 301, "", ""}, // to ./, as a Dir route would serve it
		{"GET", "/bbs.js", 200, "text/javascript; charset=utf-8", "ATDT"},
		{"GET", "/bbs.css", 200, "text/css; charset=utf-8", "#33ff33"},
		{"GET", "/lines", 200, "application/json", `{"fallback":"/lines"}`},
		{"GET", "/status", 200, "application/json", `{"fallback":"/status"}`},
		{"GET", "/vendor/nope.js", 404, "", ""},
		{"POST", "/", 405, "", ""},
		{"GET", "/ws/0", 404, "", ""},
		{"GET", "/ws/01", 404, "", ""},
		{"GET", "/ws/x", 404, "", ""},
		{"GET", "/ws/10000", 404, "", ""},
		{"GET", "/ws/", 404, "", ""},
		{"GET", "/ws", 426, "", ""}, // not an upgrade
	}
	if haveVendor {
		tests = append(tests,
			pageCase{"GET", "/vendor/xterm.js", 200, "text/javascript; charset=utf-8", "Terminal"},
			pageCase{"GET", "/vendor/addon-fit.js", 200, "text/javascript; charset=utf-8", "FitAddon"},
			pageCase{"GET", "/vendor/xterm.css", 200, "text/css; charset=utf-8", ".xterm"})
	} else {
		t.Log("static/vendor/ missing (make web): the xterm.js files are not checked")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tt.status, body)
			}
			if tt.ctype != "" && resp.Header.Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tt.ctype)
			}
			if !strings.Contains(string(body), tt.body) {
				t.Errorf("body lacks %q:\n%.300s", tt.body, body)
			}
		})
	}
}

func TestPageHeaders(t *testing.T) {
	srv := serve(t, Config{Dial: newFakeBBS().dial})
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("page without a content security policy: %q", csp)
	}
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("page without nosniff")
	}
	// No fallback: other paths are not found.
	resp, err = http.Get(srv.URL + "/lines")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/lines without a fallback: %s, want 404", resp.Status)
	}
}

func TestFilesAreThePage(t *testing.T) {
	for _, name := range []string{"index.html", "bbs.js", "bbs.css"} {
		if _, err := fs.Stat(Files(), name); err != nil {
			t.Errorf("Files() lacks %s: %v", name, err)
		}
	}
	index, err := fs.ReadFile(Files(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	// Behind Mongrel2 the page sits in a Dir route: every URL is relative.
	for _, ref := range []string{`href="vendor/xterm.css"`, `href="bbs.css"`, `src="vendor/xterm.js"`, `src="vendor/addon-fit.js"`, `src="bbs.js"`, `name="viewport"`} {
		if !strings.Contains(string(index), ref) {
			t.Errorf("index.html lacks %s", ref)
		}
	}
	if strings.Contains(string(index), `="/`) {
		t.Errorf("index.html has an absolute URL")
	}
}

// TestWebSocketRoundTrip: a prompt and its answer travel both ways, for
// either framing of the BBS.
func TestWebSocketRoundTrip(t *testing.T) {
	for _, raw := range []bool{false, true} {
		t.Run(fmt.Sprintf("raw=%v", raw), func(t *testing.T) {
			bbs := newFakeBBS()
			bbs.raw = raw
			srv := serve(t, Config{Dial: bbs.dial, RawFrames: raw})
			ws := page(t, srv, "/ws/2")
			pageSend(t, ws, `{"type":"msg","msg":"connect"}`)
			c := bbs.next(t)
			if c.route != "@bbs.2" {
				t.Errorf("dialed route %q, want @bbs.2", c.route)
			}
			if a, ok := c.remote.(*net.TCPAddr); !ok || !a.IP.IsLoopback() {
				t.Errorf("remote address %#v, want the caller's 127.0.0.1 as a *net.TCPAddr", c.remote)
			}
			c.expect(t, `@bbs.2 {"type":"msg","msg":"connect","ansi":true}`+"\x00")

			c.send(t, message.Message{Type: "screen", Msg: "\x1b[32mWelcome\x1b[0m\nto the board"})
			c.send(t, message.Message{Type: "prompt", Msg: "What's your password?", PChar: "> ", Secret: true})
			if got, want := pageRead(t, ws), `{"msg":"\u001b[32mWelcome\u001b[0m\nto the board","type":"screen"}`; got != want {
				t.Errorf("page got %s, want %s", got, want)
			}
			if got, want := pageRead(t, ws), `{"msg":"What's your password?","pchar":"> ","secret":true,"type":"prompt"}`; got != want {
				t.Errorf("page got %s, want %s", got, want)
			}
			pageSend(t, ws, `{"type":"msg","msg":"s3cr\"t é"}`)
			c.expect(t, `@bbs.2 {"type":"msg","msg":"s3cr\"t é","ansi":true}`+"\x00")

			c.send(t, message.Message{Type: "exit", Msg: "Alright, see ya later."})
			if got, want := pageRead(t, ws), `{"msg":"Alright, see ya later.","type":"exit"}`; got != want {
				t.Errorf("page got %s, want %s", got, want)
			}
			if code, reason := pageClosed(t, ws); code != websocket.StatusNormalClosure {
				t.Errorf("after exit: close %v %q, want a normal closure", code, reason)
			}
			c.hungUp(t)
		})
	}
}

func TestSingleHostRoute(t *testing.T) {
	bbs := newFakeBBS()
	srv := serve(t, Config{Dial: bbs.dial})
	ws := page(t, srv, "/ws")
	pageSend(t, ws, `{"type":"msg","msg":"connect","color":false}`)
	c := bbs.next(t)
	c.expect(t, `@bbs {"type":"msg","msg":"connect","color":false}`+"\x00")
}

// TestBusyLine: a full line answers connect with the busy screen and
// hangs up; the page gets the exit message, then the close.
func TestBusyLine(t *testing.T) {
	bbs := newFakeBBS()
	srv := serve(t, Config{Dial: bbs.dial})
	ws := page(t, srv, "/ws/1")
	pageSend(t, ws, `{"type":"msg","msg":"connect"}`)
	c := bbs.next(t)
	c.expect(t, `@bbs.1 {"type":"msg","msg":"connect","ansi":true}`+"\x00")
	c.send(t, message.Message{Type: "exit", Msg: "All lines are busy. Please call again later."})
	c.conn.Close()
	if got, want := pageRead(t, ws), `{"msg":"All lines are busy. Please call again later.","type":"exit"}`; got != want {
		t.Errorf("page got %s, want %s", got, want)
	}
	if code, reason := pageClosed(t, ws); code != websocket.StatusNormalClosure || reason != reasonExit {
		t.Errorf("close %v %q, want normal closure %q", code, reason, reasonExit)
	}
}

// TestBadRequestsRefused: anything but a classic request closes the
// WebSocket with a reason, and the BBS's connection with it.
func TestBadRequestsRefused(t *testing.T) {
	tests := []struct {
		name   string
		typ    websocket.MessageType
		data   string
		code   websocket.StatusCode
		reason string
	}{
		{"not JSON", websocket.MessageText, "hello", websocket.StatusPolicyViolation, reasonBadRequest},
		{"other type", websocket.MessageText, `{"type":"chat","msg":"hi"}`, websocket.StatusPolicyViolation, reasonBadRequest},
		{"msg not a string", websocket.MessageText, `{"type":"msg","msg":1}`, websocket.StatusPolicyViolation, reasonBadRequest},
		{"binary", websocket.MessageBinary, `{"type":"msg","msg":"x"}`, websocket.StatusUnsupportedData, reasonTextOnly},
		{"too big", websocket.MessageText, `{"type":"msg","msg":"` + strings.Repeat("x", MaxPageMessageBytes) + `"}`, websocket.StatusMessageTooBig, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bbs := newFakeBBS()
			srv := serve(t, Config{Dial: bbs.dial})
			ws := page(t, srv, "/ws/3")
			c := bbs.next(t)
			ctx, cancel := context.WithTimeout(t.Context(), wait)
			defer cancel()
			if err := ws.Write(ctx, tt.typ, []byte(tt.data)); err != nil {
				t.Fatal(err)
			}
			code, reason := pageClosed(t, ws)
			if code != tt.code || (tt.reason != "" && reason != tt.reason) {
				t.Errorf("close %v %q, want %v %q", code, reason, tt.code, tt.reason)
			}
			c.hungUp(t)
		})
	}
}

func TestDialFailureClosesWithReason(t *testing.T) {
	bbs := newFakeBBS()
	bbs.err = errors.New("connection refused")
	srv := serve(t, Config{Dial: bbs.dial})
	ws := page(t, srv, "/ws/1")
	if code, reason := pageClosed(t, ws); code != websocket.StatusTryAgainLater || reason != reasonNoAnswer {
		t.Errorf("close %v %q, want %v %q", code, reason, websocket.StatusTryAgainLater, reasonNoAnswer)
	}
}

// TestBBSHangsUp: the BBS going away without an exit message closes the
// page's WebSocket too.
func TestBBSHangsUp(t *testing.T) {
	bbs := newFakeBBS()
	srv := serve(t, Config{Dial: bbs.dial})
	ws := page(t, srv, "/ws/1")
	c := bbs.next(t)
	c.send(t, message.Message{Type: "screen", Msg: "going down"})
	c.conn.Close()
	if got := pageRead(t, ws); got != `{"msg":"going down","type":"screen"}` {
		t.Errorf("page got %s", got)
	}
	if code, reason := pageClosed(t, ws); code != websocket.StatusGoingAway || reason != reasonBBSGone {
		t.Errorf("close %v %q, want going away %q", code, reason, reasonBBSGone)
	}
}

// TestBadFrameFromBBSSkipped: a frame that is not a message is dropped;
// the call goes on.
func TestBadFrameFromBBSSkipped(t *testing.T) {
	bbs := newFakeBBS()
	srv := serve(t, Config{Dial: bbs.dial})
	ws := page(t, srv, "/ws/1")
	c := bbs.next(t)
	if _, err := c.conn.Write([]byte("not base64!\x00")); err != nil {
		t.Fatal(err)
	}
	c.send(t, message.Message{Type: "prompt", Msg: "name?", PChar: "> "})
	if got := pageRead(t, ws); got != `{"msg":"name?","pchar":"> ","type":"prompt"}` {
		t.Errorf("page got %s", got)
	}
}

func TestPageHangsUp(t *testing.T) {
	bbs := newFakeBBS()
	srv := serve(t, Config{Dial: bbs.dial})
	ws := page(t, srv, "/ws/1")
	c := bbs.next(t)
	if err := ws.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	c.hungUp(t)
}

func TestForeignOriginRefused(t *testing.T) {
	bbs := newFakeBBS()
	srv := serve(t, Config{Dial: bbs.dial})
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/ws/1", &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": {"http://evil.example"}},
	})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("a foreign page opened a WebSocket: %v %v", resp, err)
	}
	select {
	case <-bbs.calls:
		t.Error("the BBS was dialed for a foreign page")
	default:
	}

	// An origin the sysop allows may.
	srv2 := serve(t, Config{Dial: bbs.dial, Origins: access.Origins{Patterns: []string{"bbs.example"}}})
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv2.URL, "http")+"/ws/1", &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": {"https://bbs.example"}},
	})
	if err != nil {
		t.Fatalf("an allowed origin was refused: %v", err)
	}
	ws.CloseNow()
}

// reboundPage opens a WebSocket on srv as a page of name would after DNS
// rebinding: the browser resolves name to srv's address and sends Host
// and Origin of name (and srv's port). It returns the HTTP status.
func reboundPage(t *testing.T, srv *httptest.Server, name string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), wait)
	defer cancel()
	addr := srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	rebound := net.JoinHostPort(name, port)
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
	ws, resp, err := websocket.Dial(ctx, "ws://"+rebound+"/ws/1", &websocket.DialOptions{
		HTTPClient: client,
		HTTPHeader: http.Header{"Origin": {"http://" + rebound}},
	})
	if err == nil {
		ws.CloseNow()
		return http.StatusSwitchingProtocols
	}
	if resp == nil {
		t.Fatalf("rebound page %s: %v", name, err)
	}
	return resp.StatusCode
}

// TestReboundPageRefused: a page of another name that DNS rebinding
// pointed at the loopback web port is same-origin with its own Host, and
// is refused; a public board (-listen-all) takes its own page under any
// name, and a board takes a name the sysop listed.
func TestReboundPageRefused(t *testing.T) {
	bbs := newFakeBBS()
	srv := serve(t, Config{Dial: bbs.dial})
	if code := reboundPage(t, srv, "evil.example"); code != http.StatusForbidden {
		t.Errorf("a rebound page got %d, want 403", code)
	}
	select {
	case <-bbs.calls:
		t.Error("the BBS was dialed for a rebound page")
	default:
	}
	if code := reboundPage(t, srv, "localhost"); code != http.StatusSwitchingProtocols {
		t.Errorf("the page as localhost got %d", code)
	}
	bbs.next(t)
	public := serve(t, Config{Dial: bbs.dial, Origins: access.Origins{AnyName: true}})
	if code := reboundPage(t, public, "bbs.example.org"); code != http.StatusSwitchingProtocols {
		t.Errorf("a public board's own page under its name got %d", code)
	}
	bbs.next(t)
	listed := serve(t, Config{Dial: bbs.dial, Origins: access.Origins{Patterns: []string{"bbs.example.org:*"}}})
	if code := reboundPage(t, listed, "bbs.example.org"); code != http.StatusSwitchingProtocols {
		t.Errorf("a listed name got %d", code)
	}
	bbs.next(t)
}

// TestPipeDial: the served end of the pipe carries the caller's address,
// and what one end writes the other reads.
func TestPipeDial(t *testing.T) {
	served := make(chan net.Conn, 1)
	dial := PipeDial(func(c net.Conn) { served <- c })
	caller := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 4242}
	near, err := dial(t.Context(), "@bbs.1", caller)
	if err != nil {
		t.Fatal(err)
	}
	defer near.Close()
	far := <-served
	defer far.Close()
	if far.RemoteAddr() != net.Addr(caller) {
		t.Errorf("served end's RemoteAddr = %v, want %v", far.RemoteAddr(), caller)
	}
	go near.Write([]byte("@bbs.1 {}\x00"))
	got, err := bufio.NewReader(far).ReadBytes(0)
	if err != nil || string(got) != "@bbs.1 {}\x00" {
		t.Errorf("served end read %q, %v", got, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := dial(ctx, "@bbs.1", caller); !errors.Is(err, context.Canceled) {
		t.Errorf("dial with a cancelled context: %v", err)
	}
}
