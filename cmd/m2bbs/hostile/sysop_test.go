package hostile

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/handler/dispatch"
)

// The attacks of issue 12, item 2: the sysop surface from a page in the
// sysop's browser (cross-site requests, DNS rebinding), through the web
// port's proxy, and on a board open to the network.

// forgedBroadcast is what a page of another site has the browser send:
// a "simple" cross-site POST (text/plain, no custom header: no CORS
// preflight), with the headers a browser adds.
func forgedBroadcast(t *testing.T, addr, text string) *http.Request {
	t.Helper()
	req := postRequest(t, "http://"+addr+dispatch.StatusPath+"/broadcast", text)
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Origin", "http://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Sec-Fetch-Mode", "no-cors")
	return req
}

// postRequest is a POST of body to url.
func postRequest(t *testing.T, url, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// do sends req and returns the status code and body.
func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: readTimeout}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// sysopCommand runs `m2bbs status` (the sysop's tool) against addr with
// args and returns what it printed and how it ended.
func sysopCommand(t *testing.T, addr string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*readTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"status", "-addr", "http://" + addr}, args...)...)
	cmd.Env = append(cmd.Environ(), "M2BBS_SYSOP_TOKEN=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestForeignPageCannotActAsTheSysop: on the default board (loopback, no
// token), the forged requests a web page can make the sysop's browser
// send, to the board's port or the web port, are refused, and no caller
// sees the forged broadcast; the sysop's own tool still works.
func TestForeignPageCannotActAsTheSysop(t *testing.T) {
	b := startBoard(t, boardOptions{web: true})
	by := b.bystander(t, "bystander")
	const forged = "SYSOP: your account is locked, type your password again"

	assertResponsive(t, by, func() {
		for _, addr := range []string{b.addr, b.webAddr} {
			// The cross-site form POST.
			if code, body := do(t, forgedBroadcast(t, addr, forged)); code != http.StatusForbidden {
				t.Errorf("a cross-site broadcast via %s answered %d %q", addr, code, body)
			}
			// A page that reached the board by DNS rebinding is same-origin
			// to the browser, so it may add the sysop header: its Host is
			// its own name.
			req := postRequest(t, "http://"+addr+dispatch.StatusPath+"/broadcast", forged)
			req.Host = "evil.example" + addr[strings.LastIndex(addr, ":"):]
			req.Header.Set("X-M2BBS-Sysop", "1")
			req.Header.Set("Origin", "http://"+req.Host)
			if code, body := do(t, req); code != http.StatusForbidden {
				t.Errorf("a rebound page's broadcast via %s answered %d %q", addr, code, body)
			}
			for _, action := range []string{"/kick?conn_id=1", "/upgrade", "/drain?line=1&to=2", "/watch?conn_id=1", "/chat?conn_id=1"} {
				req := forgedBroadcast(t, addr, "")
				req.URL.Path, req.URL.RawQuery, _ = strings.Cut(dispatch.StatusPath+action, "?")
				if code, body := do(t, req); code != http.StatusForbidden {
					t.Errorf("a cross-site %s via %s answered %d %q", action, addr, code, body)
				}
			}
		}
	})
	if strings.Contains(by.seen.String(), forged) {
		t.Errorf("the bystander was shown the forged broadcast:\n%s", by.seen.String())
	}
	if n := b.proc.logs.Count("sysop action refused"); n == 0 {
		t.Error("the refusals were not logged")
	}

	// Anyone may read the counters, not the insides.
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+b.addr+dispatch.StatusPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	code, body := do(t, req)
	var st dispatch.Status
	if code != http.StatusOK || json.Unmarshal([]byte(body), &st) != nil || st.Sessions.Active != 1 {
		t.Fatalf("anonymous status: %d %q", code, body)
	}
	for _, secret := range []string{"heap_bytes", "goroutines", "online", "load_error", "bystander"} {
		if strings.Contains(body, secret) {
			t.Errorf("anonymous status shows %q: %s", secret, body)
		}
	}

	// The sysop's tool on the machine itself.
	if out, err := sysopCommand(t, b.addr, "-broadcast", "Closing at midnight."); err != nil || !strings.Contains(out, "shown to 1 callers") {
		t.Fatalf("m2bbs status -broadcast: %v\n%s", err, out)
	}
	if out, err := sysopCommand(t, b.addr); err != nil || !strings.Contains(out, "bystander") {
		t.Errorf("m2bbs status does not list the bystander: %v\n%s", err, out)
	}
	if _, err := by.roundTrip(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(by.seen.String(), "Closing at midnight.") {
		t.Errorf("the bystander missed the sysop's broadcast:\n%s", by.seen.String())
	}
}

// TestPublicBoardNeedsTheToken: -listen-all without a token does not
// start, nor does any board with a guessable token (m2bbs host behind
// Mongrel2 too); with a good one, nothing but the token acts as the
// sysop: a caller claiming the loopback (the sysop header and a forged
// X-M2BBS-Proxied-For) is refused on either port, from the machine
// itself and from its address on the network, and the token works from
// the network.
func TestPublicBoardNeedsTheToken(t *testing.T) {
	refused := startProc(t, "run", "-listen-all", "-port", fmt.Sprint(freePort(t)), "-web-port", "-1", "-telnet-port", "-1",
		"-data", t.TempDir(), "-db", t.TempDir()+"/bbs.db", "-scripts", repoDir(t, "scripts"), "-screens", repoDir(t, "screens"))
	if err := refused.wait(t); err == nil {
		t.Errorf("m2bbs run -listen-all without a token exited 0:\n%s", refused.logs)
	}
	if !strings.Contains(refused.logs.String(), "-listen-all") || !strings.Contains(refused.logs.String(), "sysop token") {
		t.Errorf("the refusal does not say why:\n%s", refused.logs)
	}
	weak := startProc(t, "host", "-sysop-token", "letmein", "-db", t.TempDir()+"/bbs.db",
		"-scripts", repoDir(t, "scripts"), "-screens", repoDir(t, "screens"))
	if err := weak.wait(t); err == nil || !strings.Contains(weak.logs.String(), "too short") || strings.Contains(weak.logs.String(), "letmein") {
		t.Errorf("m2bbs host with a short token: %v\n%s", err, weak.logs)
	}

	const token = "hostile-suite-token-0123456789"
	b := startBoard(t, boardOptions{web: true, extra: []string{"-listen-all", "-sysop-token", token}})
	by := b.bystander(t, "bystander")
	addrs := []string{b.addr, b.webAddr}
	if ip := networkIP(); ip != "" {
		// The board listens on every interface: reach it as a caller on
		// the network does, from an address that is not the loopback.
		for _, a := range []string{b.addr, b.webAddr} {
			_, port, _ := net.SplitHostPort(a)
			addrs = append(addrs, net.JoinHostPort(ip, port))
		}
	}
	const forged = "Forged by a caller on the network."
	assertResponsive(t, by, func() {
		for _, addr := range addrs {
			req := postRequest(t, "http://"+addr+dispatch.StatusPath+"/broadcast", forged)
			req.Header.Set("X-M2BBS-Sysop", "1")
			req.Header.Set("X-M2BBS-Proxied-For", "127.0.0.1")
			req.Host = "127.0.0.1"
			if code, body := do(t, req); code != http.StatusForbidden || !strings.Contains(body, "token") {
				t.Errorf("a broadcast without the token via %s answered %d %q", addr, code, body)
			}
		}
	})
	req := postRequest(t, "http://"+addrs[len(addrs)-1]+dispatch.StatusPath+"/broadcast", "The sysop speaks.")
	req.Header.Set("Authorization", "bearer "+token)
	if code, body := do(t, req); code != http.StatusOK {
		t.Errorf("the sysop's broadcast with the token via %s answered %d %q", addrs[len(addrs)-1], code, body)
	}
	if _, err := by.roundTrip(); err != nil {
		t.Fatal(err)
	}
	if seen := by.seen.String(); strings.Contains(seen, forged) || !strings.Contains(seen, "The sysop speaks.") {
		t.Errorf("the bystander saw:\n%s", seen)
	}
	if strings.Contains(b.proc.logs.String(), token) {
		t.Error("the sysop token is in the log")
	}
}

// networkIP is an IPv4 address of this machine other than the loopback,
// or "" if it has none.
func networkIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			return n.IP.String()
		}
	}
	return ""
}

// TestSysopBehindALocalProxy: a loopback board without a token behind a
// reverse proxy on the same machine (nginx proxy_pass to 127.0.0.1, the
// Host rewritten to it, X-Real-IP and X-Forwarded-* added as the usual
// configurations do): every caller on the internet arrives from the
// loopback with a loopback Host, and the sysop header is still refused.
func TestSysopBehindALocalProxy(t *testing.T) {
	b := startBoard(t, boardOptions{})
	by := b.bystander(t, "bystander")
	board := &url.URL{Scheme: "http", Host: b.addr}
	proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(board)
		r.Out.Host = board.Host // nginx's default: proxy_set_header Host $proxy_host
		r.SetXForwarded()
		r.Out.Header.Set("X-Real-IP", "203.0.113.9")
	}})
	t.Cleanup(proxy.Close)
	const forged = "Forged from the internet through the proxy."
	assertResponsive(t, by, func() {
		for _, action := range []string{"/broadcast", "/kick?conn_id=1", "/upgrade", "/drain?line=1&to=2"} {
			path, query, _ := strings.Cut(dispatch.StatusPath+action, "?")
			req := postRequest(t, proxy.URL+path, forged)
			req.URL.RawQuery = query
			req.Header.Set("X-M2BBS-Sysop", "1")
			if code, body := do(t, req); code != http.StatusForbidden || !strings.Contains(body, "proxy") {
				t.Errorf("%s through the proxy answered %d %q", action, code, body)
			}
		}
	})
	if _, err := by.roundTrip(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(by.seen.String(), forged) {
		t.Errorf("the bystander was shown the forged broadcast:\n%s", by.seen.String())
	}
	// The sysop's own tool, on the machine, still works.
	if out, err := sysopCommand(t, b.addr); err != nil || !strings.Contains(out, "bystander") {
		t.Errorf("m2bbs status: %v\n%s", err, out)
	}
}

// TestTokenGuessesBounded: a caller on the network guessing the sysop
// token gets dispatch.MaxWrongTokens tries a minute, then 429 even for the
// right one, while the bystander plays on and the sysop on the machine
// still gets in.
func TestTokenGuessesBounded(t *testing.T) {
	ip := networkIP()
	if ip == "" {
		t.Skip("this machine has no address besides the loopback")
	}
	const token = "hostile-suite-token-0123456789"
	b := startBoard(t, boardOptions{extra: []string{"-listen-all", "-sysop-token", token}})
	by := b.bystander(t, "bystander")
	_, port, _ := net.SplitHostPort(b.addr)
	far := "http://" + net.JoinHostPort(ip, port) + dispatch.StatusPath + "/broadcast"
	guess := func(tok string) int {
		req := postRequest(t, far, "Guessed.")
		req.Header.Set("Authorization", "Bearer "+tok)
		code, _ := do(t, req)
		return code
	}
	assertResponsive(t, by, func() {
		for i := range dispatch.MaxWrongTokens {
			if code := guess(fmt.Sprintf("guess-%024d", i)); code != http.StatusForbidden {
				t.Fatalf("guess %d answered %d", i, code)
			}
		}
		if code := guess(token); code != http.StatusTooManyRequests {
			t.Errorf("the right token after %d guesses answered %d, want 429", dispatch.MaxWrongTokens, code)
		}
	})
	req := postRequest(t, "http://"+b.addr+dispatch.StatusPath+"/broadcast", "The sysop speaks.")
	req.Header.Set("Authorization", "Bearer "+token)
	if code, body := do(t, req); code != http.StatusOK {
		t.Errorf("the sysop on the machine answered %d %q", code, body)
	}
	if _, err := by.roundTrip(); err != nil {
		t.Fatal(err)
	}
	if seen := by.seen.String(); strings.Contains(seen, "Guessed.") || !strings.Contains(seen, "The sysop speaks.") {
		t.Errorf("the bystander saw:\n%s", seen)
	}
	if b.proc.logs.Count("sysop action refused") == 0 {
		t.Error("the refusals were not logged")
	}
}
