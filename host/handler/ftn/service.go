package ftn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/m2bbs/m2bbs/host/ftn/pkt"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// Status is the FTN side of the board as /status and "m2bbs ftn status"
// show it.
type Status struct {
	Addresses []string         `json:"addresses"`
	Uplinks   []UplinkStatus   `json:"uplinks"`
	Echoes    int              `json:"echoes"`
	Binkd     *BinkdState      `json:"binkd,omitempty"`
	Counters  map[string]int64 `json:"counters"`
	LastToss  *RunStatus       `json:"last_toss,omitempty"`
	LastScan  *RunStatus       `json:"last_scan,omitempty"`
}

// UplinkStatus is an uplink as status shows it (no passwords).
type UplinkStatus struct {
	Address  string    `json:"address"`
	Host     string    `json:"host"`
	Port     int       `json:"port"`
	Waiting  int       `json:"waiting"` // packets in its outbound
	LastPoll time.Time `json:"last_poll,omitempty"`
	PollErr  string    `json:"poll_error,omitempty"`
}

// RunStatus is when a toss or scan last ran and what it did.
type RunStatus struct {
	At     time.Time `json:"at"`
	Result string    `json:"result"`
}

// Service runs the FTN side of a board: binkd supervised, the inbound
// tossed and new mail scanned every Interval, uplinks polled every
// PollEvery and on demand.
type Service struct {
	Settings *Settings
	Store    store.FTN
	Log      *slog.Logger
	// Areas, if set, is where the echoes' local areas are created when
	// they do not exist yet.
	Areas AreaDefiner
	// NoBinkd runs without a supervised binkd (tests, or a sysop whose
	// mailer is run otherwise).
	NoBinkd bool

	binkd *Supervisor
	poll  chan pkt.Addr

	mu       sync.Mutex
	lastToss *RunStatus
	lastScan *RunStatus
	lastPoll map[pkt.Addr]RunStatus
}

// AreaDefiner creates message areas (store.Boards has it).
type AreaDefiner interface {
	Area(ctx context.Context, name string) (store.Area, error)
	DefineArea(ctx context.Context, name, description string) (store.Area, error)
}

// Run serves until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	s.init()
	if err := s.defineAreas(ctx); err != nil {
		return err
	}
	var wg sync.WaitGroup
	if s.binkd != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.binkd.Run(ctx); err != nil {
				s.Log.Error("ftn: binkd supervision stopped", "err", err)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.pollLoop(ctx)
	}()
	tick := time.NewTicker(s.Settings.Interval)
	defer tick.Stop()
	var pruned time.Time
	for {
		if time.Since(pruned) > 24*time.Hour {
			s.pruneDupes(ctx)
			pruned = time.Now()
		}
		s.TossAndScan(ctx)
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case <-tick.C:
		}
	}
}

// DupeMemory is how long a message's duplicate key is kept: a copy
// delivered again later than that is tossed again.
const DupeMemory = 180 * 24 * time.Hour

// pruneDupes forgets duplicate keys older than DupeMemory.
func (s *Service) pruneDupes(ctx context.Context) {
	n, err := s.Store.PruneFTNDupes(ctx, time.Now().Add(-DupeMemory))
	if err != nil {
		s.Log.Error("ftn: pruning duplicate keys", "err", err)
	} else if n > 0 {
		s.Log.Info("ftn: old duplicate keys forgotten", "count", n)
	}
}

// init prepares the service's parts once.
func (s *Service) init() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.poll != nil {
		return
	}
	s.poll = make(chan pkt.Addr, MaxUplinks)
	s.lastPoll = make(map[pkt.Addr]RunStatus)
	if !s.NoBinkd {
		s.binkd = &Supervisor{Settings: s.Settings, Log: s.Log}
	}
}

// TossAndScan tosses the inbound, then scans for new mail, holding the
// FTN folder's lock (so "m2bbs ftn toss" at the same time waits).
func (s *Service) TossAndScan(ctx context.Context) {
	err := WithLock(ctx, s.Settings, func() error {
		tr, terr := (&Tosser{Settings: s.Settings, Store: s.Store, Log: s.Log}).Toss(ctx)
		sr, serr := (&Scanner{Settings: s.Settings, Store: s.Store, Log: s.Log}).Scan(ctx)
		now := time.Now().UTC()
		s.mu.Lock()
		s.lastToss = &RunStatus{At: now, Result: resultText(fmt.Sprintf("%d files, %d tossed, %d dupes, %d bad, %d refused", tr.Files, tr.Tossed, tr.Dupes, tr.Bad, tr.Refused), terr)}
		s.lastScan = &RunStatus{At: now, Result: resultText(fmt.Sprintf("%d posts, %d netmail, %d packets", sr.Posts, sr.Netmail, sr.Packets), serr)}
		s.mu.Unlock()
		return errors.Join(terr, serr)
	})
	if err != nil && ctx.Err() == nil {
		s.Log.Error("ftn: toss and scan", "err", err)
	}
}

// resultText is a run's summary, or its error.
func resultText(summary string, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return summary
}

// RequestPoll asks the service to poll uplink a (every uplink when a is
// the zero address) soon; false if the queue is full.
func (s *Service) RequestPoll(a pkt.Addr) bool {
	s.init()
	select {
	case s.poll <- a:
		return true
	default:
		return false
	}
}

// pollLoop polls on schedule and on request, one poll at a time.
func (s *Service) pollLoop(ctx context.Context) {
	var tick <-chan time.Time
	if s.Settings.PollEvery > 0 {
		t := time.NewTicker(s.Settings.PollEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		var target pkt.Addr
		select {
		case <-ctx.Done():
			return
		case <-tick:
		case target = <-s.poll:
		}
		for _, u := range s.Settings.Uplinks {
			if target != (pkt.Addr{}) && u.Addr != target {
				continue
			}
			err := Poll(ctx, s.Settings, u.Addr)
			s.mu.Lock()
			s.lastPoll[u.Addr] = RunStatus{At: time.Now().UTC(), Result: resultText("ok", err)}
			s.mu.Unlock()
			if err != nil && ctx.Err() == nil {
				s.Log.Warn("ftn: poll", "uplink", u.Addr.String(), "err", err)
			}
		}
	}
}

// Status returns the FTN side's state.
func (s *Service) Status(ctx context.Context) Status {
	s.init()
	st := ReadStatus(ctx, s.Settings, s.Store)
	if s.binkd != nil {
		b := s.binkd.State()
		st.Binkd = &b
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st.LastToss, st.LastScan = s.lastToss, s.lastScan
	for i := range st.Uplinks {
		a, _ := pkt.ParseAddr(st.Uplinks[i].Address)
		if p, ok := s.lastPoll[a]; ok {
			st.Uplinks[i].LastPoll = p.At
			if p.Result != "ok" {
				st.Uplinks[i].PollErr = p.Result
			}
		}
	}
	return st
}

// ReadStatus is the status that needs no running service: settings,
// counters and outbound.
func ReadStatus(ctx context.Context, set *Settings, st store.FTN) Status {
	out := Status{Echoes: len(set.Echoes)}
	for _, a := range set.Addresses {
		out.Addresses = append(out.Addresses, a.String())
	}
	for _, u := range set.Uplinks {
		out.Uplinks = append(out.Uplinks, UplinkStatus{Address: u.Addr.String(), Host: u.Host, Port: u.Port, Waiting: len(set.OutboundFor(u.Addr))})
	}
	if c, err := st.FTNCounters(ctx); err == nil {
		out.Counters = c
	}
	return out
}

// MaxLockWait bounds how long WithLock waits for another process's toss
// or scan.
const MaxLockWait = 30 * time.Second

// WithLock runs fn holding the FTN folder's lock file (flock), so that one
// process at a time tosses and scans.
func WithLock(ctx context.Context, s *Settings, fn func() error) error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("ftn: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(s.Dir, "m2bbs.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("ftn: %w", err)
	}
	defer f.Close()
	deadline := time.Now().Add(MaxLockWait)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			return fmt.Errorf("ftn: another process is tossing or scanning (%s): %w", f.Name(), err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return fn()
}

// defineAreas is DefineEchoAreas for the service.
func (s *Service) defineAreas(ctx context.Context) error {
	if s.Areas == nil {
		return nil
	}
	return DefineEchoAreas(ctx, s.Settings, s.Areas, s.Store, s.Log)
}

// DefineEchoAreas creates the echoes' local areas that do not exist yet,
// and links them (store.FTN.LinkEchoes): posts written from now on go
// out.
func DefineEchoAreas(ctx context.Context, set *Settings, boards AreaDefiner, st store.FTN, log *slog.Logger) error {
	var areas []string
	for _, e := range set.Echoes {
		areas = append(areas, e.Area)
		_, err := boards.Area(ctx, e.Area)
		if errors.Is(err, store.ErrNoSuchArea) {
			_, err = boards.DefineArea(ctx, e.Area, "FidoNet echo "+e.Tag)
			if err == nil {
				log.Info("ftn: area created for an echo", "area", e.Area, "tag", e.Tag)
			}
		}
		if err != nil {
			return fmt.Errorf("ftn: echo %s's area %q: %w", e.Tag, e.Area, err)
		}
	}
	if err := st.LinkEchoes(ctx, areas); err != nil {
		return fmt.Errorf("ftn: linking the echoes' areas: %w", err)
	}
	return nil
}

// EchoList returns the echoes of the settings.
func (s *Service) EchoList() []Echo { return append([]Echo(nil), s.Settings.Echoes...) }
