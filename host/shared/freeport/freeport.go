// Package freeport picks TCP ports for servers a process is about to
// start (Mongrel2, a test's board), where the port must be chosen before
// the server binds it.
package freeport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// Pick returns a TCP port that was free a moment ago on every
// address. It is picked at random below the kernel's ephemeral range,
// where outgoing connections never take it between this call and the
// caller's bind (a port from ":0" is one of theirs, and a busy test run
// opens thousands); the ephemeral range is the fallback.
func Pick() (int, error) {
	low := ephemeralLow()
	for range 64 {
		port := 10_000 + rand.IntN(max(low-10_000, 1))
		if port >= low {
			break
		}
		l, err := net.Listen("tcp", fmt.Sprintf(":%d", port))
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// default when it cannot be read).
func ephemeralLow() int {
	const linuxDefault = 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return linuxDefault
	}
	fields := strings.Fields(string(b))
	if len(fields) == 0 {
		return linuxDefault
	}
	low, err := strconv.Atoi(fields[0])
	if err != nil {
		return linuxDefault
	}
	return low
}
