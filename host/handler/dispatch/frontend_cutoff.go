package dispatch

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"time"
)

// Which journals can still belong to a live call. A journal is keyed by a
// conn id, and a conn id names a caller of one front-end process only; a
// front end that started after a journal was last written numbered its
// callers afresh, so that journal's caller is gone and its conn id may be
// someone else's. The host cannot always hear a front end go (it may have
// been down itself, as after a reboot, when Mongrel2 and m2bbs host start
// again as separate services), so at start, and whenever it hears one go,
// it drops every journal last written before the latest of:
//
//   - Config.DropJournalsBefore (set by whoever started the front end);
//   - the machine's boot (Linux's /proc/stat btime; elsewhere nothing):
//     no connection outlives a reboot; unless the front end is on
//     another machine (Config.FrontEndElsewhere), whose callers a reboot
//     of this one does not end: with hosts on several machines, a host
//     rebooted must not drop the journals of the other hosts' callers;
//   - Config.FrontEndPIDFile's modification time: Mongrel2 writes its pid
//     file when it starts.

// procStat is where Linux tells the boot time.
const procStat = "/proc/stat"

// journalCutoff is the time before which no journal can belong to a live
// call, or the zero time when nothing tells.
func (h *Host) journalCutoff(also time.Time) time.Time {
	boot := time.Time{}
	if !h.cfg.FrontEndElsewhere {
		boot = bootTime(procStat)
	}
	return latest(also, h.cfg.DropJournalsBefore, boot, pidFileTime(h.cfg.FrontEndPIDFile))
}

// latest is the latest of ts (the zero time if all are zero).
func latest(ts ...time.Time) time.Time {
	var max time.Time
	for _, t := range ts {
		if t.After(max) {
			max = t
		}
	}
	return max
}

// bootTime reads the machine's boot time from a /proc/stat file at path;
// the zero time if there is none (not Linux) or it cannot be read.
func bootTime(path string) time.Time {
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}
	}
	defer f.Close()
	sc := bufio.NewScanner(f) // lines of /proc/stat fit its 64 KiB buffer
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "btime ")
		if !ok {
			continue
		}
		secs, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 64)
		if err != nil || secs <= 0 {
			return time.Time{}
		}
		return time.Unix(secs, 0)
	}
	return time.Time{}
}

// pidFileTime is when the front end whose pid file is path started (the
// file's modification time); the zero time if path is empty or missing.
func pidFileTime(path string) time.Time {
	if path == "" {
		return time.Time{}
	}
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return time.Time{}
	}
	return fi.ModTime()
}
