package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"net/url"

	"github.com/mattn/go-sqlite3"
)

// Prepared statements are kept per connection by the driver
// (go-sqlite3's _stmt_cache_size): a query run on a connection takes its
// statement, prepared the first time, from that connection's cache, keyed
// by the query's text, and puts it back reset when the call is done. A
// statement in use (rows still open) is out of the cache, so the same
// query run again meanwhile prepares a second one instead of sharing it.
// Each cache keeps its most recently used statements, finalizes the least
// recently used one past its size, and is finalized with its connection
// (Close, Reconnect). Text with several statements (the migrations) is
// never cached. SQLite re-prepares a cached statement by itself after a
// schema change (another host migrating the file).
//
// The sizes hold every statement of the store with room to spare (about
// 100 texts over all calls, 60 of them writes), so no call of a visit
// prepares again; an entry costs a few KiB of SQLite's memory.
const (
	// writerStmtCache is the statement cache of the one writer
	// connection: the writes, and the reads inside write transactions.
	writerStmtCache = 160
	// readerStmtCache is the statement cache of each read-only
	// connection.
	readerStmtCache = 96
)

// connector opens connections to the database file with go-sqlite3 and
// the store's connect hook (tests count prepares with it).
type connector struct {
	dsn  string
	hook func(*sqlite3.SQLiteConn) error
	// pragmas run on each new connection, after hook.
	pragmas []string
}

// connector is a connector for s's file with params (see dsn).
func (s *SQLite) connector(params url.Values) connector {
	return connector{dsn: s.dsn(params), hook: s.connectHook}
}

// Connect implements driver.Connector.
func (c connector) Connect(context.Context) (driver.Conn, error) {
	return c.Driver().Open(c.dsn)
}

// Driver implements driver.Connector.
func (c connector) Driver() driver.Driver {
	if len(c.pragmas) == 0 {
		return &sqlite3.SQLiteDriver{ConnectHook: c.hook}
	}
	return &sqlite3.SQLiteDriver{ConnectHook: func(conn *sqlite3.SQLiteConn) error {
		if c.hook != nil {
			if err := c.hook(conn); err != nil {
				return err
			}
		}
		for _, p := range c.pragmas {
			if _, err := conn.Exec(p, nil); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		return nil
	}}
}
