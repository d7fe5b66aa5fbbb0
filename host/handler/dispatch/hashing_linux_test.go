package dispatch

import (
	"os"
	"path/filepath"
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

// threadsAt lists this process's threads of niceness nice, from /proc,
// but for the main thread: a goroutine that ends locked to the main
// thread leaves it parked for good instead of ending it (Go's runtime
// cannot end a process's first thread), so a hash that ran there leaves
// a lowered thread on which nothing runs again.
func threadsAt(t *testing.T, nice int) []int {
	t.Helper()
	dirs, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	var at []int
	for _, d := range dirs {
		if d.Name() == strconv.Itoa(os.Getpid()) {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc/self/task", d.Name(), "stat"))
		if err != nil {
			continue // the thread ended meanwhile
		}
		// Field 19 is the niceness; the command (field 2) may hold
		// spaces, so count from its closing parenthesis.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if n, err := strconv.Atoi(fields[16]); err == nil && n == nice {
			tid, _ := strconv.Atoi(d.Name())
			at = append(at, tid)
		}
	}
	return at
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
			for _, id := range []string{"1", "2"} {
				name := "caller" + id
				b.answers(t, id, "connect", "name?")
				b.answers(t, id, name, "password?")
				b.answers(t, id, "pw-"+id, "welcome "+name+" true nil")
				if got := <-db.nice; got != c.want {
					t.Errorf("%s's hash ran at niceness %d, want %d", name, got, c.want)
				}
			}
			b.answers(t, "1", "hello", "echo hello")
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
