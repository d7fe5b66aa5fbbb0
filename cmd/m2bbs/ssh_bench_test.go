package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/m2bbs/m2bbs/cmd/internal/proctest"
	"github.com/m2bbs/m2bbs/host/shared/freeport"
)

// idleCallers is how many callers BenchmarkIdleCallerMemory parks.
const idleCallers = 300

// BenchmarkIdleCallerMemory parks idleCallers callers at the board's
// first prompt over SSH, then over telnet, each on a fresh "m2bbs run",
// and reports the growth of the process's resident memory per caller
// (gateway, front end and host together). Run it once:
//
//	go test -tags libsqlite3 -run '^$' -bench IdleCallerMemory -benchtime 1x ./cmd/m2bbs/
func BenchmarkIdleCallerMemory(b *testing.B) {
	for _, kind := range []string{"ssh", "telnet"} {
		b.Run(kind, func(b *testing.B) {
			pid, addr := startMeasuredBBS(b, kind)
			before := residentKiB(b, pid)
			for range idleCallers {
				parkCaller(b, kind, addr)
			}
			after := residentKiB(b, pid)
			for b.Loop() {
			}
			b.ReportMetric(float64(after-before)/idleCallers, "KiB/caller")
		})
	}
}

// startMeasuredBBS starts "m2bbs run" with only the kind of gateway
// measured, no per-address limits, and returns its PID and the gateway's
// address.
func startMeasuredBBS(b *testing.B, kind string) (int, string) {
	b.Helper()
	ports := make([]int, 2)
	for i := range ports {
		p, err := freeport.Pick()
		if err != nil {
			b.Fatal(err)
		}
		ports[i] = p
	}
	sshPort, telnetPort := "-1", "-1"
	if kind == "ssh" {
		sshPort = strconv.Itoa(ports[1])
	} else {
		telnetPort = strconv.Itoa(ports[1])
	}
	dir := b.TempDir()
	args := append([]string{"run"}, e2eLimits...)
	args = append(args, "-port", strconv.Itoa(ports[0]), "-web-port", "-1", "-ssh-port", sshPort, "-telnet-port", telnetPort,
		"-data", dir, "-db", filepath.Join(dir, "bbs.db"), "-scripts", "../../scripts", "-screens", "../../screens",
		"-max-per-addr", "-1", "-accept-rate", "-1", "-first-frame-timeout", "-1s", "-log-level", "WARN")
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	logs := proctest.Start(b, "m2bbs run", cmd)
	logs.WaitFor(b, 30*time.Second, "m2bbs is ready")
	return cmd.Process.Pid, fmt.Sprintf("127.0.0.1:%d", ports[1])
}

// parkCaller calls addr and waits at the board's first prompt; the
// caller stays connected until the benchmark ends.
func parkCaller(b *testing.B, kind, addr string) {
	b.Helper()
	var out io.Reader
	if kind == "ssh" {
		client, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: "new", HostKeyCallback: ssh.InsecureIgnoreHostKey(), Timeout: readTimeout})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { client.Close() })
		sess, err := client.NewSession()
		if err != nil {
			b.Fatal(err)
		}
		if err := sess.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
			b.Fatal(err)
		}
		if _, err := sess.StdinPipe(); err != nil { // without it the client sends EOF: a hang-up
			b.Fatal(err)
		}
		if out, err = sess.StdoutPipe(); err != nil {
			b.Fatal(err)
		}
		if err := sess.Shell(); err != nil {
			b.Fatal(err)
		}
	} else {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { conn.Close() })
		_ = conn.SetReadDeadline(time.Now().Add(readTimeout))
		out = conn
	}
	r := bufio.NewReader(out)
	var seen []byte
	for !bytes.Contains(seen, []byte("What's your name?")) {
		c, err := r.ReadByte()
		if err != nil {
			b.Fatalf("%s caller: %v after %q", kind, err, seen)
		}
		seen = append(seen, c)
	}
}

// residentKiB is the resident memory of process pid (VmRSS).
func residentKiB(b *testing.B, pid int) int {
	b.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kib, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			if err != nil {
				b.Fatal(err)
			}
			return kib
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
