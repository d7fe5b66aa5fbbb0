package classic

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/m2bbs/m2bbs/host/message"
	"net"
	"testing"
	"time"
)

// wait bounds every wait in these tests.
const wait = 10 * time.Second

// step is one turn of a fake BBS: read a request whose msg must be expect,
// then send the messages.
type step struct {
	expect string
	send   []message.Message
}

// fakeServer is the BBS side of the classic protocol, standing in for
// Mongrel2 plus the host: it plays a script to one caller.
type fakeServer struct {
	addr string
	done chan fakeResult
}

// fakeResult is what the caller sent: each request's exact bytes, and the
// first protocol error.
type fakeResult struct {
	requests [][]byte
	err      error
}

// serveScript accepts one caller on a free port and plays script to it,
// framing messages as base64 or raw. After the script it reads until the
// caller hangs up, recording any further requests.
func serveScript(t *testing.T, route string, raw bool, script []step) *fakeServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	s := &fakeServer{addr: l.Addr().String(), done: make(chan fakeResult, 1)}
	go func() {
		var res fakeResult
		defer func() { s.done <- res }()
		conn, err := l.Accept()
		if err != nil {
			res.err = err
			return
		}
		defer conn.Close()
		if err := conn.SetDeadline(time.Now().Add(wait)); err != nil {
			res.err = err
			return
		}
		r := bufio.NewReader(conn)
		for i, st := range script {
			req, err := r.ReadBytes(0)
			if err != nil {
				res.err = fmt.Errorf("step %d: read request: %w (got %q)", i, err, req)
				return
			}
			res.requests = append(res.requests, req)
			msg, err := requestMsg(req, route)
			if err != nil {
				res.err = fmt.Errorf("step %d: %w", i, err)
				return
			}
			if msg != st.expect {
				res.err = fmt.Errorf("step %d: caller sent %q, want %q", i, msg, st.expect)
				return
			}
			for _, m := range st.send {
				if _, err := conn.Write(encodeFrame(m, raw)); err != nil {
					res.err = fmt.Errorf("step %d: write: %w", i, err)
					return
				}
			}
		}
		for {
			req, err := r.ReadBytes(0)
			if err != nil {
				return
			}
			res.requests = append(res.requests, req)
		}
	}()
	return s
}

// result waits for the fake server to finish.
func (s *fakeServer) result(t *testing.T) fakeResult {
	t.Helper()
	select {
	case res := <-s.done:
		return res
	case <-time.After(wait):
		t.Fatal("fake server did not finish")
		return fakeResult{}
	}
}

// requestMsg checks a request's framing and returns its msg.
func requestMsg(req []byte, route string) (string, error) {
	body, ok := bytes.CutPrefix(req, []byte(route+" "))
	if !ok || !bytes.HasSuffix(body, []byte{0}) {
		return "", fmt.Errorf("request %q is not %q + JSON + NUL", req, route+" ")
	}
	var m struct{ Type, Msg string }
	if err := json.Unmarshal(body[:len(body)-1], &m); err != nil || m.Type != "msg" {
		return "", fmt.Errorf("request %q: want a msg JSON object (%v)", req, err)
	}
	return m.Msg, nil
}

// encodeFrame frames m as the host does: base64 of JSON (or bare JSON)
// followed by NUL.
func encodeFrame(m message.Message, raw bool) []byte {
	data, _ := json.Marshal(m) // three strings: cannot fail
	if !raw {
		data = []byte(base64.StdEncoding.EncodeToString(data))
	}
	return append(data, 0)
}
