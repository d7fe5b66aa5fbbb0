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
	"github.com/m2bbs/m2bbs/host/handler/session"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// echoRoundTrips is the length of an echo visit: about a board visit's
// (19 round trips and one per private message read).
const echoRoundTrips = 20

// The latency run's start. A board's callers do not all arrive in the
// same second: its 1,000 callers start their first visits over about one
// visit's length (about 20 prompts at 1 s of think time), so that their
// logins, one per visit, arrive at the rate they keep in the steady state
// (about 50/s), and the window opens once the last of them is in. (Until
// 2026-12 they all arrived within 2 s and the window, 4–7 s after the
// first call, held the queue of 1,000 first logins at the hash pool: the
// start of a run, not a board in use.) The echo floor has no logins and
// is in its steady state once its callers are connected.
const (
	defaultLatencyRamp = 20 * time.Second
	echoLatencyWarmup  = 4 * time.Second
)

// benchOptions are the flags of "m2bbs-bench bench" and what it runs with.
type benchOptions struct {
	callers        int
	latencyCallers int
	think          time.Duration
	latencyRamp    time.Duration
	latencyWarmup  time.Duration
	warmup         time.Duration
	duration       time.Duration
	runs           int
	idle           []int
	idleRuns       int
	idleBudget     time.Duration
	active         time.Duration
	// hibernateWait and wakeSampleSize: see awaitAsleep and wakeSample.
	hibernateWait  time.Duration
	hibernateAfter time.Duration
	wakeSampleSize int
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
	// steps are the parts of the suite to run (-steps).
	steps map[string]bool
	// original is the folder of the 2010 board's files; originalReads
	// the messages a returning user reads; defaultCostRuns the runs of
	// its workloads at the default bcrypt cost.
	original        string
	originalCallers int
	originalReads   int
	defaultCostRuns int
	// pg, if set, puts each board's database on PostgreSQL (-postgres;
	// benchpg.go).
	pg *pgBench
	// hashCallers log in at once to find the sustained login rate at the
	// default cost; hashThink is the pause of the callers whose logins
	// then arrive at half that rate, hashWindow their measuring window.
	hashCallers int
	hashThink   time.Duration
	hashWindow  time.Duration
	// gatewayCallers are the idle callers of each kind the gateways step
	// parks (benchgateways.go).
	gatewayCallers int
	// hostEnv is added to the environment of the host (and echo)
	// processes: GOGC=50, GOMEMLIMIT=900MiB.
	hostEnv []string
	// logs, if set, is a folder that keeps each started process's whole
	// output (-logs), e.g. the host's GODEBUG=gctrace=1 lines.
	logs string
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

// The steps of the suite (-steps).
const (
	stepThroughput = "throughput" // 100 callers, board and floor
	stepJournal    = "journal"    // the board again with -no-journal, paired
	stepLatency    = "latency"    // 1,000 callers with think time
	stepOriginal   = "original"   // the original 2010 board's workloads
	stepHashing    = "hashing"    // logins at the default bcrypt cost
	stepScale      = "scale"      // idle callers parked
	stepM2Idle     = "m2idle"     // idle callers parked behind a sized Mongrel2
	stepGateways   = "gateways"   // idle telnet and SSH callers of m2bbs run
	stepFiles      = "files"      // one large download while a caller's menu is timed
)

var allSteps = []string{stepThroughput, stepJournal, stepLatency, stepOriginal, stepHashing, stepScale, stepM2Idle, stepGateways, stepFiles}

// parseSteps reads -steps.
func parseSteps(list string) (map[string]bool, error) {
	steps := map[string]bool{}
	for name := range strings.SplitSeq(list, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		if !slices.Contains(allSteps, name) {
			return nil, fmt.Errorf("bench: -steps: no step %q (%s)", name, strings.Join(allSteps, ", "))
		}
		steps[name] = true
	}
	return steps, nil
}

// step says whether the suite runs the step name.
func (o *benchOptions) step(name string) bool { return o.steps[name] }

func parseBenchFlags(args []string, stderr io.Writer) (o *benchOptions, err error) {
	o = &benchOptions{}
	fs := flag.NewFlagSet("m2bbs-bench bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.board, "m2bbs", "", "the m2bbs binary to measure, started as front end and host (default: m2bbs next to this program, else on $PATH)")
	fs.IntVar(&o.callers, "callers", 100, "active callers of the throughput runs (no think time)")
	fs.IntVar(&o.latencyCallers, "latency-callers", 1000, "callers of the latency run (0: skip it)")
	fs.DurationVar(&o.think, "think", time.Second, "mean pause before each answer in the latency run (uniform over ±50%)")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "load before each measuring window; callers start over its first half")
	fs.DurationVar(&o.latencyRamp, "latency-ramp", defaultLatencyRamp, "the latency run's callers start their first visits evenly over this time (about one visit: logins then arrive at the rate of the steady state)")
	fs.DurationVar(&o.latencyWarmup, "latency-warmup", 0, "-warmup of the latency run's board (0: -latency-ramp + 4s, so that the window opens in the steady state)")
	fs.DurationVar(&o.duration, "duration", 3*time.Second, "measuring window of each load run")
	fs.IntVar(&o.runs, "runs", 3, "runs of each load configuration (the table shows medians)")
	idle := fs.String("idle", "10000,100000", "idle callers to hold, in steps (empty: skip the scale test)")
	fs.IntVar(&o.idleRuns, "idle-runs", 1, "runs of the scale test")
	fs.DurationVar(&o.idleBudget, "idle-budget", 0, "longest the callers of one scale run may take to log in (0: no limit); a step cut short says so")
	fs.DurationVar(&o.active, "active", 3*time.Second, "how long one active caller is timed at each idle step")
	fs.DurationVar(&o.hibernateWait, "hibernate-wait", 40*time.Second, "longest each idle step waits for the host to hibernate its callers (the host's -hibernate-after, 30 s, plus its reaper's 5 s; 0: measure at once)")
	fs.DurationVar(&o.hibernateAfter, "hibernate-after", 0, "the board's -hibernate-after (0: its default, as shipped; for tests)")
	fs.IntVar(&o.wakeSampleSize, "wake-sample", 200, "hibernated callers each idle step wakes with a line, one at a time, to time the wake-up (0: none)")
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
	steps := fs.String("steps", strings.Join(allSteps, ","), "parts of the suite to run, comma-separated: "+strings.Join(allSteps, ", "))
	fs.StringVar(&o.original, "original", originalDir, "folder of the original 2010 board's files (Debian's mongrel2-core examples); the original step is skipped when they are missing")
	fs.IntVar(&o.originalCallers, "original-callers", originalCallers, "callers of the original board's workloads (the original's figures are for 100)")
	fs.IntVar(&o.originalReads, "original-reads", 50, "messages a returning user of the original board reads in a visit")
	fs.IntVar(&o.defaultCostRuns, "default-cost-runs", 1, "runs of the original board's workloads at the default bcrypt cost (0: none)")
	fs.IntVar(&o.hashCallers, "hash-callers", 16, "callers registering at once to find the sustained login rate at the default bcrypt cost")
	fs.DurationVar(&o.hashThink, "hash-think", 100*time.Millisecond, "mean pause of the callers whose logins arrive at half the sustained rate")
	fs.DurationVar(&o.hashWindow, "hash-window", 5*time.Second, "measuring window of the run with logins at half the sustained rate")
	fs.IntVar(&o.gatewayCallers, "gateway-callers", 1000, "idle callers of each kind (telnet, SSH) the gateways step parks on m2bbs run")
	pgDSN := fs.String("postgres", "", "`DSN` of a PostgreSQL database whose role may CREATEDB: each board started gets a new database on that server instead of a SQLite file, dropped at the end (the gateways step keeps SQLite)")
	fs.StringVar(&o.logs, "logs", "", "`folder` to keep each started process's whole output in, one file per process named after it; otherwise only the end of a failed process's output is kept")
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
	if o.steps, err = parseSteps(*steps); err != nil {
		return nil, err
	}
	if *pgDSN != "" {
		if o.pg, err = newPGBench(*pgDSN); err != nil {
			return nil, err
		}
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
	if o.latencyWarmup <= 0 {
		o.latencyWarmup = o.latencyRamp + 4*time.Second
	}
	o.latencyRamp = min(max(o.latencyRamp, 0), o.latencyWarmup)
	if o.callers <= 0 || o.runs <= 0 || o.duration <= 0 || o.gatewayCallers <= 0 {
		return nil, errors.New("bench: -callers, -runs, -duration and -gateway-callers must be positive")
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
	if o.pg != nil {
		fmt.Fprintf(o.log, "bench: the boards' databases on PostgreSQL (%s)\n", store.RedactDSN(o.pg.admin))
		defer func() {
			if err := o.pg.dropAll(); err != nil {
				fmt.Fprintf(o.log, "bench: -postgres: drop the bench's databases: %v\n", err)
			}
		}()
	}
	if o.cpuProfile != "" {
		if o.cpuProfile, err = filepath.Abs(o.cpuProfile); err != nil {
			return err
		}
	}

	t := newTable(o)
	// The CPU of one hash, to take hashing out of the host's CPU per round
	// trip (at the load runs' cost) and to report it; measured first, while
	// no board runs.
	for _, cost := range []int{o.bcryptCost, defaultCost} {
		if _, ok := t.hashCPU[cost]; !ok {
			t.hashCPU[cost] = hashCPU(cost)
			o.progress("one bcrypt hash at cost %d: %v of CPU", cost, t.hashCPU[cost].Round(time.Microsecond))
		}
	}
	for run := range o.runs {
		if err := o.loadRuns(ctx, t, run); err != nil {
			return err
		}
	}
	if o.step(stepOriginal) {
		if err := o.originalRuns(ctx, t); err != nil {
			return err
		}
	}
	if o.step(stepHashing) {
		if err := o.hashingRuns(ctx, t); err != nil {
			return err
		}
	}
	if o.step(stepGateways) {
		if err := o.gatewaysRuns(ctx, t); err != nil {
			return err
		}
	}
	if o.step(stepFiles) {
		if err := o.filesRuns(ctx, t); err != nil {
			return err
		}
	}
	if o.step(stepScale) && len(o.idle) > 0 {
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
	var m2idle string
	if o.step(stepM2Idle) {
		if m2idle, err = o.idleMongrel2Step(ctx); err != nil {
			return err
		}
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

// loadRuns is run number run of the load configurations of the
// throughput, journal and latency steps. Runs alternate between the
// board and its floor (and the board without journals), so that the
// machine's drift affects them alike.
func (o *benchOptions) loadRuns(ctx context.Context, t *benchTable, run int) error {
	fronts := []string{frontBuiltIn}
	if o.withMongrel2 {
		fronts = append(fronts, frontMongrel2)
	}
	type config struct {
		front, handler, key string
		spec                boardSpec
	}
	var configs []config
	if o.step(stepThroughput) {
		for _, front := range fronts {
			for _, handler := range []string{handlerBoard, handlerEcho} {
				configs = append(configs, config{front, handler, throughputKey(front), o.shipped()})
			}
		}
	} else if o.step(stepJournal) {
		configs = append(configs, config{frontBuiltIn, handlerBoard, throughputKey(frontBuiltIn), o.shipped()})
	}
	if o.step(stepJournal) {
		spec := o.shipped()
		spec.noJournal = true
		configs = append(configs, config{frontBuiltIn, handlerBoard, noJournalKey, spec})
	}
	for _, c := range configs {
		profile := ""
		if run == 0 && c.key == throughputKey(frontBuiltIn) && c.handler == handlerBoard && o.profileRun == "throughput" {
			profile = o.cpuProfile
		}
		r, err := o.loadOnce(ctx, c.front, c.handler, c.spec, o.callers, 0, o.warmup, o.warmup/2, profile)
		if err != nil {
			return err
		}
		journal := ""
		if c.spec.noJournal {
			journal = " -no-journal"
		}
		o.progress("run %d/%d  %-8s %-5s%s %4d callers: %s", run+1, o.runs, c.front, c.handler, journal, o.callers, r)
		t.addLoad(c.key, c.handler, r)
	}
	if !o.step(stepLatency) || o.latencyCallers <= 0 {
		return nil
	}
	for _, handler := range []string{handlerBoard, handlerEcho} {
		profile := ""
		if run == 0 && handler == handlerBoard && o.profileRun == "latency" {
			profile = o.cpuProfile
		}
		warmup, ramp := o.latencyWarmup, o.latencyRamp
		if handler == handlerEcho {
			warmup = min(echoLatencyWarmup, o.latencyWarmup)
			ramp = warmup / 2
		}
		r, err := o.loadOnce(ctx, frontBuiltIn, handler, o.shipped(), o.latencyCallers, o.think, warmup, ramp, profile)
		if err != nil {
			return err
		}
		o.progress("run %d/%d  %-8s %-5s %4d callers, think %v: %s", run+1, o.runs, frontBuiltIn, handler, o.latencyCallers, o.think, r)
		t.addLoad(latencyKey, handler, r)
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
	// hashes is the number of bcrypt hashes (logins and registrations)
	// the host ran in the window: one per visit of the shipped board.
	hashes int
	// journal is the host's journaling counters after the run (warm-up
	// included): what each prompt's journal cost the store.
	journal session.JournalStats
}

func (r loadRun) String() string {
	s := fmt.Sprintf("%.0f round trips/s, %.1f visits/s, p50 %v p99 %v p99.9 %v, %d failed visits, %d host errors, %d lost posts",
		r.res.RoundTripsPerSecond(), r.res.VisitsPerSecond(),
		r.res.Latency.Quantile(0.5).Round(time.Microsecond), r.res.Latency.Quantile(0.99).Round(time.Microsecond),
		r.res.Latency.Quantile(0.999).Round(time.Microsecond), r.res.Errors, r.hostErrors, r.lostPosts)
	if j := r.journal; j.Prompts > 0 {
		p := float64(j.Prompts)
		s += fmt.Sprintf("; per journaled prompt %.2f journal writes in %.2f transactions (%.2f flushes before writes, %.2f riders in writes' own), %.0f bytes",
			float64(j.Writes)/p, float64(j.Transactions)/p, float64(j.Flushes)/p, float64(j.Riders)/p, float64(j.BytesWritten)/p)
	}
	for i, e := range r.res.ErrorSamples {
		s += fmt.Sprintf("\n  error %d: %s", i+1, e)
	}
	if len(r.res.ByStep) > 0 {
		s += "\n  p50/p99 by step:"
		for _, step := range slices.Sorted(maps.Keys(r.res.ByStep)) {
			l := r.res.ByStep[step]
			s += fmt.Sprintf(" %s %.2f/%.2f ms (%d);", step, ms(l.Quantile(0.5)), ms(l.Quantile(0.99)), len(l))
		}
		s += tailLine(r)
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

// loadOnce starts a fresh system running the shipped board (spec) or the
// echo floor, plays callers of the board's whole visit against it and
// stops it.
func (o *benchOptions) loadOnce(ctx context.Context, front, handler string, spec boardSpec, callers int, think, warmup, ramp time.Duration, profile string) (r loadRun, err error) {
	sys, err := o.startRun(ctx, front, handler, spec, profile)
	if err != nil {
		return r, err
	}
	defer func() { err = errors.Join(err, sys.stopErr()) }()

	var (
		board     *loadgen.Board
		scripts   loadgen.ScriptFactory
		seedPosts int
		posts     postTally
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
	r, err = o.measure(ctx, sys, loadgen.Config{
		Callers: callers, Scripts: scripts, Warmup: warmup, Think: think, Ramp: ramp,
		OnVisit: func(s loadgen.Script, err error) {
			if b, ok := s.(*loadgen.BoardScript); ok {
				posts.add(b.Posts, err != nil && b.PostPending())
			}
		},
	})
	if err != nil || board == nil {
		return r, err
	}
	// Each visit's one bcrypt is at its password step: the login, or the
	// registration after the password typed again.
	r.hashes = len(r.res.ByStep["password"])
	check := board.Visit("checker", "pw-checker", true, []string{"2", "Q"}, "")
	if err := loadgen.Play(ctx, sys.addr, false, check); err != nil {
		return r, fmt.Errorf("bench: checking the posts: %w", err)
	}
	r.lostPosts = posts.lost(seedPosts, check.BoardCount)
	return r, nil
}

// startRun starts a fresh system in a folder of its own.
func (o *benchOptions) startRun(ctx context.Context, front, handler string, spec boardSpec, profile string) (*system, error) {
	dir, err := os.MkdirTemp(o.tmp, "run-")
	if err != nil {
		return nil, err
	}
	sys, err := o.startSystem(ctx, front, handler, spec, dir, profile)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return sys, nil
}

// stopErr stops the system, wrapping what went wrong.
func (s *system) stopErr() error {
	if err := s.stop(); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

// measure plays cfg (its address, and its duration if unset, filled in
// here) against
// sys and reads the CPU of the handler, the front end and the load
// generator over the measuring window, and the handler's memory and error
// counters after it.
func (o *benchOptions) measure(ctx context.Context, sys *system, cfg loadgen.Config) (r loadRun, err error) {
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
	cfg.Addr = sys.addr
	if cfg.Duration <= 0 {
		cfg.Duration = o.duration
	}
	cfg.OnWindow = func(open bool) {
		if open {
			snapshot(0)
		} else {
			snapshot(1)
		}
	}
	r.res, err = loadgen.Run(ctx, cfg)
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
	r.journal = st.Journal
	return r, nil
}

// postTally counts the posts the board confirmed to callers, and those
// sent but not yet confirmed when their visit was cut off at the end of a
// run; safe for concurrent use.
type postTally struct {
	confirmed, pending atomic.Int64
}

// add counts a visit's confirmed posts and whether it was cut off with
// one pending.
func (p *postTally) add(confirmed int, pending bool) {
	p.confirmed.Add(int64(confirmed))
	if pending {
		p.pending.Add(1)
	}
}

// lost compares onBoard, the messages on the board after a run, with the
// seed's posts and those confirmed: positive, posts confirmed and lost;
// negative, posts nobody sent. Pending posts may be on the board or not.
func (p *postTally) lost(seeded, onBoard int) int {
	confirmed := seeded + int(p.confirmed.Load())
	switch pending := int(p.pending.Load()); {
	case onBoard < confirmed:
		return confirmed - onBoard
	case onBoard > confirmed+pending:
		return confirmed + pending - onBoard
	}
	return 0
}

// hostErrors sums the host's counters of things that went wrong.
func hostErrors(st dispatch.Status) int64 {
	s := st.Sessions
	return s.Errored + s.Overran + s.Throttled + s.LineTooLong + s.Malformed + s.UnknownType + s.Vanished +
		st.BadFrames + st.Unsupported + st.ReplyErrors + st.Busy + st.MemoryAborts
}
