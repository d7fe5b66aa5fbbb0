// Package pgbell is the live.Bell of a board on PostgreSQL: a host rings
// with NOTIFY after storing its callers' shared events, and every host
// LISTENs, so an event crosses lines in about one round trip to the
// server instead of the next 100 ms poll, and an idle board reads
// nothing. The listening connection is pgxlisten's, re-made after a
// fault; while it is down, and every Backstop anyway, Wait returns by
// itself, so a lost notification delays an event, never loses it (the
// events are in the table; the bell only says when to look).
package pgbell

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgxlisten"

	"github.com/m2bbs/m2bbs/host/handler/live"
)

// Channel is the notification channel of the shared module's events.
const Channel = "m2bbs_shared_events"

// Defaults.
const (
	// DefaultBackstop is how often Wait returns without a ring.
	DefaultBackstop = time.Second
	// ReconnectDelay is the wait before the listening connection is made
	// again after a fault.
	ReconnectDelay = time.Second
	// notifyTimeout bounds one NOTIFY.
	notifyTimeout = 2 * time.Second
)

// Bell is a live.Bell on one PostgreSQL database. Make it with New and
// start it with Run.
type Bell struct {
	dsn      string
	backstop time.Duration
	log      *slog.Logger

	rings chan struct{} // this host rang: a NOTIFY is due (cap 1)
	heard chan struct{} // a notification came: Wait returns (cap 1)
}

var _ live.Bell = (*Bell)(nil)

// New returns a bell on the database at dsn (a postgres:// URL or
// key=value string), returning from Wait at least every backstop
// (DefaultBackstop when not positive). log (nil: discarded) never gets
// the DSN.
func New(dsn string, backstop time.Duration, log *slog.Logger) (*Bell, error) {
	if _, err := pgx.ParseConfig(dsn); err != nil {
		// pgx's parse errors may quote the DSN, password included.
		return nil, errors.New("pgbell: invalid PostgreSQL DSN")
	}
	if backstop <= 0 {
		backstop = DefaultBackstop
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Bell{dsn: dsn, backstop: backstop, log: log,
		rings: make(chan struct{}, 1), heard: make(chan struct{}, 1)}, nil
}

// Run listens for the other hosts' rings and sends this host's until ctx
// is done.
func (b *Bell) Run(ctx context.Context) {
	l := &pgxlisten.Listener{
		Connect: func(ctx context.Context) (*pgx.Conn, error) { return pgx.Connect(ctx, b.dsn) },
		LogError: func(ctx context.Context, err error) {
			if ctx.Err() == nil { // not the end of Run
				b.log.Warn("shared events bell: listen", "err", err)
			}
		},
		ReconnectDelay: ReconnectDelay,
	}
	l.Handle(Channel, handler{b})
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = l.Listen(ctx) // returns only with ctx
	}()
	b.send(ctx)
	<-done
}

// handler wakes Wait for each notification, and once after each
// (re)connection, for what was stored while the bell was deaf.
type handler struct{ b *Bell }

func (h handler) HandleNotification(context.Context, *pgconn.Notification, *pgx.Conn) error {
	h.b.wake()
	return nil
}

func (h handler) HandleBacklog(context.Context, string, *pgx.Conn) error {
	h.b.wake()
	return nil
}

// wake makes the next Wait return (or the one waiting now).
func (b *Bell) wake() {
	select {
	case b.heard <- struct{}{}:
	default:
	}
}

// send sends a NOTIFY for the rings, several rings made meanwhile in one,
// on a connection of its own, until ctx is done.
func (b *Bell) send(ctx context.Context) {
	var conn *pgx.Conn
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.rings:
		}
		nctx, cancel := context.WithTimeout(ctx, notifyTimeout)
		var err error
		if conn == nil {
			conn, err = pgx.Connect(nctx, b.dsn)
		}
		if err == nil {
			_, err = conn.Exec(nctx, "SELECT pg_notify($1, '')", Channel)
			if err != nil {
				conn.Close(context.Background())
				conn = nil
			}
		}
		cancel()
		if err != nil && ctx.Err() == nil {
			b.log.Warn("shared events bell: notify (the other lines read the event at their next look)", "err", err)
		}
	}
}

// Ring asks for a NOTIFY, without waiting for it.
func (b *Bell) Ring(context.Context) error {
	select {
	case b.rings <- struct{}{}:
	default: // one is due already, and covers this event too
	}
	return nil
}

// Wait returns when another host rang, after the backstop, or with ctx's
// error.
func (b *Bell) Wait(ctx context.Context) error {
	t := time.NewTimer(b.backstop)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-b.heard:
	case <-t.C:
	}
	return nil
}
