package dispatch

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sys/unix"

	"github.com/m2bbs/m2bbs/host/handler/session"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// niceStore records the niceness of the thread each hash runs on.
type niceStore struct {
	*store.SQLite
	nice chan int
}

func (n *niceStore) HashPassword(password string) ([]byte, error) {
	n.nice <- threadNice(unix.Gettid())
	return n.SQLite.HashPassword(password)
}

// threadNice is the niceness of thread tid of this process (getpriority
// returns 20 - nice).
func threadNice(tid int) int {
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
	if err != nil {
		return -100
	}
	return 20 - prio
}

// otherThreads lists this process's threads, from /proc, but for the
// main thread: a goroutine that ends locked to the main thread leaves it
// parked for good instead of ending it (Go's runtime cannot end a
// process's first thread), so a hash that ran there leaves a lowered
// thread, or one with a short slice, on which nothing runs again.
func otherThreads(t *testing.T) []int {
	t.Helper()
	dirs, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var tids []int
	for _, d := range dirs {
		if tid, err := strconv.Atoi(d.Name()); err == nil && tid != os.Getpid() {
			tids = append(tids, tid)
		}
	}
	return tids
}

// threadsAt lists this process's threads of niceness nice but the main
// thread (otherThreads).
func threadsAt(t *testing.T, nice int) []int {
	t.Helper()
	var at []int
	for _, tid := range otherThreads(t) {
		stat, err := os.ReadFile(filepath.Join("/proc/self/task", strconv.Itoa(tid), "stat"))
		if err != nil {
			continue // the thread ended meanwhile
		}
		// Field 19 is the niceness; the command (field 2) may hold
		// spaces, so count from its closing parenthesis.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if n, err := strconv.Atoi(fields[16]); err == nil && n == nice {
			at = append(at, tid)
		}
	}
	return at
}

// registerTwo registers caller1 and caller2 on b's login script, one
// after the other (a hash each), then has caller1 type a line, and
// returns their names in that order.
func registerTwo(t *testing.T, b *board) []string {
	t.Helper()
	var names []string
	for _, id := range []string{"1", "2"} {
		name := "caller" + id
		b.answers(t, id, "connect", "name?")
		b.answers(t, id, name, "password?")
		b.answers(t, id, "pw-"+id, "welcome "+name+" true nil")
		names = append(names, name)
	}
	b.answers(t, "1", "hello", "echo hello")
	return names
}

// TestHashesRunOnLoweredThreadsOfTheirOwn: with HashNice, each caller's
// registration hash runs on a thread at that niceness, and the thread
// ends with the hash, so that no worker, nor anything else of the host,
// ever runs at the lowered priority; the callers are registered as
// before. Without HashNice the hash runs at the host's priority.
func TestHashesRunOnLoweredThreadsOfTheirOwn(t *testing.T) {
	host := threadNice(unix.Gettid())
	const nice = 7
	if host >= nice {
		t.Skipf("the test runs at niceness %d already", host)
	}
	for _, c := range []struct {
		name       string
		nice, want int
	}{{"HashNice 7", nice, nice}, {"no HashNice", 0, host}} {
		t.Run(c.name, func(t *testing.T) {
			db := &niceStore{SQLite: openStore(t, bcrypt.MinCost), nice: make(chan int, 4)}
			b := startBoardDeps(t, loginScript, Config{Workers: 1, HashWorkers: 1, HashNice: c.nice, Session: session.Config{Journal: true}}, Deps{Store: db})
			for _, name := range registerTwo(t, b) {
				if got := <-db.nice; got != c.want {
					t.Errorf("%s's hash ran at niceness %d, want %d", name, got, c.want)
				}
			}
			if c.nice == 0 {
				return
			}
			// A locked thread ends once its goroutine has; nothing
			// signals that, so look until it has.
			deadline := time.Now().Add(10 * time.Second)
			for len(threadsAt(t, nice)) > 0 {
				if time.Now().After(deadline) {
					t.Fatalf("threads %v still at niceness %d after the hashes", threadsAt(t, nice), nice)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// sliceStore records the scheduler slice of the thread each hash runs
// on, and makes each hash use at least spin of CPU, as a costlier one
// would.
type sliceStore struct {
	*store.SQLite
	slices chan uint64
	spin   time.Duration
}

// HashPassword records the slice, spins, and hashes.
func (s *sliceStore) HashPassword(password string) ([]byte, error) {
	s.slices <- threadSlice(unix.Gettid())
	for start := threadCPU(); threadCPU()-start < s.spin; {
	}
	return s.SQLite.HashPassword(password)
}

// threadSlice is the scheduler slice of thread tid of this process, in
// nanoseconds (0 if it cannot be read).
func threadSlice(tid int) uint64 {
	attr, err := unix.SchedGetAttr(tid, 0)
	if err != nil {
		return 0
	}
	return attr.Runtime
}

// threadsWithSlice lists this process's threads whose slice is slice but
// the main thread (otherThreads).
func threadsWithSlice(t *testing.T, slice uint64) []int {
	t.Helper()
	var at []int
	for _, tid := range otherThreads(t) {
		if threadSlice(tid) == slice {
			at = append(at, tid)
		}
	}
	return at
}

// kernelSlices skips the test unless this kernel keeps a slice per thread
// (Linux 6.12 and later), and returns the slice it gives a thread by
// default.
func kernelSlices(t *testing.T) uint64 {
	t.Helper()
	if err := probeThreadSlice(); err != nil {
		t.Skipf("no scheduler slice per thread here: %v", err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return threadSlice(unix.Gettid())
}

// TestHashesRunWithAShortSliceGivenBack: by default each long hash runs
// on a thread with the short scheduler slice, so that a worker waking on
// its core runs within it; with HashSlice negative it runs with the
// kernel's slice. The thread goes back to Go with the kernel's slice (no
// thread is left with the short one), and the callers are registered as
// before.
func TestHashesRunWithAShortSliceGivenBack(t *testing.T) {
	base := kernelSlices(t)
	short := uint64(DefaultHashSlice)
	for _, c := range []struct {
		name  string
		slice time.Duration
		want  uint64
	}{{"default", 0, short}, {"the kernel's", -1, base}} {
		t.Run(c.name, func(t *testing.T) {
			db := &sliceStore{SQLite: openStore(t, bcrypt.MinCost), slices: make(chan uint64, 4), spin: longWork}
			b := startBoardDeps(t, loginScript, Config{Workers: 1, HashWorkers: 1, HashSlice: c.slice, Session: session.Config{Journal: true}}, Deps{Store: db})
			for _, name := range registerTwo(t, b) {
				if got := <-db.slices; got != c.want {
					t.Errorf("%s's hash ran with a slice of %d ns, want %d", name, got, c.want)
				}
			}
			if left := threadsWithSlice(t, short); len(left) > 0 {
				t.Errorf("threads %v kept the hashes' slice after them", left)
			}
		})
	}
}

// TestShortWorkKeepsTheKernelsSlice: the pool takes its first piece of
// work for a long one (the default bcrypt cost's hashes are), work that
// typically takes less CPU than longWork runs with the kernel's slice,
// and longer work gets the short slice again.
func TestShortWorkKeepsTheKernelsSlice(t *testing.T) {
	base := kernelSlices(t)
	p := newHashPool(1, 0, DefaultHashSlice)
	slice := func() uint64 {
		var got uint64
		done := make(chan struct{})
		go func() { // a goroutine of its own, as run gives each piece
			defer close(done)
			p.onHashThread(func() { got = threadSlice(unix.Gettid()) })
		}()
		<-done
		return got
	}
	if got := slice(); got != uint64(DefaultHashSlice) {
		t.Errorf("the first piece ran with a slice of %d ns, want the short %d", got, DefaultHashSlice)
	}
	p.typicalCPUNanos.Store(int64(time.Millisecond)) // a hash at cost 4
	if got := slice(); got != base {
		t.Errorf("short work ran with a slice of %d ns, want the kernel's %d", got, base)
	}
	p.typicalCPUNanos.Store(int64(2 * longWork))
	if got := slice(); got != uint64(DefaultHashSlice) {
		t.Errorf("long work ran with a slice of %d ns, want the short %d", got, DefaultHashSlice)
	}
	if typical := time.Duration(p.typicalCPUNanos.Load()); typical <= 0 || typical >= 2*longWork {
		t.Errorf("typical CPU %v after a piece of almost none, want it below %v", typical, 2*longWork)
	}
}
