package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/m2bbs/m2bbs/host/shared/lograte"
)

// Checkpoints off the commit path. In WAL mode a commit appends its pages
// to the write-ahead log; a checkpoint copies them into the database file
// (two fdatasync calls, tens of milliseconds on a slow disk). SQLite runs
// one by itself inside the commit that takes the log past
// wal_autocheckpoint pages (1,000 by default), so under load every few
// hundred commits one of them, and the replies a worker holds for it,
// waits for the disk.
//
// Instead, the writer's own automatic checkpoint is moved far out (a
// backstop, writerBackstop) and a checkpointer goroutine, on a
// connection of its own, runs a PASSIVE checkpoint every second: it copies
// what was committed before it started while writers go on appending, and
// never waits for a lock. Nothing about durability changes: a commit is
// durable in the log, whether or not it was copied yet, and a checkpoint
// cut short by a crash is finished by the next one.
//
// What a passive checkpoint cannot do under steady writes is let the log
// start over: SQLite reuses the log from its start only when a writer
// finds every frame copied, and writes keep landing while the checkpoint
// runs. So once the log holds walRestartFrames frames after a passive
// checkpoint (and has grown since the last time), the checkpointer runs a
// second passive checkpoint on the writer's connection, held from the
// pool like a transaction: the host's writes wait for it in line, without
// the busy timeout's sleeps, while it copies the few frames written since
// the first, and the next commit writes from the log's start. A reader on
// an old snapshot, or another host's commit, can still keep it from
// starting over; if the log reaches twice walRestartFrames, that second
// checkpoint is a RESTART, which waits for them through the busy timeout.
// The log therefore stays within about walRestartFrames plus a second's
// commits, and the host's writers wait a few milliseconds once per
// walRestartFrames frames instead of once per 1,000. PruneJournals still
// truncates the file every minute.
//
// Phone lines (several hosts on one file) each run a checkpointer; SQLite
// lets one checkpoint run at a time and the others find it busy, which is
// harmless. Another program on the file (the sqlite3 shell, m2bbs db
// copy) checkpoints the usual way.
const (
	// checkpointInterval is how often the checkpointer runs.
	checkpointInterval = time.Second
	// walRestartFrames is the size of the log, in frames (pages), past
	// which the checkpointer makes it start over (a checkpoint on the
	// writer's connection): 16 MiB at SQLite's default 4 KiB page.
	walRestartFrames = 4096
	// writerBackstop times the restart size is the writer connection's
	// wal_autocheckpoint: SQLite's own checkpoint on the commit path,
	// only if the checkpointer falls that far behind.
	writerBackstop = 4
)

// checkpointer runs the checkpoints of one set of pools (see above).
type checkpointer struct {
	db        *sql.DB // one read-write connection of its own
	writer    *sql.DB // the pools' writer, for restarts
	every     time.Duration
	restartAt int
	log       *lograte.Limiter
	cancel    context.CancelFunc
	done      chan struct{}
	// restarted is the log's size at the last restart (the
	// checkpointer's goroutine only).
	restarted int
	// passive and restarts count the checkpoints run (tests, logs).
	passive, restarts atomic.Int64
}

// startCheckpointer opens the checkpointer's connection and starts it.
func (s *SQLite) startCheckpointer(writer *sql.DB, busy string) (*checkpointer, error) {
	db := sql.OpenDB(s.connector(url.Values{
		"_busy_timeout": {busy},
		"_synchronous":  {s.sync},
	}))
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	every, restartAt := s.checkpointEvery(), s.walRestartFrames()
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, writer: writer, every: every, restartAt: restartAt, cancel: cancel, done: make(chan struct{}),
		log: lograte.New(s.log, 3, time.Minute)}
	if err := db.PingContext(ctx); err != nil {
		cancel()
		db.Close()
		return nil, err
	}
	go c.run(ctx)
	return c, nil
}

// run checkpoints every c.every until ctx is done.
func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	tick := time.NewTicker(c.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if err := c.once(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("store: checkpoint", "err", err)
		}
	}
}

// once runs a passive checkpoint, and a restarting one if the log has
// grown past c.restartAt frames since the last.
func (c *checkpointer) once(ctx context.Context) error {
	frames, err := checkpoint(ctx, c.db, "PASSIVE")
	if err != nil {
		return err
	}
	c.passive.Add(1)
	if frames < c.restartAt || frames == c.restarted {
		return nil // small, or not written since it was made to start over
	}
	// Between this host's commits, a passive checkpoint copies the few
	// frames written since the one above and leaves the log for the next
	// commit to start over, unless a reader or another host's commit got
	// in; should the log grow on to twice the restart size, a RESTART
	// waits for them (through the busy timeout).
	mode := "PASSIVE"
	if frames >= 2*c.restartAt {
		mode = "RESTART"
	}
	w, err := c.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", mode, err)
	}
	defer w.Close()
	if c.restarted, err = checkpoint(ctx, w, mode); err != nil {
		return err
	}
	c.restarts.Add(1)
	return nil
}

// rowQueryer is a *sql.DB or *sql.Conn.
type rowQueryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// checkpoint runs one checkpoint in mode on q and returns the frames in
// the log (-1 when another connection's checkpoint was running).
func checkpoint(ctx context.Context, q rowQueryer, mode string) (int, error) {
	var busy, frames, copied int
	err := q.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &frames, &copied)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", mode, err)
	}
	return frames, nil
}

// stop ends the checkpointer, interrupting a checkpoint under way, and
// closes its connection.
func (c *checkpointer) stop() error {
	c.cancel()
	<-c.done
	return c.db.Close()
}

// checkpointEvery is how often s's checkpointer runs.
func (s *SQLite) checkpointEvery() time.Duration {
	if s.ckptEvery > 0 {
		return s.ckptEvery
	}
	return checkpointInterval
}

// walRestartFrames is the log's size past which s's checkpointer makes it
// start over.
func (s *SQLite) walRestartFrames() int {
	if s.walRestart > 0 {
		return s.walRestart
	}
	return walRestartFrames
}

// writerPragmas are run on each new writer connection of s.
func (s *SQLite) writerPragmas() []string {
	auto := writerBackstop * s.walRestartFrames()
	switch {
	case s.ckptEvery < 0:
		return nil // SQLite's own checkpoints (benchmarks)
	case s.writerAuto > 0:
		auto = s.writerAuto
	case s.writerAuto < 0:
		auto = 0
	}
	return []string{"PRAGMA wal_autocheckpoint = " + strconv.Itoa(auto)}
}

// checkpointCounts reports how many passive and restarting checkpoints
// the current pools' checkpointer ran (tests).
func (s *SQLite) checkpointCounts() (passive, restarts int64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.pools == nil || s.pools.ckpt == nil {
		return 0, 0
	}
	return s.pools.ckpt.passive.Load(), s.pools.ckpt.restarts.Load()
}
