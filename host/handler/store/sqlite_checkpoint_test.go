package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fastCheckpoints are options whose checkpointer runs every few
// milliseconds and restarts the log past a small size, so that a test
// sees many of both, and whose writer never checkpoints by itself (no
// backstop): what bounds the log is the checkpointer alone.
func fastCheckpoints(every time.Duration, restart int) Options {
	o := testOptions
	o.checkpointEvery, o.walRestartFrames, o.writerAutocheckpoint = every, restart, -1
	return o
}

// openAt opens the store at path with opts and closes it at the end of
// the test.
func openAt(t testing.TB, path string, opts Options) *SQLite {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// walFrames is the size of path's write-ahead log in frames of a 4 KiB
// page (a frame is the page and a 24-byte header; the log has a 32-byte
// header).
func walFrames(t testing.TB, path string) int {
	t.Helper()
	fi, err := os.Stat(path + "-wal")
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return int(max(fi.Size()-32, 0) / (4096 + 24))
}

// walSalt is the salt in the header of path's write-ahead log, which
// SQLite draws anew each time the log starts over from its beginning;
// empty when there is no log yet.
func walSalt(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path + "-wal")
	if os.IsNotExist(err) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 32)
	if _, err := f.ReadAt(head, 0); err != nil {
		return ""
	}
	return string(head[16:24])
}

// entry is a journal entry of n bytes that says which it is.
func entry(n int, i int) []byte {
	b := make([]byte, n)
	copy(b, strconv.Itoa(i))
	return b
}

// until calls fn until stop is closed or fn reports false.
func until(stop <-chan struct{}, fn func() bool) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		if !fn() {
			return
		}
	}
}

// appendLoop appends entries of 1 KiB to journal connID until stop is
// closed, pausing pace after each (a load, not a synchronisation), and
// returns how many it appended.
func appendLoop(t testing.TB, s *SQLite, connID string, pace time.Duration, stop <-chan struct{}) int {
	ctx := context.Background()
	if err := s.ResetJournal(ctx, connID, -1, [][]byte{[]byte("start")}); err != nil {
		t.Error(err)
		return 0
	}
	n := 1
	until(stop, func() bool {
		if err := s.AppendJournal(ctx, connID, n, [][]byte{entry(1024, n)}); err != nil {
			t.Error(err)
			return false
		}
		n++
		time.Sleep(pace)
		return true
	})
	return n
}

func TestWriterLeavesCheckpointsToTheCheckpointer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bbs.db")
	opts := fastCheckpoints(time.Hour, 256)
	opts.writerAutocheckpoint = 0 // the backstop
	s := openAt(t, path, opts)
	var auto int
	err := s.with(func(p *pools) error {
		return p.w.QueryRowContext(context.Background(), "PRAGMA wal_autocheckpoint").Scan(&auto)
	})
	if err != nil {
		t.Fatal(err)
	}
	if auto != writerBackstop*256 {
		t.Fatalf("writer's wal_autocheckpoint = %d, want the backstop %d", auto, writerBackstop*256)
	}
	// Past SQLite's default of 1,000 frames, with the checkpointer
	// asleep, the log keeps every frame: no commit checkpointed.
	stop := make(chan struct{})
	done := make(chan int)
	go func() { done <- appendLoop(t, s, "a", 0, stop) }()
	deadline := time.Now().Add(30 * time.Second)
	for walFrames(t, path) < 900 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	<-done
	if f := walFrames(t, path); f < 900 {
		t.Fatalf("log has %d frames after the writes, want them all (900+) kept for the checkpointer", f)
	}
	if passive, _ := s.checkpointCounts(); passive != 0 {
		t.Fatalf("%d checkpoints ran within the hour's interval", passive)
	}
}

// loadWAL runs writers appending to journals of their own (paced), and,
// if reads, a reader of a short journal, on the stores for d, and
// returns what each writer appended, the log's largest size in frames,
// and how many times it started over, seen meanwhile.
func loadWAL(t *testing.T, path string, stores []*SQLite, reads bool, d time.Duration) (counts []int, most, restarts int) {
	t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	counts = make([]int, 2*len(stores))
	for i := range counts {
		s := stores[i%len(stores)]
		wg.Go(func() { counts[i] = appendLoop(t, s, "w"+strconv.Itoa(i), time.Millisecond, stop) })
	}
	if reads {
		if err := stores[0].ResetJournal(context.Background(), "r", -1, [][]byte{[]byte("short")}); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			until(stop, func() bool {
				_, _, err := stores[0].LoadJournal(context.Background(), "r")
				if err != nil {
					t.Error(err)
				}
				return err == nil
			})
		})
	}
	salt := walSalt(t, path)
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(time.Millisecond) {
		most = max(most, walFrames(t, path))
		if now := walSalt(t, path); now != salt {
			salt = now
			restarts++
		}
	}
	close(stop)
	wg.Wait()
	for i, n := range counts {
		for _, s := range stores {
			entries, count, err := s.LoadJournal(context.Background(), "w"+strconv.Itoa(i))
			if err != nil || count != n || len(entries) != n {
				t.Fatalf("journal w%d: %d entries, count %d, %v; want %d", i, len(entries), count, err, n)
			}
		}
	}
	return counts, most, restarts
}

// checkLogBounded fails t unless the log started over again and again
// during a load that appended counts: then the file holds what was
// written since the last restart, not everything (left alone, it never
// starts over under steady writes). Its largest size is logged, not
// checked: it depends on how long the busiest moment of a shared
// machine held the checkpointer up.
func checkLogBounded(t *testing.T, counts []int, most, restarts int) {
	t.Helper()
	t.Logf("appends %v, the log started over %d times, at most %d frames", counts, restarts, most)
	if restarts < 3 {
		t.Fatalf("the log started over %d times under steady writes, want again and again", restarts)
	}
}

func TestCheckpointerKeepsTheLogBounded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bbs.db")
	s := openAt(t, path, fastCheckpoints(10*time.Millisecond, 128))
	counts, most, restarts := loadWAL(t, path, []*SQLite{s}, true, 3*time.Second)
	passive, restarting := s.checkpointCounts()
	t.Logf("%d passive checkpoints, %d on the writer", passive, restarting)
	checkLogBounded(t, counts, most, restarts)
	if restarting == 0 {
		t.Fatalf("the log past %d frames was never checkpointed on the writer's connection", 128)
	}
}

func TestPhoneLinesCheckpointOneFileTogether(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bbs.db")
	hosts := []*SQLite{
		openAt(t, path, fastCheckpoints(10*time.Millisecond, 128)),
		openAt(t, path, fastCheckpoints(13*time.Millisecond, 128)),
	}
	counts, most, restarts := loadWAL(t, path, hosts, true, 3*time.Second)
	for _, s := range hosts {
		passive, restarting := s.checkpointCounts()
		t.Logf("host: %d passive checkpoints, %d on the writer", passive, restarting)
	}
	var check string
	if err := rawDB(t, path).QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q, %v", check, err)
	}
	checkLogBounded(t, counts, most, restarts)
}

// checkpointChildEnv names the file a child process of
// TestKilledWhileCheckpointingLosesNoCommit writes to.
const checkpointChildEnv = "M2BBS_TEST_CHECKPOINT_CHILD"

// TestCheckpointChild is the child of
// TestKilledWhileCheckpointingLosesNoCommit: it appends to a journal for
// ever, checkpointing every few milliseconds, and prints the journal's
// count after each append the store acknowledged.
func TestCheckpointChild(t *testing.T) {
	path := os.Getenv(checkpointChildEnv)
	if path == "" {
		t.Skip("run by TestKilledWhileCheckpointingLosesNoCommit")
	}
	s, err := Open(path, fastCheckpoints(3*time.Millisecond, 64))
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	ctx := context.Background()
	if err := s.ResetJournal(ctx, "k", -1, [][]byte{[]byte("start")}); err != nil {
		fmt.Println("reset:", err)
		os.Exit(1)
	}
	out := bufio.NewWriter(os.Stdout)
	for n := 1; ; n++ {
		if err := s.AppendJournal(ctx, "k", n, [][]byte{entry(2048, n)}); err != nil {
			fmt.Fprintln(out, "append:", err)
			out.Flush()
			os.Exit(1)
		}
		fmt.Fprintln(out, n+1)
		out.Flush()
	}
}

func TestKilledWhileCheckpointingLosesNoCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bbs.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCheckpointChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), checkpointChildEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	acked := 0
	for acked < 1500 && lines.Scan() {
		n, err := strconv.Atoi(lines.Text())
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child: %s", lines.Text())
		}
		acked = n
	}
	// kill -9 in the middle of appends and checkpoints; every count
	// printed before it was acknowledged by a commit.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for lines.Scan() {
		if n, err := strconv.Atoi(lines.Text()); err == nil {
			acked = n
		}
	}
	cmd.Wait()
	if acked < 1500 {
		t.Fatalf("child acknowledged only %d appends", acked)
	}
	s := openAt(t, path, testOptions)
	entries, count, err := s.LoadJournal(context.Background(), "k")
	if err != nil {
		t.Fatal(err)
	}
	if count < acked || len(entries) != count {
		t.Fatalf("after kill -9: journal has %d entries (count %d); %d were acknowledged", len(entries), count, acked)
	}
	for i := 1; i < count; i++ {
		if want := strconv.Itoa(i); string(entries[i][:len(want)]) != want {
			t.Fatalf("entry %d reads %q", i, entries[i][:8])
		}
	}
	var check string
	if err := rawDB(t, path).QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check: %q, %v", check, err)
	}
}
