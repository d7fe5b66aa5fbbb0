package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/m2bbs/m2bbs/cmd/m2bbs-bench/internal/loadgen"
	"github.com/m2bbs/m2bbs/host/handler/dispatch"
	"github.com/m2bbs/m2bbs/host/handler/screens"
)

// echoRoundTrips is the length of an echo visit: about a board visit's
// (19 round trips and one per private message read).
const echoRoundTrips = 20

// benchOptions are the flags of "m2bbs-bench bench" and what it runs with.
type benchOptions struct {
	callers        int
	latencyCallers int
	think          time.Duration
	latencyWarmup  time.Duration
	warmup         time.Duration
	duration       time.Duration
	runs           int
	idle           []int
	idleRuns       int
	idleBudget     time.Duration
	active         time.Duration
	withMongrel2   bool
	mongrel2Idle   int // idle callers parked behind Mongrel2 (idle_mongrel2.go)
	bcryptCost     int
	workers        int
	scripts        string
	screens        string
	main           string
	cpuProfile     string
	profileRun     string
	micro          string
	// hostEnv is added to the environment of the host (and echo)
	// processes: GOGC=50, GOMEMLIMIT=900MiB.
	hostEnv []string
	// board is the m2bbs binary, started as front end and host; empty
	// until runBench finds it (-m2bbs, or m2bbs next to this program).
	board string

	exe    string   // this program, started as the echo floor
	env    []string // their environment
	tmp    string   // the bench's scratch folder
	texts  loadgen.Screens
	stdout io.Writer
	log    io.Writer
}

// runBench is "m2bbs-bench bench": the load suite of `make bench`. It
// starts the board (the m2bbs binary) and the echo floor (this program)
// behind the built-in front end and behind Mongrel2, each in processes of
// their own, plays callers against them, holds idle callers over a
// multiplexed ZeroMQ link, and prints one table of medians and ratios on
// standard output.
func runBench(ctx context.Context, args []string, stderr io.Writer) error {
	o, err := parseBenchFlags(args, stderr)
	if err != nil {
		return err
	}
	if o.exe, err = executable(); err != nil {
		return err
	}
	if o.board == "" {
		if o.board, err = findBoard(o.exe); err != nil {
			return err
		}
	}
	o.env = os.Environ()
	o.stdout, o.log = os.Stdout, stderr
	return o.bench(ctx)
}

func parseBenchFlags(args []string, stderr io.Writer) (*benchOptions, error) {
	o := &benchOptions{}
	fs := flag.NewFlagSet("m2bbs-bench bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.board, "m2bbs", "", "the m2bbs binary to measure, started as front end and host (default: m2bbs next to this program, else on $PATH)")
	fs.IntVar(&o.callers, "callers", 100, "active callers of the throughput runs (no think time)")
	fs.IntVar(&o.latencyCallers, "latency-callers", 1000, "callers of the latency run (0: skip it)")
	fs.DurationVar(&o.think, "think", time.Second, "mean pause before each answer in the latency run (uniform over ±50%)")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "load before each measuring window; callers start over its first half")
	fs.DurationVar(&o.latencyWarmup, "latency-warmup", 4*time.Second, "-warmup of the latency run (its callers log in slowly)")
	fs.DurationVar(&o.duration, "duration", 3*time.Second, "measuring window of each load run")
	fs.IntVar(&o.runs, "runs", 3, "runs of each load configuration (the table shows medians)")
	idle := fs.String("idle", "10000,100000", "idle callers to hold, in steps (empty: skip the scale test)")
	fs.IntVar(&o.idleRuns, "idle-runs", 1, "runs of the scale test")
	fs.DurationVar(&o.idleBudget, "idle-budget", 0, "longest the callers of one scale run may take to log in (0: no limit); a step cut short says so")
	fs.DurationVar(&o.active, "active", 3*time.Second, "how long one active caller is timed at each idle step")
	fs.BoolVar(&o.withMongrel2, "mongrel2", true, "also run behind a real Mongrel2")
	fs.IntVar(&o.mongrel2Idle, "mongrel2-idle", 0, "idle callers to park behind Mongrel2 sized for them (0: the first -idle step; -1: skip)")
	fs.IntVar(&o.bcryptCost, "bcrypt-cost", 4, "bcrypt cost of the board's passwords (4 keeps bcrypt from dominating; the default is 10)")
	fs.IntVar(&o.workers, "workers", 0, "the host's Lua workers (0: one per core)")
	fs.StringVar(&o.scripts, "scripts", "scripts", "folder of the board's Lua scripts")
	fs.StringVar(&o.screens, "screens", "screens", "folder of the board's screens")
	fs.StringVar(&o.main, "main", "bbs.lua", "the board's main script, relative to -scripts")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the host during the first built-in run of -profile-run to this file")
	fs.StringVar(&o.profileRun, "profile-run", "throughput", "the run -cpuprofile profiles: throughput or latency")
	fs.StringVar(&o.micro, "micro", "", "output of `go test -bench` to add to the table (medians per benchmark)")
	hostEnv := fs.String("host-env", "", "comma-separated NAME=VALUE settings for the host's environment, e.g. GOGC=50,GOMEMLIMIT=900MiB")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("bench: unexpected arguments %q", fs.Args())
	}
	for f := range strings.SplitSeq(*idle, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(strings.ReplaceAll(f, "_", ""))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bench: -idle: %q is not a number of callers", f)
		}
		o.idle = append(o.idle, n)
	}
	for kv := range strings.SplitSeq(*hostEnv, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		if name, _, ok := strings.Cut(kv, "="); !ok || name == "" {
			return nil, fmt.Errorf("bench: -host-env: %q is not NAME=VALUE", kv)
		}
		o.hostEnv = append(o.hostEnv, kv)
	}
	if o.profileRun != "throughput" && o.profileRun != "latency" {
		return nil, fmt.Errorf("bench: -profile-run %q: throughput or latency", o.profileRun)
	}
	if o.callers <= 0 || o.runs <= 0 || o.duration <= 0 {
		return nil, errors.New("bench: -callers, -runs and -duration must be positive")
	}
	return o, nil
}

// bench runs the suite and prints the table.
func (o *benchOptions) bench(ctx context.Context) error {
	started := time.Now()
	snap, err := screens.Load(o.screens)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	o.texts = snap
	if o.tmp, err = os.MkdirTemp("", "m2bbs-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(o.tmp)
	if o.cpuProfile != "" {
		if o.cpuProfile, err = filepath.Abs(o.cpuProfile); err != nil {
			return err
		}
	}

	t := newTable(o)
	fronts := []string{frontBuiltIn}
	if o.withMongrel2 {
		fronts = append(fronts, frontMongrel2)
	}
	// Runs alternate between the board and its floor, so that the
	// machine's drift affects both alike.
	for run := range o.runs {
		for _, front := range fronts {
			for _, handler := range []string{handlerBoard, handlerEcho} {
				profile := ""
				if run == 0 && front == frontBuiltIn && handler == handlerBoard && o.profileRun == "throughput" {
					profile = o.cpuProfile
				}
				r, err := o.loadOnce(ctx, front, handler, o.callers, 0, o.warmup, profile)
				if err != nil {
					return err
				}
				o.progress("run %d/%d  %-8s %-5s %4d callers: %s", run+1, o.runs, front, handler, o.callers, r)
				t.addLoad(throughputKey(front), handler, r)
			}
		}
		if o.latencyCallers > 0 {
			for _, handler := range []string{handlerBoard, handlerEcho} {
				profile := ""
				if run == 0 && handler == handlerBoard && o.profileRun == "latency" {
					profile = o.cpuProfile
				}
				r, err := o.loadOnce(ctx, frontBuiltIn, handler, o.latencyCallers, o.think, o.latencyWarmup, profile)
				if err != nil {
					return err
				}
				o.progress("run %d/%d  %-8s %-5s %4d callers, think %v: %s", run+1, o.runs, frontBuiltIn, handler, o.latencyCallers, o.think, r)
				t.addLoad(latencyKey, handler, r)
			}
		}
	}
	if len(o.idle) > 0 {
		for run := range o.idleRuns {
			steps, err := o.scaleOnce(ctx)
			if err != nil {
				return err
			}
			for _, s := range steps {
				o.progress("scale run %d/%d: %s", run+1, o.idleRuns, s)
			}
			t.addScale(steps)
		}
	}
	m2idle, err := o.idleMongrel2Step(ctx)
	if err != nil {
		return err
	}
	if o.micro != "" {
		if err := t.addMicro(o.micro); err != nil {
			return err
		}
	}
	t.print(o.stdout, time.Since(started))
	fmt.Fprint(o.stdout, m2idle)
	if o.cpuProfile != "" {
		fmt.Fprintf(o.log, "host CPU profile written to %s (go tool pprof -top %s)\n", o.cpuProfile, o.cpuProfile)
	}
	return nil
}

func (o *benchOptions) progress(format string, args ...any) {
	fmt.Fprintf(o.log, "bench: "+format+"\n", args...)
}

// loadRun is what one load run measured.
type loadRun struct {
	res loadgen.Result
	// CPU used inside the measuring window by the handler, the front end
	// and the load generator itself.
	handlerCPU, frontCPU, selfCPU time.Duration
	// The handler's memory at the end of the window.
	handlerRSS uint64
	heap       uint64
	goroutines int
	// hostErrors sums the host's error counters; lostPosts compares the
	// board's message count with the posts it confirmed (board only).
	hostErrors int64
	lostPosts  int
}

func (r loadRun) String() string {
	s := fmt.Sprintf("%.0f round trips/s, %.1f visits/s, p50 %v p99 %v p99.9 %v, %d failed visits, %d host errors, %d lost posts",
		r.res.RoundTripsPerSecond(), r.res.VisitsPerSecond(),
		r.res.Latency.Quantile(0.5).Round(time.Microsecond), r.res.Latency.Quantile(0.99).Round(time.Microsecond),
		r.res.Latency.Quantile(0.999).Round(time.Microsecond), r.res.Errors, r.hostErrors, r.lostPosts)
	for i, e := range r.res.ErrorSamples {
		s += fmt.Sprintf("\n  error %d: %s", i+1, e)
	}
	if len(r.res.ByStep) > 0 {
		s += "\n  p50/p99 by step:"
		for _, step := range slices.Sorted(maps.Keys(r.res.ByStep)) {
			l := r.res.ByStep[step]
			s += fmt.Sprintf(" %s %.2f/%.2f ms (%d);", step, ms(l.Quantile(0.5)), ms(l.Quantile(0.99)), len(l))
		}
	}
	return s
}

// errors is every error the run counted.
func (r loadRun) errors() int64 {
	lost := int64(r.lostPosts)
	if lost < 0 {
		lost = -lost
	}
	return int64(r.res.Errors) + r.hostErrors + lost
}

// loadOnce starts a fresh system, plays callers against it and stops it.
func (o *benchOptions) loadOnce(ctx context.Context, front, handler string, callers int, think, warmup time.Duration, profile string) (r loadRun, err error) {
	dir, err := os.MkdirTemp(o.tmp, "run-")
	if err != nil {
		return r, err
	}
	sys, err := o.startSystem(ctx, front, handler, dir, profile)
	if err != nil {
		return r, fmt.Errorf("bench: %w", err)
	}
	defer func() {
		if stopErr := sys.stop(); stopErr != nil {
			err = errors.Join(err, fmt.Errorf("bench: %w", stopErr))
		}
	}()

	var (
		board     *loadgen.Board
		scripts   loadgen.ScriptFactory
		seedPosts int
		posts     atomic.Int64
	)
	if handler == handlerBoard {
		if board, err = loadgen.NewBoard(o.texts); err != nil {
			return r, err
		}
		// The seed user is there to receive private messages from the
		// first callers; it also leaves the first post.
		seed := board.Visit("seed", "pw-seed", true, []string{"1", "Q"}, "")
		if err := loadgen.Play(ctx, sys.addr, false, seed); err != nil {
			return r, fmt.Errorf("bench: seed visit: %w", err)
		}
		seedPosts = seed.Posts
		scripts = board.Visits("caller")
	} else {
		scripts = func(int, int) loadgen.Script { return loadgen.NewEchoScript(echoRoundTrips) }
	}

	var (
		mu      sync.Mutex
		window  [2][3]loadgen.ProcStats // open/close × handler, front, self
		procErr error
	)
	snapshot := func(i int) {
		mu.Lock()
		defer mu.Unlock()
		for j, pid := range []int{sys.handlerProc.pid(), sys.frontPID(), 0} {
			st, err := loadgen.ReadProc(pid)
			if err != nil && procErr == nil {
				procErr = err
			}
			window[i][j] = st
		}
	}
	r.res, err = loadgen.Run(ctx, loadgen.Config{
		Addr: sys.addr, Callers: callers, Scripts: scripts,
		Warmup: warmup, Duration: o.duration, Think: think, Ramp: warmup / 2,
		OnWindow: func(open bool) {
			if open {
				snapshot(0)
			} else {
				snapshot(1)
			}
		},
		OnVisit: func(s loadgen.Script, _ error) {
			if b, ok := s.(*loadgen.BoardScript); ok {
				posts.Add(int64(b.Posts))
			}
		},
	})
	if err != nil {
		return r, err
	}
	mu.Lock()
	defer mu.Unlock()
	if procErr != nil {
		return r, procErr
	}
	r.handlerCPU = window[1][0].CPU - window[0][0].CPU
	r.frontCPU = window[1][1].CPU - window[0][1].CPU
	r.selfCPU = window[1][2].CPU - window[0][2].CPU
	r.handlerRSS = window[1][0].RSS

	body, err := sys.status(ctx)
	if err != nil {
		return r, fmt.Errorf("bench: status after the run: %w", err)
	}
	var st dispatch.Status
	if err := json.Unmarshal(body, &st); err != nil {
		return r, fmt.Errorf("bench: status: %w", err)
	}
	r.heap, r.goroutines, r.hostErrors = st.HeapBytes, st.Goroutines, hostErrors(st)

	if board != nil {
		check := board.Visit("checker", "pw-checker", true, []string{"2", "Q"}, "")
		if err := loadgen.Play(ctx, sys.addr, false, check); err != nil {
			return r, fmt.Errorf("bench: checking the posts: %w", err)
		}
		r.lostPosts = seedPosts + int(posts.Load()) - check.BoardCount
	}
	return r, nil
}

// hostErrors sums the host's counters of things that went wrong.
func hostErrors(st dispatch.Status) int64 {
	s := st.Sessions
	return s.Errored + s.Overran + s.Throttled + s.LineTooLong + s.Malformed + s.UnknownType + s.Vanished +
		st.BadFrames + st.Unsupported + st.ReplyErrors + st.Busy + st.MemoryAborts
}
