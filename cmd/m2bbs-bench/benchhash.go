package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sys/unix"

	"github.com/m2bbs/m2bbs/cmd/m2bbs-bench/internal/loadgen"
)

// Keys of the hashing step's runs in the table.
const (
	hashRateKey  = "hashing/rate"  // callers registering at once
	hashPacedKey = "hashing/paced" // logins at half that rate, among other prompts
	noJournalKey = "journal/off"   // the shipped board with -no-journal
)

// loginSteps are the steps of the shipped board's visit whose round trip
// holds the visit's bcrypt hash.
var loginSteps = []string{"password", "password again"}

// hashCPU is the CPU time of one bcrypt hash at cost, measured in this
// process on one thread: the same Go bcrypt the host runs. It hashes for
// at least 100 ms of CPU and returns the mean.
func hashCPU(cost int) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	password := []byte("pw-a-caller-types")
	var spent time.Duration
	n := 0
	for spent < 100*time.Millisecond || n < 3 {
		before := threadCPU()
		if _, err := bcrypt.GenerateFromPassword(password, cost); err != nil {
			return 0
		}
		spent += threadCPU() - before
		n++
	}
	return spent / time.Duration(n)
}

// threadCPU is the CPU time the calling thread has used.
func threadCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// hashingRuns is the hashing step, at the default bcrypt cost: first
// -hash-callers callers register at once, without pauses, for
// -hash-window, which gives the sustained login rate; then whole visits of the shipped board (with
// -hash-think pauses) start at half that rate, and the p99 of their
// prompts other than the logins says whether hashing holds others up.
func (o *benchOptions) hashingRuns(ctx context.Context, t *benchTable) error {
	spec := o.shipped()
	spec.bcryptCost = defaultCost
	rate, err := o.hashOnce(ctx, spec, 0)
	if err != nil {
		return err
	}
	o.progress("hashing, bcrypt cost %d: %d callers registering at once: %s", defaultCost, o.hashCallers, rate)
	t.addLoad(hashRateKey, handlerBoard, rate)
	arrivals := hashesPerSecond(rate) / 2
	if arrivals <= 0 {
		return errors.New("bench: hashing: no login in the window: the sustained rate is unknown")
	}
	paced, err := o.hashOnce(ctx, spec, arrivals)
	if err != nil {
		return err
	}
	o.progress("hashing, bcrypt cost %d: visits arriving at %.1f/s, think %v: %s", defaultCost, arrivals, o.hashThink, paced)
	t.addLoad(hashPacedKey, handlerBoard, paced)
	return nil
}

// hashOnce starts the shipped board at spec's cost behind the built-in
// front end. Without arrivals, -hash-callers callers register one after
// another, each hanging up at the menu; with arrivals, new users' whole
// visits start at that rate (open loop), pausing -hash-think before each
// answer.
func (o *benchOptions) hashOnce(ctx context.Context, spec boardSpec, arrivals float64) (r loadRun, err error) {
	sys, err := o.startRun(ctx, frontBuiltIn, handlerBoard, spec, "")
	if err != nil {
		return r, err
	}
	defer func() { err = errors.Join(err, sys.stopErr()) }()
	board, err := loadgen.NewBoard(o.texts)
	if err != nil {
		return r, err
	}
	if err := loadgen.PlayWithin(ctx, sys.addr, false, board.Visit("seed", "pw-seed", true, []string{"Q"}, ""), backlogTimeout); err != nil {
		return r, fmt.Errorf("bench: hashing: seed visit: %w", err)
	}
	cfg := loadgen.Config{Warmup: o.warmup}
	if arrivals > 0 {
		visits := board.Visits("paced")
		cfg.Arrivals, cfg.Think, cfg.Scripts = arrivals, o.hashThink, func(caller, _ int) loadgen.Script { return visits(caller, 0) }
		// The window opens once the first visits are well under way.
		cfg.Warmup = max(o.warmup, 20*o.hashThink)
	} else {
		cfg.Callers, cfg.Ramp = o.hashCallers, o.warmup/2
		cfg.Scripts = func(caller, visit int) loadgen.Script {
			name := "login" + strconv.Itoa(caller) + "-" + strconv.Itoa(visit)
			return board.Visit(name, "pw-"+name, true, []string{}, "")
		}
	}
	cfg.Duration = o.hashWindow
	r, err = o.measure(ctx, sys, cfg)
	// Every caller here is a new user: the hash is the registration, in
	// the round trip of the password typed again.
	r.hashes = len(r.res.ByStep["password again"])
	return r, err
}

// hashesPerSecond is the rate of a run's hashes in its window.
func hashesPerSecond(r loadRun) float64 { return float64(r.hashes) / r.res.Window.Seconds() }

// nonLoginP99 is the p99 of a run's round trips other than the logins'.
func nonLoginP99(r loadRun) time.Duration { return splitP99(r, false) }

// loginP99 is the p99 of a run's logins' round trips (each holds a hash);
// zero when the window held none.
func loginP99(r loadRun) time.Duration { return splitP99(r, true) }

// splitP99 is the p99 of a run's round trips at the login steps (logins)
// or at the others.
func splitP99(r loadRun, logins bool) time.Duration {
	var all []time.Duration
	for step, l := range r.res.ByStep {
		if slices.Contains(loginSteps, step) == logins {
			all = append(all, l...)
		}
	}
	if len(all) == 0 {
		return 0
	}
	return loadgen.NewLatencies(all).Quantile(0.99)
}
