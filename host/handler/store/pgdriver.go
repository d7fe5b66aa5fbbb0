package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/stdlib"
)

// The store's SQL is written once, in SQLite's dialect, and runs on both
// engines. PostgreSQL's connections (pgConnector) take it as it is with
// two conversions, done here and nowhere else:
//
//   - placeholders: SQLite's "?" and "?NNN" become "$n" (rebind);
//   - arguments: a Go bool becomes 1 or 0, as go-sqlite3 stores it (the
//     schema keeps SQLite's 0/1 integer columns).
//
// What has no common spelling is provided by the PostgreSQL schema
// (pgmigrations/001_init.sql: the scalar max(a, b), group_concat) or
// written in SQL both engines accept (ON CONFLICT, RETURNING, "user").

// pgConnector wraps pgx's database/sql connector with those conversions.
type pgConnector struct {
	next driver.Connector
}

// Connect implements driver.Connector.
func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.next.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := conn.(*stdlib.Conn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("unexpected pgx connection %T", conn)
	}
	return &pgConn{conn: pc}, nil
}

// Driver implements driver.Connector.
func (c pgConnector) Driver() driver.Driver { return c.next.Driver() }

// pgConn is one PostgreSQL connection taking SQLite-style SQL.
type pgConn struct {
	conn *stdlib.Conn
}

var (
	_ driver.ConnPrepareContext = (*pgConn)(nil)
	_ driver.ConnBeginTx        = (*pgConn)(nil)
	_ driver.ExecerContext      = (*pgConn)(nil)
	_ driver.QueryerContext     = (*pgConn)(nil)
	_ driver.Pinger             = (*pgConn)(nil)
	_ driver.SessionResetter    = (*pgConn)(nil)
	_ driver.NamedValueChecker  = (*pgConn)(nil)
)

func (c *pgConn) inner() *stdlib.Conn { return c.conn }

// Prepare implements driver.Conn.
func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.inner().PrepareContext(context.Background(), rebind(query))
}

// PrepareContext implements driver.ConnPrepareContext.
func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.inner().PrepareContext(ctx, rebind(query))
}

// Close implements driver.Conn.
func (c *pgConn) Close() error { return c.conn.Close() }

// Begin implements driver.Conn.
func (c *pgConn) Begin() (driver.Tx, error) {
	return c.inner().BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx implements driver.ConnBeginTx.
func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	return c.inner().BeginTx(ctx, opts)
}

// ExecContext implements driver.ExecerContext.
func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.inner().ExecContext(ctx, rebind(query), args)
}

// QueryContext implements driver.QueryerContext.
func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.inner().QueryContext(ctx, rebind(query), args)
}

// Ping implements driver.Pinger.
func (c *pgConn) Ping(ctx context.Context) error { return c.inner().Ping(ctx) }

// ResetSession implements driver.SessionResetter.
func (c *pgConn) ResetSession(ctx context.Context) error { return c.inner().ResetSession(ctx) }

// CheckNamedValue implements driver.NamedValueChecker: a bool is stored
// as 1 or 0; a string PostgreSQL's text cannot hold (a NUL byte, invalid
// UTF-8) is refused with ErrUnstorableText before anything is sent;
// everything else goes to pgx as it is.
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	switch v := nv.Value.(type) {
	case bool:
		nv.Value = int64(0)
		if v {
			nv.Value = int64(1)
		}
	case string:
		if strings.IndexByte(v, 0) >= 0 || !utf8.ValidString(v) {
			return fmt.Errorf("%w (argument %d)", ErrUnstorableText, nv.Ordinal)
		}
	}
	return nil
}

// rebinds caches rebind's answers by query text: the store's queries are
// a fixed set, prepared again on every connection.
var rebinds struct {
	sync.Mutex
	m map[string]string
}

// maxRebinds bounds the cache (queries built with a variable number of
// placeholders are many).
const maxRebinds = 4096

// rebind turns SQLite's placeholders in query ("?", "?NNN") into
// PostgreSQL's ("$n"), leaving string literals, quoted identifiers and
// comments alone. A bare "?" takes the number after the largest used so
// far, as in SQLite.
func rebind(query string) string {
	if !strings.ContainsRune(query, '?') {
		return query
	}
	rebinds.Lock()
	out, ok := rebinds.m[query]
	rebinds.Unlock()
	if ok {
		return out
	}
	out = rebindText(query)
	rebinds.Lock()
	if rebinds.m == nil {
		rebinds.m = make(map[string]string)
	}
	if len(rebinds.m) < maxRebinds {
		rebinds.m[query] = out
	}
	rebinds.Unlock()
	return out
}

// rebindText is rebind without the cache.
func rebindText(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	largest := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		if end := skipQuoted(q, i); end > i {
			b.WriteString(q[i:end])
			i = end - 1
			continue
		}
		switch {
		case c == '?':
			j := i + 1
			n := 0
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				n = min(n*10+int(q[j]-'0'), 1<<20) // PostgreSQL refuses past 65535
				j++
			}
			b.WriteByte('$')
			if j == i+1 {
				n = largest + 1
				b.WriteString(strconv.Itoa(n))
			} else {
				b.WriteString(q[i+1 : j]) // ?NNN is $NNN
			}
			largest = max(largest, n)
			i = j - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// skipQuoted returns the index just past the string literal, quoted
// identifier or comment that starts at q[i] (or len(q) if it never
// ends), or i if none starts there.
func skipQuoted(q string, i int) int {
	switch {
	case q[i] == '\'' || q[i] == '"':
		return closeQuote(q, i+1, q[i])
	case strings.HasPrefix(q[i:], "--"):
		if end := strings.IndexByte(q[i:], '\n'); end >= 0 {
			return i + end
		}
		return len(q)
	case strings.HasPrefix(q[i:], "/*"):
		if end := strings.Index(q[i+2:], "*/"); end >= 0 {
			return i + 2 + end + 2
		}
		return len(q)
	}
	return i
}

// closeQuote returns the index just past the quote that closes the one
// before from (doubled quotes are part of the text), or len(q).
func closeQuote(q string, from int, quote byte) int {
	for i := from; i < len(q); i++ {
		if q[i] != quote {
			continue
		}
		if i+1 < len(q) && q[i+1] == quote {
			i++
			continue
		}
		return i + 1
	}
	return len(q)
}
