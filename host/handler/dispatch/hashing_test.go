package dispatch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/session"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// loginScript registers a caller (one hash), then echoes.
const loginScript = `require 'ui'
require 'db'
function m2bbs(conn, req)
    req = ui.ask(conn, req, 'name?')
    local name = req.data.msg
    req = ui.ask(conn, req, 'password?')
    local ok, err = db.register_user(name, req.data.msg)
    req = ui.ask(conn, req, 'welcome ' .. name .. ' ' .. tostring(ok) .. ' ' .. tostring(err))
    while true do
        req = ui.ask(conn, req, 'echo ' .. req.data.msg)
    end
end`

// gatedStore holds every hash of the password "slow" until gate is
// closed; started is told when one begins.
type gatedStore struct {
	*store.SQLite
	gate    chan struct{}
	started chan struct{}
}

func (g *gatedStore) HashPassword(password string) ([]byte, error) {
	if password == "slow" {
		g.started <- struct{}{}
		<-g.gate
	}
	return g.SQLite.HashPassword(password)
}

func openStore(t *testing.T, cost int) *store.SQLite {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "bbs.db"), store.Options{BcryptCost: cost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestPromptsAreAnsweredWhileAHashIsHeld: on one worker, caller 1's
// registration hash is held; caller 2's prompts are answered meanwhile;
// then the hash completes and caller 1 goes on.
func TestPromptsAreAnsweredWhileAHashIsHeld(t *testing.T) {
	db := &gatedStore{SQLite: openStore(t, bcrypt.MinCost), gate: make(chan struct{}), started: make(chan struct{}, 1)}
	b := startBoardDeps(t, loginScript, Config{Workers: 1, HashWorkers: 1, Session: session.Config{Journal: true}}, Deps{Store: db})
	b.answers(t, "2", "connect", "name?")
	b.answers(t, "2", "bob", "password?")
	b.answers(t, "2", "fast", "welcome bob true nil")

	b.answers(t, "1", "connect", "name?")
	b.answers(t, "1", "ann", "password?")
	b.say("1", "slow")
	<-db.started
	for i := range 5 {
		text := fmt.Sprint("ping ", i)
		b.answers(t, "2", text, "echo "+text)
	}
	close(db.gate)
	b.ft.waitFor(t, "1", func(r reply) bool { return r.text == "welcome ann true nil" })
	b.answers(t, "1", "hello", "echo hello")
}

// TestPromptLatencyWhileLoggingIn measures another caller's prompt round
// trips (a line every 5 ms) for 3 s while callers register back to back at
// bcrypt's default cost, on one worker, with hashes on the worker (as
// before), on the pool sharing the host's Ps at its priority, and on the
// pool as the binary runs it (lowered threads, a P of their own). Run it
// with M2BBS_HASH_LATENCY=1; it reports, it does not judge.
func TestPromptLatencyWhileLoggingIn(t *testing.T) {
	if os.Getenv("M2BBS_HASH_LATENCY") == "" {
		t.Skip("set M2BBS_HASH_LATENCY=1 to measure")
	}
	db := openStore(t, bcrypt.DefaultCost)
	start := time.Now()
	if _, err := db.HashPassword("pw"); err != nil {
		t.Fatal(err)
	}
	t.Logf("one hash at cost %d: %v", bcrypt.DefaultCost, time.Since(start))
	for _, c := range []struct {
		name          string
		workers, nice int
		ownP          bool // GOMAXPROCS raised by the pool's size, as the binary does
	}{{"hash-on-worker", -1, 0, false}, {"hash-pool", 1, 0, false}, {"hash-pool-own-P", 1, 0, true}, {"hash-pool-own-P-nice-19", 1, 19, true}} {
		t.Run(c.name, func(t *testing.T) {
			if c.ownP {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + c.workers))
			}
			trips, logins := promptLatency(t, c.workers, c.nice, 3*time.Second)
			slices.Sort(trips)
			t.Logf("%s: %d prompt round trips p50 %v p99 %v max %v; %d logins meanwhile",
				c.name, len(trips), trips[len(trips)/2], trips[len(trips)*99/100], trips[len(trips)-1], logins)
		})
	}
}

// promptLatency has a caller register after another for d while a second
// caller sends a line every 5 ms; it returns that caller's round trips
// and how many registrations were done.
func promptLatency(t *testing.T, hashWorkers, nice int, d time.Duration) (trips []time.Duration, logins int64) {
	db := openStore(t, bcrypt.DefaultCost)
	b := startBoardDeps(t, loginScript, Config{Workers: 1, HashWorkers: hashWorkers, HashNice: nice, Session: session.Config{Journal: true, RatePerSecond: 1e6, RateBurst: 1e6}}, Deps{Store: db})
	b.answers(t, "9", "connect", "name?")
	b.answers(t, "9", "pinger", "password?")
	b.answers(t, "9", "pw", "welcome pinger true nil")
	stop := make(chan struct{})
	var done atomic.Int64
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			id, name := fmt.Sprint(1000+i), fmt.Sprint("u", i)
			b.say(id, "connect")
			b.say(id, name)
			b.say(id, "pw")
			b.ft.waitFor(t, id, func(r reply) bool { return r.text == "welcome "+name+" true nil" })
			done.Add(1)
		}
	}()
	for i, end := 0, time.Now().Add(d); time.Now().Before(end); i++ {
		text := fmt.Sprint("ping ", i)
		sent := time.Now()
		b.answers(t, "9", text, "echo "+text)
		trips = append(trips, time.Since(sent))
		time.Sleep(5 * time.Millisecond) // think time: a caller reading
	}
	close(stop)
	<-finished
	return trips, done.Load()
}

// TestACallerWhoseSessionEndsOnTheHashIsForgotten: a script that ends
// right after the registration leaves no owner behind (the worker's
// count of callers goes back to 0).
func TestACallerWhoseSessionEndsOnTheHashIsForgotten(t *testing.T) {
	db := openStore(t, bcrypt.MinCost)
	b := startBoardDeps(t, `require 'ui'
require 'db'
function m2bbs(conn, req)
    req = ui.ask(conn, req, 'password?')
    local ok = db.register_user('ann', req.data.msg)
    ui.exit(conn, req, 'bye')
end`, Config{Workers: 1, HashWorkers: 1}, Deps{Store: db})
	b.answers(t, "1", "connect", "password?")
	b.say("1", "password")
	b.ft.waitFor(t, "1", kind("hangup"))
	// The hang-up leaves from the worker's goroutine, inside the hash's
	// answer; a job queued after it runs once that answer is done.
	w := b.host.current.workers[0]
	if _, err := onWorker(context.Background(), w, 10*time.Second, func(*session.Table) int { return 0 }); err != nil {
		t.Fatal(err)
	}
	b.host.mu.Lock()
	owners, owned := len(b.host.owners), w.owned
	b.host.mu.Unlock()
	if owners != 0 || owned != 0 {
		t.Errorf("%d callers (worker: %d) still owned after the session ended", owners, owned)
	}
}
