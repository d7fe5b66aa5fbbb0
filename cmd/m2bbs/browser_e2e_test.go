package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/gateway/web"
	"github.com/m2bbs/m2bbs/host/handler/lines"
	"github.com/m2bbs/m2bbs/host/message"
)

// chromiumPath is Debian's Chromium, which the browser test drives.
const chromiumPath = "/usr/bin/chromium"

// browserTimeout bounds the whole browser script.
const browserTimeout = 3 * time.Minute

// needBrowser returns the folder of the page's npm project, after checking
// that the browser test can run: Chromium, node, the npm packages and the
// xterm.js files embedded in this binary. Without them the test is skipped
// on a developer's machine, and fails in CI (CI is set), where make test
// installs them all.
func needBrowser(t *testing.T) string {
	t.Helper()
	webDir, err := filepath.Abs("../../host/gateway/web")
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	if _, err := os.Stat(chromiumPath); err != nil {
		missing = append(missing, chromiumPath+" (make deps)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node (make deps)")
	}
	if _, err := os.Stat(filepath.Join(webDir, "node_modules", "playwright-core")); err != nil {
		missing = append(missing, "host/gateway/web/node_modules (make web)")
	}
	if _, err := fs.Stat(web.Files(), "vendor/xterm.js"); err != nil {
		missing = append(missing, "xterm.js in host/gateway/web/static/vendor when this test was built (make web)")
	}
	if len(missing) > 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("the browser test cannot run without: %s", strings.Join(missing, ", "))
		}
		t.Skipf("missing %s", strings.Join(missing, ", "))
	}
	return webDir
}

// browserResult is the last line host/gateway/web/e2e/dial.mjs prints.
type browserResult struct {
	User   string   `json:"user"`
	Lines  []string `json:"lines"`
	Dialed []int    `json:"dialed"`
}

// TestBrowserDialsIn plays the board in a real browser: "m2bbs run" with
// two phone lines of one caller each and its web page; a classic caller
// keeps line 1 busy; the page (driven by host/gateway/web/e2e/dial.mjs in headless
// Chromium, once phone-sized) dials line 1, hears BUSY, gets CONNECT on
// line 2, logs in as a new user, leaves a message, reads it back and quits.
// A classic caller then reads the message the browser left. Screenshots
// go to bin/test-artifacts/browser.png and browser-phone.png.
func TestBrowserDialsIn(t *testing.T) { browserDialsIn(t, false) }

// TestBrowserDialsInBehindMongrel2 is TestBrowserDialsIn with real
// Mongrel2 in front ("m2bbs run -mongrel2"): Mongrel2 serves the page from
// its Dir route, the directory from the directory handler, and passes the
// page's WebSockets to the hosts, which speak Mongrel2's WebSocket
// protocol. Screenshots: bin/test-artifacts/browser-mongrel2.png.
func TestBrowserDialsInBehindMongrel2(t *testing.T) { browserDialsIn(t, true) }

// browserDialsIn plays the browser scenario behind the built-in front end
// or behind real Mongrel2.
func browserDialsIn(t *testing.T, behindMongrel2 bool) {
	webDir := needBrowser(t)
	var ports [3]int
	for i := range ports {
		p, err := mongrel2.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = p
	}
	port, webPort, telnetPort := ports[0], ports[1], ports[2]
	args := []string{"run", "-lines", "2", "-max-callers", "1",
		"-port", fmt.Sprint(port), "-web-port", fmt.Sprint(webPort), "-telnet-port", fmt.Sprint(telnetPort),
		"-data", t.TempDir(), "-db", filepath.Join(t.TempDir(), "bbs.db"),
		"-scripts", "../../scripts", "-screens", "../../screens",
		"-bcrypt-cost", "4", "-rate", "1000", "-burst", "1000"}
	name := "browser.png"
	if behindMongrel2 {
		args = append(args, "-mongrel2")
		webPort = port // Mongrel2 serves the page on the board's port
		name = "browser-mongrel2.png"
	}
	logs := startM2BBS(t, args...)
	logs.WaitFor(t, 30*time.Second, "m2bbs is ready")
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	awaitLines(t, addr, 10*time.Second, "lines 1 and 2 up", upLines(1, 2))

	// Line 1 is full: one caller at the name prompt.
	busy, err := classic.Dial(t.Context(), addr, lines.Route(1), false)
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if err := busy.Connect(); err != nil {
		t.Fatal(err)
	}
	if m, err := busy.Next(readTimeout); err != nil || m.Type != message.TypePrompt {
		t.Fatalf("the caller on line 1 got %+v, %v; want the name prompt", m, err)
	}

	shot, err := filepath.Abs(filepath.Join("../../bin/test-artifacts", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(shot), 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(shot)
	ctx, cancel := context.WithTimeout(t.Context(), browserTimeout)
	defer cancel()
	page := fmt.Sprintf("http://127.0.0.1:%d/?dial=1,2", webPort)
	cmd := exec.CommandContext(ctx, "node", filepath.Join(webDir, "e2e", "dial.mjs"), page, shot)
	cmd.Dir = webDir
	cmd.Env = append(os.Environ(), "M2BBS_USER=webann")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the browser test failed (%v):\n%s", err, out)
	}
	res := parseBrowserResult(t, out)
	if res.User != "webann" || len(res.Lines) != 3 || !slices.Equal(res.Dialed, []int{1, 2}) {
		t.Errorf("browser result %+v: want webann's 3 lines, dialed 1 then 2", res)
	}
	for _, p := range []string{shot, strings.TrimSuffix(shot, ".png") + "-phone.png"} {
		if b, err := os.ReadFile(p); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("no screenshot %s: %v", p, err)
		}
	}

	// A classic caller reads what the browser left.
	busy.Close()
	awaitLines(t, addr, 10*time.Second, "both lines free", func(lines []lines.Status) bool {
		for _, l := range lines {
			if l.Online > 0 {
				return false
			}
		}
		return upLines(1, 2)(lines)
	})
	b := &bbs{addr: addr, logs: logs}
	got := b.play(t, "reader", "pw", "pw", "y", "2", "", "Q")
	if want := "From: webann\n" + strings.Join(res.Lines, "\n") + "\n"; !strings.Contains(got, want) {
		t.Errorf("a classic caller does not see the browser's message %q:\n%s", want, got)
	}
}

// parseBrowserResult finds dial.mjs's RESULT line.
func parseBrowserResult(t *testing.T, out []byte) browserResult {
	t.Helper()
	var res browserResult
	for line := range strings.SplitSeq(string(out), "\n") {
		if js, ok := strings.CutPrefix(line, "RESULT "); ok {
			if err := json.Unmarshal([]byte(js), &res); err != nil {
				t.Fatalf("RESULT line %q: %v", line, err)
			}
			return res
		}
	}
	t.Fatalf("the browser script printed no RESULT line:\n%s", out)
	return res
}
