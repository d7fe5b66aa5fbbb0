// Package replay replays the session journals a board keeps in its
// database, offline, against any version of the scripts: the sysop's
// m2bbs replay (one caller's transcript, to reproduce their bug) and
// m2bbs upgrade -dry-run (who an upgrade would restart, and where).
//
// It reads the database read-only (store.OpenReadOnly), so it may run
// beside the board, on any machine that sees its database file, phone
// lines included: nothing it does reaches a caller, a live session or the
// store. Each journal is replayed on a fresh Lua state by session.DryRun,
// whose replay and divergence rules are the host's own.
package replay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/journal"
	"github.com/m2bbs/m2bbs/host/handler/screens"
	"github.com/m2bbs/m2bbs/host/handler/session"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// DefaultMaxJournalBytes bounds the journal replayed when
// Config.MaxJournalBytes is zero. A journal grows by about 130 bytes a
// prompt and starts over at every main menu: a larger one is damaged or
// hostile, and is reported instead of loaded.
const DefaultMaxJournalBytes = 16 << 20

// ErrNoJournal is returned by Board.Replay for a conn id with no journal.
var ErrNoJournal = errors.New("no journal for that conn id")

// Config says which scripts journals are replayed on.
type Config struct {
	// Session names the scripts (ScriptsDir, MainScript, Entry,
	// ResumeEntry) and the resume budget that stops a script that loops.
	Session session.Config
	// ScreensDir is the folder of the screens the scripts show.
	ScreensDir string
	// MaxJournalBytes bounds a journal (DefaultMaxJournalBytes when 0).
	MaxJournalBytes int64
	// MemoryLimit is the heap in bytes past which a replay's script is
	// stopped (DefaultMemoryLimit when 0).
	MemoryLimit uint64
	// Log receives the scripts' log lines; nil discards them.
	Log *slog.Logger
}

// Board is a board's database, open read-only, and the scripts to replay
// its journals on.
type Board struct {
	cfg     Config
	db      *store.SQLite
	screens *screens.Snapshot
}

// Open opens the database at dbPath read-only and loads the screens.
func Open(cfg Config, dbPath string) (*Board, error) {
	if cfg.MaxJournalBytes <= 0 {
		cfg.MaxJournalBytes = DefaultMaxJournalBytes
	}
	if cfg.MemoryLimit == 0 {
		cfg.MemoryLimit = DefaultMemoryLimit
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	snap, err := screens.Load(cfg.ScreensDir)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	db, err := store.OpenReadOnly(dbPath, store.Options{Log: cfg.Log})
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	return &Board{cfg: cfg, db: db, screens: snap}, nil
}

// Close closes the database.
func (b *Board) Close() error { return b.db.Close() }

// Journal describes one stored journal.
type Journal struct {
	ConnID  string    `json:"conn_id"`
	User    string    `json:"user,omitempty"`
	Bytes   int64     `json:"bytes"`
	Written time.Time `json:"written"`
	Entries int       `json:"entries"`
	// Waiting is the label of the last prompt the journal holds: where
	// the caller is, unless they are in the middle of a line.
	Waiting string `json:"waiting,omitempty"`
	// Problem says why the journal cannot be replayed, if it cannot.
	Problem string `json:"problem,omitempty"`
}

// List describes every journal the database holds, in order of conn id.
func (b *Board) List(ctx context.Context) ([]Journal, error) {
	infos, err := b.db.ListJournals(ctx)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	list := make([]Journal, 0, len(infos))
	for _, info := range infos {
		j := Journal{ConnID: info.ConnID, Bytes: info.Bytes, Written: info.Written}
		raw, err := b.load(ctx, info)
		if err != nil {
			j.Problem = err.Error()
			list = append(list, j)
			continue
		}
		j.Entries = len(raw)
		for i, r := range raw {
			e, err := journal.Parse(r)
			if err != nil {
				j.Problem = fmt.Sprintf("entry %d: %v", i, err)
				break
			}
			switch e.Kind {
			case journal.KindLogin, journal.KindCheckpoint:
				j.User = e.User
			case journal.KindPrompt:
				j.Waiting = e.Label
			}
		}
		list = append(list, j)
	}
	return list, nil
}

// Replay replays connID's journal and says how it went.
func (b *Board) Replay(ctx context.Context, connID string) (session.DryOutcome, error) {
	infos, err := b.db.ListJournals(ctx)
	if err != nil {
		return session.DryOutcome{}, fmt.Errorf("replay: %w", err)
	}
	for _, info := range infos {
		if info.ConnID == connID {
			return b.replay(ctx, info)
		}
	}
	return session.DryOutcome{}, fmt.Errorf("replay: conn %s: %w", connID, ErrNoJournal)
}

// ReplayAll replays every journal, in order of conn id.
func (b *Board) ReplayAll(ctx context.Context) ([]session.DryOutcome, error) {
	infos, err := b.db.ListJournals(ctx)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	out := make([]session.DryOutcome, 0, len(infos))
	for _, info := range infos {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		o, err := b.replay(ctx, info)
		if errors.Is(err, ErrNoJournal) {
			continue // the call ended since the list was read
		}
		if err != nil {
			return out, err
		}
		out = append(out, o)
	}
	return out, nil
}

// replay replays one journal on a Lua state of its own, so that no
// replay sees what another left in the scripts' globals. A journal that
// cannot be loaded is an unreadable outcome; scripts that do not load are
// an error.
func (b *Board) replay(ctx context.Context, info store.JournalInfo) (session.DryOutcome, error) {
	raw, err := b.load(ctx, info)
	if err != nil {
		return session.DryOutcome{ConnID: info.ConnID, Result: session.DryUnreadable, Why: err.Error()}, nil
	}
	if len(raw) == 0 {
		return session.DryOutcome{}, fmt.Errorf("replay: conn %s: %w", info.ConnID, ErrNoJournal)
	}
	d, err := session.NewDryRun(b.cfg.Session, session.Deps{Screens: b.screens, Store: b.db, Log: b.cfg.Log})
	if err != nil {
		return session.DryOutcome{}, fmt.Errorf("replay: %w", err)
	}
	defer d.Close()
	stop := watchHeap(d, b.cfg.MemoryLimit)
	defer stop()
	return d.Replay(info.ConnID, raw), nil
}

// load reads a journal within the size limit.
func (b *Board) load(ctx context.Context, info store.JournalInfo) ([][]byte, error) {
	if info.Bytes > b.cfg.MaxJournalBytes {
		return nil, fmt.Errorf("journal of %d bytes, over the limit of %d", info.Bytes, b.cfg.MaxJournalBytes)
	}
	raw, _, err := b.db.LoadJournal(ctx, info.ConnID)
	if errors.Is(err, store.ErrDamaged) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("load journal: %w", err)
	}
	return raw, nil
}
