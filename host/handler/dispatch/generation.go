package dispatch

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/screens"
	"github.com/m2bbs/m2bbs/host/handler/session"
)

// generation is one version of the scripts and screens, loaded into a set
// of workers.
type generation struct {
	version  int
	loadedAt time.Time
	screens  *screens.Snapshot
	workers  []*worker
}

// load reads the screens and starts a generation of workers on the
// scripts as they are now. Nothing of it runs until startWorkers.
func (h *Host) load() (*generation, error) {
	snap, err := screens.Load(h.cfg.ScreensDir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(h.cfg.ScreensDir); errors.Is(err, fs.ErrNotExist) {
		h.log.Info("no screens folder: the scripts keep their texts themselves (as the 2010 board's ui.lua does)", "screens", h.cfg.ScreensDir)
	}
	gen := &generation{version: h.versions + 1, loadedAt: time.Now(), screens: snap}
	cfg := h.cfg.Session
	cfg.Version = gen.version
	for range h.cfg.Workers {
		queue := h.cfg.WorkerQueue
		if queue <= 0 {
			queue = DefaultWorkerQueue
		}
		w := &worker{
			gen: gen, inbox: make(chan func(), queue), wake: make(chan struct{}, 1),
			results: make(chan func(), workerResults), exited: make(chan struct{}),
		}
		table, err := session.New(cfg, session.Deps{
			Replier: replier{h},
			Screens: snap,
			Store:   h.deps.Store,
			Log:     h.log,
			Online:  h.online,
			Who:     h.who,
			OnLogin: h.loggedIn,
			HungUp:  h.hungUp,
			Watch:   luaWatch{h},

			Background: h.background(w),
			Channels:   h.live,
			Nodes:      h.nodes,
			Doors:      h.doors,
			Post:       h.post(w),
			Transfers:  h.transfers,
		})
		if err != nil {
			for _, w := range gen.workers {
				w.table.Close()
			}
			return nil, err
		}
		w.table = table
		gen.workers = append(gen.workers, w)
	}
	h.versions = gen.version
	return gen, nil
}

// leastBusy is the worker with the fewest callers (caller holds Host.mu).
func (g *generation) leastBusy() *worker {
	best := g.workers[0]
	for _, w := range g.workers[1:] {
		if w.owned < best.owned {
			best = w
		}
	}
	return best
}

// install makes gen the generation new callers start on and retires the
// previous one (caller holds Host.mu).
func (h *Host) install(ctx context.Context, gen *generation) {
	old := h.current
	h.current = gen
	h.startWorkers(ctx, gen)
	for _, w := range old.workers {
		w.retired = true
		// Wake the worker so that an idle one notices it is done.
		select {
		case w.inbox <- func() {}:
		default:
		}
	}
	h.retired = append(h.retired, old)
}
