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

// PickN returns n ports as Pick does, no two the same and none in
// exclude (ports the caller holds already): each port Pick returns was
// free a moment ago, and nothing stops it returning one twice.
func PickN(n int, exclude ...int) ([]int, error) { return pickN(n, exclude, Pick) }

// maxPickTries bounds pickN's calls of pick per port.
const maxPickTries = 64

// pickN is PickN with pick in place of Pick.
func pickN(n int, exclude []int, pick func() (int, error)) ([]int, error) {
	taken := make(map[int]bool, n+len(exclude))
	for _, p := range exclude {
		taken[p] = true
	}
	ports := make([]int, 0, n)
	for len(ports) < n {
		port, err := distinct(taken, pick)
		if err != nil {
			return nil, err
		}
		taken[port] = true
		ports = append(ports, port)
	}
	return ports, nil
}

// distinct calls pick until it returns a port not in taken.
func distinct(taken map[int]bool, pick func() (int, error)) (int, error) {
	for range maxPickTries {
		port, err := pick()
		if err != nil {
			return 0, err
		}
		if !taken[port] {
			return port, nil
		}
	}
	return 0, fmt.Errorf("free port: %d picks in a row were ports already taken", maxPickTries)
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
