package main

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/m2bbs/m2bbs/cmd/m2bbs-bench/internal/loadgen"
)

// originalDir is where Debian's mongrel2-core installs the original
// M2BBS (Mongrel2's examples/bbs, 2010). The project carries no copy of
// it: the original step copies the files from there at run time.
const originalDir = "/usr/share/doc/mongrel2-core/examples/bbs"

// backlogTimeout bounds each wait of a seeding or checking visit at the
// default bcrypt cost, where a hundred registrations queue behind one
// another.
const backlogTimeout = time.Minute

// defaultCost is m2bbs's bcrypt cost when -bcrypt-cost is not given.
const defaultCost = 10

// originalFiles are the original's scripts m2bbs runs, as they are; its
// db.lua (Redis) is left out, m2bbs's own db module takes its place.
var originalFiles = []string{"bbs.lua", "ui.lua", "engine.lua", "strict.lua", "config.lua"}

// originalWorkload is one of the original's two workloads, with the
// figures the original M2BBS reached on it.
type originalWorkload struct {
	key, title string
	// single says one caller plays it (else -original-callers).
	single    bool
	returning bool
	// rtps and p99 are the original's round trips/s and p99 (0: not
	// known); target is the ratio to reach at the load runs' cost.
	rtps   float64
	p99    time.Duration
	target float64
}

// The original M2BBS (C Lua 5.1 + lua-zmq + Redis 7 behind Mongrel2
// 1.12), measured on this machine class (2 cores) with this load
// generator: issue 14's table.
var originalWorkloads = []originalWorkload{
	{key: "new-user", title: "new-user visits (13 round trips each)", rtps: 6616, target: 2},
	{key: "returning", title: "returning users (log in once, then read messages)", returning: true, rtps: 4802, target: 5},
	{key: "new-user-1", title: "new-user visits", single: true, rtps: 2945, p99: 860 * time.Microsecond},
}

// originalCallers is how many callers play the workload; the original's
// figures are for 100.
const originalCallers = 100

// callers is how many callers play w.
func (o *benchOptions) callersOf(w originalWorkload) int {
	if w.single {
		return 1
	}
	return o.originalCallers
}

// originalKey is the table's key of a workload's runs at a bcrypt cost.
func originalKey(w originalWorkload, cost int) string {
	return fmt.Sprintf("original/%s/%d", w.key, cost)
}

// errNoOriginal says the original's files are not installed.
var errNoOriginal = errors.New("the original board's files are not installed")

// prepareOriginal copies the original's scripts, unchanged, into a
// folder of the bench's, unzipping what is gzipped, and reads ui.lua's
// texts. The board has no screens folder: the original keeps its texts
// in ui.lua.
func (o *benchOptions) prepareOriginal() (boardSpec, loadgen.OriginalTexts, error) {
	dir, err := os.MkdirTemp(o.tmp, "original-")
	if err != nil {
		return boardSpec{}, nil, err
	}
	spec := boardSpec{scripts: filepath.Join(dir, "scripts"), screens: filepath.Join(dir, "screens"), main: "bbs.lua"}
	if err := os.Mkdir(spec.scripts, 0o755); err != nil {
		return boardSpec{}, nil, err
	}
	files := map[string][]byte{}
	for _, name := range originalFiles {
		b, err := readMaybeGzipped(filepath.Join(o.original, name))
		if err != nil {
			return boardSpec{}, nil, err
		}
		files[name] = b
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(spec.scripts, name), b, 0o644); err != nil {
			return boardSpec{}, nil, err
		}
	}
	texts, err := loadgen.ParseOriginalTexts(string(files["ui.lua"]))
	if err != nil {
		return boardSpec{}, nil, err
	}
	return spec, texts, nil
}

// readMaybeGzipped reads path, or path.gz unzipped; errNoOriginal if
// neither exists.
func readMaybeGzipped(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return b, err
	}
	f, err := os.Open(path + ".gz")
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: no %s nor %s.gz", errNoOriginal, path, path)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s.gz: %w", path, err)
	}
	return io.ReadAll(io.LimitReader(zr, 1<<20))
}

// originalRuns runs the original's workloads against m2bbs running the
// original scripts: -runs runs at the load runs' bcrypt cost and
// -default-cost-runs at the default cost, the workloads alternating.
func (o *benchOptions) originalRuns(ctx context.Context, t *benchTable) error {
	spec, texts, err := o.prepareOriginal()
	if errors.Is(err, errNoOriginal) {
		t.originalSkipped = err.Error()
		o.progress("original: skipped: %v", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("bench: original: %w", err)
	}
	for _, cost := range []int{o.bcryptCost, defaultCost} {
		runs := o.runs
		if cost != o.bcryptCost {
			runs = o.defaultCostRuns
		}
		spec.bcryptCost = cost
		for run := range runs {
			for _, w := range originalWorkloads {
				warmup := o.warmup
				if w.returning {
					// The returning users all log in at the start: the
					// window opens once their hashes are done.
					warmup += time.Duration(o.callersOf(w)) * t.hashCPU[cost] / time.Duration(runtime.NumCPU())
				}
				r, err := o.originalOnce(ctx, spec, texts, w, warmup)
				if err != nil {
					return err
				}
				o.progress("original run %d/%d, bcrypt cost %d: %s, %d callers: %s", run+1, runs, cost, w.title, o.callersOf(w), r)
				t.addLoad(originalKey(w, cost), handlerBoard, r)
			}
		}
	}
	return nil
}

// originalOnce starts m2bbs on the original scripts behind the built-in
// front end and plays one workload against it, measuring after warmup.
func (o *benchOptions) originalOnce(ctx context.Context, spec boardSpec, texts loadgen.OriginalTexts, w originalWorkload, warmup time.Duration) (r loadRun, err error) {
	sys, err := o.startRun(ctx, frontBuiltIn, handlerBoard, spec, "")
	if err != nil {
		return r, err
	}
	defer func() { err = errors.Join(err, sys.stopErr()) }()

	var (
		posts  postTally
		seeded int
	)
	scripts := func(caller, visit int) loadgen.Script {
		return loadgen.NewUserVisit(texts, "nu"+strconv.Itoa(caller)+"-"+strconv.Itoa(visit))
	}
	if w.returning {
		if seeded, err = o.seedOriginal(ctx, sys.addr, texts, o.callersOf(w)); err != nil {
			return r, err
		}
		scripts = func(caller, _ int) loadgen.Script {
			return loadgen.ReturningVisit(texts, "caller"+strconv.Itoa(caller), o.originalReads)
		}
	}
	timeout := time.Duration(0)
	if spec.bcryptCost > o.bcryptCost {
		// A hundred callers queue behind slow hashes: their waits are the
		// figures, not failures.
		timeout = backlogTimeout
	}
	r, err = o.measure(ctx, sys, loadgen.Config{
		Callers: o.callersOf(w), Scripts: scripts, Warmup: warmup, Ramp: o.warmup / 2, Timeout: timeout,
		OnVisit: func(s loadgen.Script, err error) {
			if v, ok := s.(*loadgen.OriginalScript); ok {
				posts.add(v.Posts, err != nil && v.PostPending())
			}
		},
	})
	if err != nil {
		return r, err
	}
	r.hashes = len(r.res.ByStep["password"])
	check := loadgen.ReturningVisit(texts, "checker", 1)
	check.New = true
	if err := loadgen.PlayWithin(ctx, sys.addr, false, check, backlogTimeout); err != nil {
		return r, fmt.Errorf("bench: original: checking the posts: %w", err)
	}
	r.lostPosts = posts.lost(seeded, check.BoardCount)
	return r, nil
}

// seedParallel is how many seeding visits run at once: few enough that
// hashes at the default cost do not queue past the host's resume budget
// on a loaded machine.
const seedParallel = 4

// seedOriginal registers the returning users (caller0 …) and has them
// leave at least -original-reads messages between them, seedParallel at
// a time; it returns the number of messages posted.
func (o *benchOptions) seedOriginal(ctx context.Context, addr string, texts loadgen.OriginalTexts, callers int) (int, error) {
	each := (o.originalReads + callers - 1) / callers
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		errs  []error
		total atomic.Int64
		slots = make(chan struct{}, seedParallel)
	)
	for i := range callers {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			v := loadgen.SeedVisit(texts, "caller"+strconv.Itoa(i), each)
			if err := loadgen.PlayWithin(ctx, addr, false, v, backlogTimeout); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			total.Add(int64(v.Posts))
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, fmt.Errorf("bench: original: seeding the returning users: %w", err)
	}
	return int(total.Load()), nil
}
