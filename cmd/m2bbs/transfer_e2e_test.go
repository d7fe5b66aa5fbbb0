package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/m2bbs/m2bbs/cmd/internal/proctest"
	"github.com/m2bbs/m2bbs/host/gateway/telnet"
)

// transferBoard is a board of one prompt for the transfer tests: S sends
// the file small, B the file big, R receives (and says what came: count,
// name, size, path), anything else asks again, Q hangs up.
const transferBoard = `require 'ui'
require 'transfer'
SMALL, BIG = %q, %q
function m2bbs(conn, req)
    req = ui.ask(conn, req, 'Command?')
    while true do
        local c = req.data.msg
        if c == 'S' or c == 'B' then
            local ok, info
            req, ok, info = transfer.send(conn, req, {c == 'S' and SMALL or BIG})
            local said = ok and ('sent ' .. info.sent) or tostring(info)
            req = ui.ask(conn, req, 'RESULT ' .. tostring(ok) .. ' ' .. said .. ' END\nCommand?')
        elseif c == 'R' then
            local files, info
            req, files, info = transfer.receive(conn, req)
            if files then
                local f = files[1]
                req = ui.ask(conn, req, ('RESULT true %%d %%s %%d %%s END'):format(#files, f.name, f.size, f.path) .. '\nCommand?')
            else
                req = ui.ask(conn, req, 'RESULT nil ' .. tostring(info) .. ' END\nCommand?')
            end
        elseif c == 'Q' then
            conn:reply_json(req, {type = 'exit', msg = 'Bye.'})
            return
        else
            req = ui.ask(conn, req, 'Command?')
        end
    end
end
`

// transferBBS is a running transfer board.
type transferBBS struct {
	logs                   *proctest.Log
	port, telnet, sshPort  int
	small, big             []byte
	dataDir, transfersRoot string
}

// needLrzsz skips a test without lrzsz, telling CI to install it.
func needLrzsz(t *testing.T) {
	t.Helper()
	for _, p := range []string{"sz", "rz"} {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("lrzsz missing (make deps installs it): %v", err)
			}
			t.Skip("lrzsz missing (make deps installs it)")
		}
	}
}

// randomBytes returns n random bytes that begin with the bytes careless
// paths break: IAC, CR NUL, CR LF, ZMODEM's CAN.
func randomBytes(n int) []byte {
	p := make([]byte, n)
	_, _ = rand.Read(p)
	copy(p, "\xff\xff\r\x00\r\n\x18\xff\r")
	return p
}

// startTransferBBS starts "m2bbs run" with telnet and SSH (behind real
// Mongrel2 with mongrel2 set) and the transfer board, its files small
// (200 KB) and big (bigSize).
func startTransferBBS(t *testing.T, mongrel2 bool, bigSize int) *transferBBS {
	t.Helper()
	needLrzsz(t)
	b := &transferBBS{small: randomBytes(200_000), big: randomBytes(bigSize)}
	dir := t.TempDir()
	files := filepath.Join(dir, "files")
	scripts := filepath.Join(dir, "scripts")
	for _, d := range []string{files, scripts} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	small, big := filepath.Join(files, "small.bin"), filepath.Join(files, "big.bin")
	for path, data := range map[string][]byte{small: b.small, big: b.big,
		filepath.Join(scripts, "bbs.lua"): []byte(fmt.Sprintf(transferBoard, small, big))} {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ports := freePorts(t, 3)
	b.port, b.telnet, b.sshPort = ports[0], ports[1], ports[2]
	b.dataDir = filepath.Join(dir, "data")
	args := []string{"run", "-port", fmt.Sprint(b.port), "-telnet-port", fmt.Sprint(b.telnet), "-ssh-port", fmt.Sprint(b.sshPort),
		"-web-port", "-1", "-data", b.dataDir, "-db", filepath.Join(b.dataDir, "bbs.db"), "-scripts", scripts, "-screens", "../../screens",
		"-bcrypt-cost", "4"}
	if mongrel2 {
		args = append(args, "-mongrel2")
	}
	b.logs = startM2BBS(t, args...)
	b.logs.WaitFor(t, 30*time.Second, "m2bbs is ready")
	b.logs.WaitFor(t, readTimeout, "ssh listening")
	b.transfersRoot = filepath.Join(b.dataDir, "transfers")
	return b
}

// leftFiles lists the regular files under the board's transfers folder.
func (b *transferBBS) leftFiles(t *testing.T) []string {
	t.Helper()
	var left []string
	_ = filepath.Walk(b.transfersRoot, func(path string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			left = append(left, path)
		}
		return nil
	})
	return left
}

// termCaller is a caller's terminal program: telnet (its own small codec,
// written from RFC 854 and 856, not the gateway's) or an SSH channel. The
// test reads its text, and joins an lrzsz program to its bytes for a
// transfer.
type termCaller struct {
	t      *testing.T
	w      io.Writer
	close  func()
	telnet bool

	mu        sync.Mutex // guards writes to w and ourBinary
	ourBinary bool       // we said WILL BINARY: our bytes go as they are

	data    chan []byte // the board's bytes, telnet taken out, in order
	pending []byte      // read from data and not used yet
}

// dialTelnetCaller calls the board's telnet port.
func dialTelnetCaller(t *testing.T, port int) *termCaller {
	t.Helper()
	nc, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	c := &termCaller{t: t, w: nc, close: func() { nc.Close() }, telnet: true, data: make(chan []byte, 256)}
	t.Cleanup(c.close)
	go c.readTelnet(nc)
	return c
}

// dialSSHCaller calls the board's SSH port as the user new, on an ANSI pty.
func dialSSHCaller(t *testing.T, port int) *termCaller {
	t.Helper()
	cfg := &ssh.ClientConfig{User: "new", Auth: []ssh.AuthMethod{ssh.Password("")}, HostKeyCallback: ssh.InsecureIgnoreHostKey()}
	client, err := ssh.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), cfg)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("ansi", 24, 80, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	in, _ := sess.StdinPipe()
	out, _ := sess.StdoutPipe()
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	c := &termCaller{t: t, w: in, close: func() { client.Close() }, data: make(chan []byte, 256)}
	t.Cleanup(c.close)
	go func() {
		defer close(c.data)
		for {
			buf := make([]byte, 8192)
			n, err := out.Read(buf)
			if n > 0 {
				c.data <- buf[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	return c
}

// readTelnet decodes the board's telnet stream: IAC IAC is one 0xff, CR
// NUL a CR until the board's BINARY is on, negotiation answered (ECHO,
// SUPPRESS-GO-AHEAD and BINARY accepted, the rest refused), other
// commands and subnegotiations dropped.
func (c *termCaller) readTelnet(nc net.Conn) {
	defer close(c.data)
	const (
		data = iota
		cr
		iac
		verb
		sb
		sbIAC
	)
	state, pendingVerb, theirBinary := data, byte(0), false
	buf := make([]byte, 8192)
	for {
		n, err := nc.Read(buf)
		var out []byte
		for _, b := range buf[:n] {
			switch state {
			case data, cr:
				afterCR := state == cr
				state = data
				switch {
				case b == 255:
					state = iac
				case b == 0 && afterCR && !theirBinary:
				default:
					out = append(out, b)
					if b == '\r' {
						state = cr
					}
				}
			case iac:
				state = data
				switch b {
				case 255:
					out = append(out, 255)
				case 251, 252, 253, 254:
					pendingVerb, state = b, verb
				case 250:
					state = sb
				}
			case verb:
				state = data
				theirBinary = c.negotiate(pendingVerb, b, theirBinary)
			case sb:
				if b == 255 {
					state = sbIAC
				}
			case sbIAC:
				state = sb
				if b == 240 {
					state = data
				}
			}
		}
		if len(out) > 0 {
			c.data <- out
		}
		if err != nil {
			return
		}
	}
}

// negotiate answers the board's verb for option and returns whether the
// board's BINARY is now on.
func (c *termCaller) negotiate(verb, option byte, theirBinary bool) bool {
	const will, wont, do, dont = 251, 252, 253, 254
	accepted := option == 0 || option == 1 || option == 3
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case verb == will && accepted:
		if option == 0 && theirBinary {
			return true
		}
		_, _ = c.w.Write([]byte{255, do, option})
		return theirBinary || option == 0
	case verb == will:
		_, _ = c.w.Write([]byte{255, dont, option})
	case verb == do && (option == 0 || option == 3):
		if option == 0 && c.ourBinary {
			return theirBinary
		}
		_, _ = c.w.Write([]byte{255, will, option})
		if option == 0 {
			c.ourBinary = true
		}
	case verb == do:
		_, _ = c.w.Write([]byte{255, wont, option})
	case verb == wont && option == 0:
		return false
	}
	return theirBinary
}

// writeData sends p as the caller's data: over telnet with IAC doubled,
// and CR as CR NUL until we said WILL BINARY.
func (c *termCaller) writeData(p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.telnet {
		_, err := c.w.Write(p)
		return err
	}
	out := make([]byte, 0, len(p)+len(p)/64)
	for _, b := range p {
		switch {
		case b == 255:
			out = append(out, 255, 255)
		case b == '\r' && !c.ourBinary:
			out = append(out, '\r', 0)
		default:
			out = append(out, b)
		}
	}
	_, err := c.w.Write(out)
	return err
}

// send types line and Enter.
func (c *termCaller) send(line string) {
	c.t.Helper()
	if err := c.writeData([]byte(line + "\r")); err != nil {
		c.t.Fatal(err)
	}
}

// expect waits for mark in the board's text and returns the text up to
// its end; what follows stays for the next read.
func (c *termCaller) expect(mark string) string {
	c.t.Helper()
	timeout := time.NewTimer(2 * readTimeout)
	defer timeout.Stop()
	for {
		if i := bytes.Index(c.pending, []byte(mark)); i >= 0 {
			got := string(c.pending[:i+len(mark)])
			c.pending = c.pending[i+len(mark):]
			return got
		}
		select {
		case p, ok := <-c.data:
			if !ok {
				c.t.Fatalf("the call ended waiting for %q; got %q", mark, c.pending)
			}
			c.pending = append(c.pending, p...)
		case <-timeout.C:
			c.t.Fatalf("waiting for %q; got %q", mark, c.pending)
		}
	}
}

// lrzsz runs an lrzsz program (args) in dir joined to the caller's bytes
// until it exits, and returns its error. What the board sends after the
// program has gone stays for expect.
func (c *termCaller) lrzsz(dir string, args ...string) error {
	c.t.Helper()
	return c.lrzszUntil(dir, 0, false, args...)
}

// lrzszUntil is lrzsz, with a stop once stopAfter bytes went either way
// (0: never): the program is killed and the caller presses Ctrl-X
// several times, or, with hangUp, hangs up. The board's text after the
// transfer (boardTextAt) never reaches the program: a program the
// board refused would read it.
func (c *termCaller) lrzszUntil(dir string, stopAfter int, hangUp bool, args ...string) error {
	c.t.Helper()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	exited := make(chan struct{})
	stopped := make(chan struct{}) // the caller pressed Ctrl-C: the program reads no more
	fed := make(chan struct{})
	var moved atomic.Int64 // bytes both ways
	var stopping sync.Once
	count := func(n int) {
		if stopAfter == 0 || moved.Add(int64(n)) < int64(stopAfter) {
			return
		}
		stopping.Do(func() {
			close(stopped)
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			if hangUp {
				c.close()
				return
			}
			// The person presses Ctrl-X five times (and more) in their
			// terminal program, which is how ZMODEM is cancelled.
			_ = c.writeData([]byte(strings.Repeat("\x18", 8) + strings.Repeat("\b", 8)))
		})
	}
	go func() { // the program's output to the board
		buf := make([]byte, 8192)
		for {
			n, err := stdout.Read(buf)
			if n > 0 && c.writeData(buf[:n]) != nil {
				return
			}
			count(n)
			if err != nil {
				return
			}
		}
	}()
	go func() { // the board's bytes to the program
		defer close(fed)
		for {
			p := c.pending
			c.pending = nil
			if len(p) == 0 {
				var ok bool
				select {
				case p, ok = <-c.data:
					if !ok {
						return // the call ended
					}
				case <-exited:
					select {
					case <-stopped: // drain on below, to the board's RESULT
					default:
						return
					}
					p, ok = <-c.data
					if !ok {
						return
					}
				}
			}
			if i := boardTextAt(p); i >= 0 {
				// The board's program has ended: the program gets the
				// protocol's last bytes, then the end of its input, and
				// ends by itself (killed only if it hangs on).
				_, _ = stdin.Write(p[:i])
				_ = stdin.Close()
				c.pending = p[i:]
				time.AfterFunc(programEndGrace, func() {
					select {
					case <-exited:
					default:
						_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
					}
				})
				return
			}
			select {
			case <-stopped:
				continue // the program is killed: its terminal reads on and drops, as a terminal does
			default:
			}
			if _, err := stdin.Write(p); err != nil {
				c.pending = p // the program is gone: the text after is the board's
				return
			}
			count(len(p))
		}
	}()
	timer := time.AfterFunc(2*time.Minute, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	defer timer.Stop()
	err := cmd.Wait()
	close(exited)
	<-fed
	if err != nil {
		return fmt.Errorf("%s: %w: %s", args[0], err, stderr.String())
	}
	return nil
}

// programEndGrace is how long the caller's program may take to end
// after the board's program did (reading the protocol's last bytes).
const programEndGrace = 5 * time.Second

// boardTextAt is where the board's text after a transfer starts in p
// (its notice, or the test board's RESULT line), or -1.
func boardTextAt(p []byte) int {
	for _, mark := range []string{"Transfer done", "The transfer did not finish", "RESULT "} {
		if i := bytes.Index(p, []byte(mark)); i >= 0 {
			return i
		}
	}
	return -1
}

// result reads the board's RESULT line after a transfer.
func (c *termCaller) result() []string {
	c.t.Helper()
	c.expect("RESULT ")
	line := strings.TrimSuffix(c.expect(" END"), " END")
	c.expect("Command?")
	// The gateway drops what comes right after a transfer (the tail of
	// the caller's program) until the caller has been quiet this long: a
	// person is slower than that.
	time.Sleep(2 * telnet.AfterBinaryQuiet)
	return strings.Fields(line)
}

// downloadAndUpload: the caller's rz gets the board's file byte for byte,
// and the caller's sz's file reaches the board byte for byte, in a folder
// of the host's that goes when the call ends.
func downloadAndUpload(t *testing.T, b *transferBBS, c *termCaller) {
	c.expect("Command?")
	c.send("S")
	c.expect("download now")
	c.expect("\n")
	mine := t.TempDir()
	if err := c.lrzsz(mine, "rz", "-b"); err != nil {
		t.Fatalf("download: %v", err)
	}
	if r := c.result(); len(r) < 3 || r[0] != "true" || len(r[2]) < len(fmt.Sprint(len(b.small))) {
		t.Fatalf("the board says of the download: %q", r)
	}
	if got, err := os.ReadFile(filepath.Join(mine, "small.bin")); err != nil || !bytes.Equal(got, b.small) {
		t.Fatalf("the download is not the board's file (%d bytes, %v)", len(got), err)
	}

	up := randomBytes(150_000)
	if err := os.WriteFile(filepath.Join(mine, "up load.bin"), up, 0o644); err != nil {
		t.Fatal(err)
	}
	c.send("R")
	c.expect("upload now")
	c.expect("\n")
	if err := c.lrzsz(mine, "sz", "-b", "up load.bin"); err != nil {
		t.Fatalf("upload: %v", err)
	}
	r := c.result()
	if len(r) < 7 || r[0] != "true" || r[1] != "1" || r[2] != "up" || r[3] != "load.bin" || r[4] != fmt.Sprint(len(up)) || r[len(r)-1] != "load.bin" {
		t.Fatalf("the board says of the upload: %q", r)
	}
	path := strings.Join(r[5:], " ") // "up load.bin"
	if !strings.HasPrefix(path, b.transfersRoot) {
		t.Fatalf("the upload is at %s, not in the transfers folder %s", path, b.transfersRoot)
	}
	if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, up) {
		t.Fatalf("the upload is not the caller's file (%d bytes, %v)", len(got), err)
	}
	c.send("Q")
	c.expect("Bye.")
	b.logs.WaitFor(t, readTimeout, "transfer ended", "why=done")
	for deadline := time.Now().Add(readTimeout); len(b.leftFiles(t)) > 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after the call the transfers folder still holds %v", b.leftFiles(t))
		}
	}
}

// TestTransfersOverTelnetAndSSH: real sz and rz on both ends, over the
// telnet gateway (the codec's BINARY and IAC rules) and SSH, behind the
// built-in front end and real Mongrel2.
func TestTransfersOverTelnetAndSSH(t *testing.T) {
	for _, m2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("mongrel2=%v", m2), func(t *testing.T) {
			b := startTransferBBS(t, m2, 1000)
			t.Run("telnet", func(t *testing.T) { downloadAndUpload(t, b, dialTelnetCaller(t, b.telnet)) })
			t.Run("ssh", func(t *testing.T) { downloadAndUpload(t, b, dialSSHCaller(t, b.sshPort)) })
		})
	}
}

// TestCancelledAndRefusedTransfersLeaveNothing: an upload the caller
// cancels (Ctrl-X five times, as lrzsz's own cancel sends) ends with a
// failure and leaves nothing in the transfers folder while the caller is
// still online; an upload named ../../x is refused and writes nothing;
// a caller who hangs up mid-download has sz killed.
func TestCancelledAndRefusedTransfersLeaveNothing(t *testing.T) {
	b := startTransferBBS(t, false, 8<<20)
	c := dialTelnetCaller(t, b.telnet)
	c.expect("Command?")

	mine := t.TempDir()
	if err := os.WriteFile(filepath.Join(mine, "huge.bin"), randomBytes(16<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	c.send("R")
	c.expect("upload now")
	c.expect("\n")
	// With a window, as terminal programs send over telnet, so the
	// Ctrl-X is not queued behind megabytes in the sockets.
	_ = c.lrzszUntil(mine, 1<<20, false, "sz", "-b", "-w", "32768", "huge.bin")
	if r := c.result(); len(r) < 3 || r[0] != "nil" || r[2] != "cancelled" {
		t.Fatalf("the board says of the cancelled upload: %q", r)
	}
	if left := b.leftFiles(t); len(left) > 0 {
		t.Fatalf("a cancelled upload left %v", left)
	}

	deep := filepath.Join(mine, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mine, "x"), []byte("escape"), 0o644); err != nil {
		t.Fatal(err)
	}
	c.send("R")
	c.expect("upload now")
	c.expect("\n")
	_ = c.lrzszUntil(deep, 0, false, "sz", "-b", "--full-path", "../../x")
	if r := c.result(); len(r) < 2 || r[0] != "nil" {
		t.Fatalf("the board says of the upload named ../../x: %q", r)
	}
	if left := b.leftFiles(t); len(left) > 0 {
		t.Fatalf("the upload named ../../x left %v", left)
	}
	for _, dir := range []string{b.dataDir, filepath.Dir(b.dataDir), b.transfersRoot} {
		if _, err := os.Stat(filepath.Join(dir, "x")); err == nil {
			t.Fatalf("../../x was written in %s", dir)
		}
	}

	c.send("B")
	c.expect("download now")
	c.expect("\n")
	_ = c.lrzszUntil(mine, 64<<10, true, "rz", "-b", "-y")
	b.logs.WaitFor(t, readTimeout, "transfer ended", "why=cancelled")
}

// rawBinaryFlooder calls the board's port as a hostile classic client that
// claims a binary-capable terminal, starts an upload (R) and sends binary
// pieces as fast as its socket takes them, until the board hangs up or
// stop is closed; it returns how many pieces it sent.
func rawBinaryFlooder(t *testing.T, port int, stop <-chan struct{}) int {
	nc, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Error(err)
		return 0
	}
	defer nc.Close()
	go func() { _, _ = io.Copy(io.Discard, nc) }()
	term := `,"terminal":{"ansi":true,"keys":true,"bin":true}}` + "\x00"
	if _, err := io.WriteString(nc, `@bbs {"type":"msg","msg":"connect"`+term+`@bbs {"type":"msg","msg":"R"`+term); err != nil {
		t.Error(err)
		return 0
	}
	piece := []byte(`@bbs {"type":"bin","msg":"` + base64Of(randomBytes(2048)) + `"` + term)
	sent := 0
	for {
		select {
		case <-stop:
			return sent
		default:
		}
		_ = nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := nc.Write(piece); err != nil {
			return sent
		}
		sent++
	}
}

// TestABigTransferAndABinaryFloodSlowNoOtherCaller: while one caller
// downloads 8 MiB over telnet and another floods the host with binary
// pieces (past the gateways' pace, as a hostile client can), a third
// caller's menu answers within a second; the flooder is cut off, and the
// download arrives whole. A classic caller is told transfers need telnet
// or SSH.
func TestABigTransferAndABinaryFloodSlowNoOtherCaller(t *testing.T) {
	b := startTransferBBS(t, false, 8<<20)
	board := &bbs{addr: fmt.Sprintf("127.0.0.1:%d", b.port), logs: b.logs}
	other := board.call(t)
	arrive(t, other)
	if out := visit(t, other, "S"); !strings.Contains(out, "File transfers need telnet or SSH") {
		t.Fatalf("the classic caller asking for a download:\n%s", out)
	}

	stop := make(chan struct{})
	flooded := make(chan int, 1)
	go func() { flooded <- rawBinaryFlooder(t, b.port, stop) }()
	downloader := dialTelnetCaller(t, b.telnet)
	downloader.expect("Command?")
	downloader.send("B")
	downloader.expect("download now")
	downloader.expect("\n")
	mine := t.TempDir()
	downloaded := make(chan error, 1)
	began := time.Now()
	go func() { downloaded <- downloader.lrzsz(mine, "rz", "-b") }()

	var worst time.Duration
	var took time.Duration
	pace := time.NewTicker(200 * time.Millisecond) // within the board's line rate
	defer pace.Stop()
	for done := false; !done; {
		select {
		case err := <-downloaded:
			took = time.Since(began)
			if err != nil {
				t.Fatalf("the download: %v", err)
			}
			done = true
		case <-pace.C:
			start := time.Now()
			if out := visit(t, other, "Z"); !strings.Contains(out, "Command?") {
				t.Fatalf("the menu did not come back:\n%s", out)
			}
			worst = max(worst, time.Since(start))
		}
	}
	if r := downloader.result(); len(r) < 1 || r[0] != "true" {
		t.Fatalf("the board says of the download: %q", r)
	}
	if got, err := os.ReadFile(filepath.Join(mine, "big.bin")); err != nil || !bytes.Equal(got, b.big) {
		t.Fatalf("the 8 MiB download is not the board's file (%d bytes, %v)", len(got), err)
	}
	// The flood goes on until the board cuts it off (by the dispatch
	// queue's charge or the binary rate), however long the download took.
	b.logs.WaitFor(t, readTimeout, "flooded the board", "disconnecting")
	close(stop)
	pieces := <-flooded
	if worst >= time.Second {
		t.Errorf("a menu took %v during the download and the flood", worst)
	}
	t.Logf("8 MiB downloaded over telnet in %v (%.0f KiB/s); slowest menu round trip meanwhile %v; the flooder sent %d pieces",
		took.Round(time.Millisecond), float64(len(b.big))/1024/took.Seconds(), worst, pieces)
}

func base64Of(p []byte) string { return base64.StdEncoding.EncodeToString(p) }
