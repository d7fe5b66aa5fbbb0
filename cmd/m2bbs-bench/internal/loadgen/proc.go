package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the CPU times in /proc/PID/stat: USER_HZ, 100 on
// every Linux architecture Go runs on (sysconf(_SC_CLK_TCK) needs cgo).
const userHZ = 100

// ErrNoProc is returned by ReadProc on a system without /proc.
var ErrNoProc = errors.New("loadgen: /proc not available")

// ProcStats are one process's resource figures at one moment.
type ProcStats struct {
	// CPU is the user and system time the process has used so far.
	CPU time.Duration
	// RSS is its resident set size in bytes.
	RSS uint64
}

// ReadProc reads the CPU time and resident memory of process pid from
// /proc (0 means this process).
func ReadProc(pid int) (ProcStats, error) {
	dir := "/proc/self"
	if pid > 0 {
		dir = "/proc/" + strconv.Itoa(pid)
	}
	stat, err := os.ReadFile(dir + "/stat")
	if errors.Is(err, os.ErrNotExist) && pid <= 0 {
		return ProcStats{}, ErrNoProc
	}
	if err != nil {
		return ProcStats{}, fmt.Errorf("loadgen: %w", err)
	}
	cpu, err := parseStatCPU(stat)
	if err != nil {
		return ProcStats{}, fmt.Errorf("loadgen: %s/stat: %w", dir, err)
	}
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return ProcStats{}, fmt.Errorf("loadgen: %w", err)
	}
	rss, err := parseStatusRSS(status)
	if err != nil {
		return ProcStats{}, fmt.Errorf("loadgen: %s/status: %w", dir, err)
	}
	return ProcStats{CPU: cpu, RSS: rss}, nil
}

// parseStatCPU reads utime + stime (fields 14 and 15) from /proc/PID/stat.
// The command name (field 2) is in parentheses and may hold spaces, so
// fields are counted from the last ')'.
func parseStatCPU(stat []byte) (time.Duration, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, errors.New("no command name")
	}
	fields := strings.Fields(string(stat[end+1:]))
	// fields[0] is field 3 (state); utime and stime are 14 and 15.
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return 0, fmt.Errorf("%d fields after the command name", len(fields))
	}
	var ticks uint64
	for _, f := range []string{fields[utime], fields[stime]} {
		n, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cpu time %q: %w", f, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// parseStatusRSS reads the VmRSS line of /proc/PID/status.
func parseStatusRSS(status []byte) (uint64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("VmRSS line %q", sc.Text())
		}
		kb, err := strconv.ParseUint(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmRSS %q: %w", f[0], err)
		}
		return kb << 10, nil
	}
	return 0, errors.New("no VmRSS line")
}
