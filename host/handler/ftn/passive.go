package ftn

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/m2bbs/m2bbs/host/ftn/pkt"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// Passive is the FTN side as a process sees it that does not run the
// Service (phone lines other than line 1; the sysop's commands): the
// settings, the store's counters, binkd's state from its pid file, and
// polls with a binkd of their own.
type Passive struct {
	Settings *Settings
	Store    store.FTN
	Log      *slog.Logger
}

// Status implements the Lua module's FTNHost.
func (p *Passive) Status(ctx context.Context) Status {
	st := ReadStatus(ctx, p.Settings, p.Store)
	st.Binkd = BinkdFromPIDFile(p.Settings)
	return st
}

// EchoList returns the echoes of the settings.
func (p *Passive) EchoList() []Echo { return append([]Echo(nil), p.Settings.Echoes...) }

// RequestPoll polls uplink a (every uplink for the zero address) in the
// background, each poll bounded by PollTimeout.
func (p *Passive) RequestPoll(a pkt.Addr) bool {
	go func() {
		for _, u := range p.Settings.Uplinks {
			if a != (pkt.Addr{}) && u.Addr != a {
				continue
			}
			if err := Poll(context.Background(), p.Settings, u.Addr); err != nil {
				p.Log.Warn("ftn: poll", "uplink", u.Addr.String(), "err", err)
			}
		}
	}()
	return true
}

// BinkdFromPIDFile reports whether the binkd of the FTN folder runs, from
// its pid file (a live process called binkd).
func BinkdFromPIDFile(s *Settings) *BinkdState {
	st := &BinkdState{Port: s.BinkdPort}
	b, err := os.ReadFile(s.binkdPIDPath())
	if err != nil {
		return st
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || syscall.Kill(pid, 0) != nil {
		return st
	}
	comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	if err == nil && strings.TrimSpace(string(comm)) == filepath.Base(s.Binkd) {
		st.Running, st.PID = true, pid
	}
	return st
}
