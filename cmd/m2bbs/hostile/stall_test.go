package hostile

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/dispatch"
)

// Issue 12 item 4: one connection, or one address, cannot stall everyone.

// floodFrame is one classic request line, as the classic client frames it.
const floodFrame = `@bbs {"type":"msg","msg":"x"}` + "\x00"

// TestHostilePipelinedFloodThenHangUp: one caller pipelines 20,000 lines
// on one socket and hangs up. The session is ended for flooding and what
// the caller sent after is dropped: no new session per line (each with a
// bcrypt on main), and the bystander's menu stays quick during the attack
// and while the board works through what it was sent.
func TestHostilePipelinedFloodThenHangUp(t *testing.T) {
	b := startBoard(t, boardOptions{})
	by := b.bystander(t, "ann")
	before := b.status(t)
	assertResponsive(t, by, func() {
		conn := dialFrom(t, attackerIP, b.addr)
		flood := append([]byte(`@bbs {"type":"msg","msg":"connect"}`+"\x00"),
			bytes.Repeat([]byte(floodFrame), 20_000)...)
		_ = conn.SetWriteDeadline(time.Now().Add(readTimeout))
		_, _ = conn.Write(flood) // the board may hang up before it has read it all
		conn.Close()
		// The stall came after the hang-up, while the host started a
		// session per queued line: keep watching the bystander for a
		// while (main stalled for 18 s).
		time.Sleep(3 * time.Second)
	})
	after := b.status(t)
	if started := after.Sessions.Started - before.Sessions.Started; started != 1 {
		t.Errorf("the flood started %d sessions, want 1 (the flooder's first)", started)
	}
}

// TestHostileSilentSocketsFromOneAddress: 2,000 sockets from one address
// that never send a byte. At most -max-per-addr (8) of them are held, and
// only until the first-frame deadline; a new caller from another address
// is served meanwhile and the bystander's menu stays quick.
func TestHostileSilentSocketsFromOneAddress(t *testing.T) {
	const sockets = 2000
	raiseFileLimit(t, sockets+200)
	b := startBoard(t, boardOptions{}) // the defaults: 8 per address, first frame within 10 s
	by := b.bystander(t, "ann")
	var held []net.Conn
	assertResponsive(t, by, func() {
		conns := make([]net.Conn, 0, sockets)
		for range sockets {
			conns = append(conns, dialFrom(t, attackerIP, b.addr))
		}
		held = stillOpen(conns, 500*time.Millisecond)
		// A new caller from elsewhere gets the board's welcome.
		fresh := b.call(t, bystanderIP)
		if _, m, err := fresh.next(); err != nil || m.Type != "prompt" {
			t.Errorf("a new caller during the attack got no prompt: %v", err)
		}
	})
	if len(held) > 8 {
		t.Fatalf("%d of %d silent sockets from one address are held open, want at most 8", len(held), sockets)
	}
	if open := stillOpen(held, 20*time.Second); len(open) > 0 {
		t.Fatalf("%d silent sockets still open 20 s after the attack (first-frame deadline 10 s)", len(open))
	}
}

// TestHostileSilentTelnetSockets: 300 silent sockets from one address on
// the telnet port hold at most 8 of its lines, and only until the first
// input deadline; a telnet caller from another address gets the board.
func TestHostileSilentTelnetSockets(t *testing.T) {
	const sockets = 300
	raiseFileLimit(t, sockets+200)
	b := startBoard(t, boardOptions{telnet: true})
	by := b.bystander(t, "ann")
	var held []net.Conn
	assertResponsive(t, by, func() {
		conns := make([]net.Conn, 0, sockets)
		for range sockets {
			conns = append(conns, dialFrom(t, attackerIP, b.telnetAddr))
		}
		// Each held socket gets the gateway's negotiation; the refused
		// ones a line saying why, then the end.
		held = stillOpen(conns, 500*time.Millisecond)
		other := dialFrom(t, bystanderIP, b.telnetAddr)
		if got := readUntil(other, "> ", readTimeout); !strings.HasSuffix(got, "> ") {
			t.Errorf("a telnet caller from another address got %q, want the board's first prompt", got)
		}
	})
	if len(held) > 8 {
		t.Fatalf("%d of %d silent telnet sockets from one address are held open, want at most 8", len(held), sockets)
	}
	if open := stillOpen(held, 20*time.Second); len(open) > 0 {
		t.Fatalf("%d silent telnet sockets still open 20 s after the attack (first-input deadline 10 s)", len(open))
	}
}

// TestHostileMalformedFrameFlood: frames whose payload is not JSON get the
// caller hung up on after a few (400, then the end), and frames that are
// JSON but not a message the board takes are answered by the host with a
// few log lines, not one each (main wrote 151 MB of log in 6 s); the
// bystander's menu stays quick.
func TestHostileMalformedFrameFlood(t *testing.T) {
	b := startBoard(t, boardOptions{})
	by := b.bystander(t, "ann")
	var notJSON string
	assertResponsive(t, by, func() {
		bad := dialFrom(t, attackerIP, b.addr)
		_ = bad.SetWriteDeadline(time.Now().Add(readTimeout))
		_, _ = bad.Write(bytes.Repeat([]byte("@bbs {not json}\x00"), 20_000))
		notJSON = readUntil(bad, "", readTimeout) // to the end
		odd := dialFrom(t, attackerIP, b.addr)
		_ = odd.SetWriteDeadline(time.Now().Add(readTimeout))
		_, _ = odd.Write(bytes.Repeat([]byte(`@bbs {"type":"msg","msg":5}`+"\x00"), 20_000))
		odd.Close()
		b.proc.logs.WaitFor(t, readTimeout, "malformed message: msg is not a string")
		time.Sleep(time.Second) // let the host work through the rest
	})
	if !strings.HasPrefix(notJSON, "HTTP/1.1 400 Bad Request") {
		t.Errorf("the caller sending frames that are not JSON got %q, want 400 and the end", notJSON)
	}
	if n := b.proc.logs.Count("malformed message"); n > 20 {
		t.Errorf("%d log lines about malformed messages for one flood, want a few", n)
	}
}

// stillOpen returns the conns that neither closed nor sent anything
// ending in a close within wait: those the board holds.
func stillOpen(conns []net.Conn, wait time.Duration) []net.Conn {
	var (
		mu   sync.Mutex
		open []net.Conn
		wg   sync.WaitGroup
	)
	deadline := time.Now().Add(wait)
	for _, c := range conns {
		wg.Go(func() {
			_ = c.SetReadDeadline(deadline)
			_, err := io.Copy(io.Discard, c)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				mu.Lock()
				open = append(open, c)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return open
}

// readUntil reads from c until what it read ends with suffix ("" reads to
// the end), or timeout passes, and returns what it read.
func readUntil(c net.Conn, suffix string, timeout time.Duration) string {
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	var got []byte
	r := bufio.NewReader(c)
	for suffix == "" || !bytes.HasSuffix(got, []byte(suffix)) {
		b, err := r.ReadByte()
		if err != nil {
			break
		}
		got = append(got, b)
	}
	return string(got)
}

// raiseFileLimit raises the test process's soft limit on open files to at
// least n (up to the hard limit), or skips the test if it cannot.
func raiseFileLimit(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= n {
		return
	}
	if lim.Max < n {
		t.Skipf("open-file limit %d (hard %d) is below the %d this attack needs", lim.Cur, lim.Max, n)
	}
	old := lim.Cur
	lim.Cur = n
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		lim.Cur = old
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	})
}

// TestHostileWebPortVisitorsCountApart: requests the browser page's port
// passes on to the board (/status, /lines) count under each visitor's own
// address, not under 127.0.0.1 for all of them (whose limits one visitor
// could then use up): 40 visitors at once, each from an address of their
// own, are all answered.
func TestHostileWebPortVisitorsCountApart(t *testing.T) {
	b := startBoard(t, boardOptions{web: true})
	const visitors = 40
	codes := make([]int, visitors)
	var wg sync.WaitGroup
	for i := range visitors {
		wg.Go(func() {
			local := net.ParseIP("127.0.0.10").To4()
			local[3] += byte(i)
			client := &http.Client{Timeout: readTimeout, Transport: &http.Transport{
				DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: local}}).DialContext,
			}}
			resp, err := client.Get("http://" + b.webAddr + dispatch.StatusPath)
			if err != nil {
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		})
	}
	wg.Wait()
	for i, code := range codes {
		if code != http.StatusOK {
			t.Errorf("visitor %d got %d for %s through the page's port, want 200", i, code, dispatch.StatusPath)
		}
	}
}
