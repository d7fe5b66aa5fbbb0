package dbcopy

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" driver
)

// SQLite is the Dialect of SQLite databases.
type SQLite struct{}

var _ Dialect = SQLite{}

// OpenSQLite opens the SQLite database file at path for a copy (foreign
// keys on, writes taking the lock at BEGIN, waiting up to busy for
// another process's lock). It does not create or migrate it: open it
// with the store first.
func OpenSQLite(path string, busy time.Duration) (Endpoint, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return Endpoint{}, fmt.Errorf("dbcopy: %w", err)
	}
	p := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(abs))
	params := url.Values{
		"mode":          {"rw"},
		"_foreign_keys": {"1"},
		"_busy_timeout": {fmt.Sprint(max(busy.Milliseconds(), 1))},
		"_txlock":       {"immediate"},
	}
	db, err := sql.Open("sqlite3", "file:"+p+"?"+params.Encode())
	if err != nil {
		return Endpoint{}, fmt.Errorf("dbcopy: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one transaction at a time per side
	if err := db.Ping(); err != nil {
		db.Close()
		return Endpoint{}, fmt.Errorf("dbcopy: open %s: %w", path, err)
	}
	return Endpoint{DB: db, Dialect: SQLite{}, Name: path}, nil
}

// Engine is "sqlite".
func (SQLite) Engine() string { return "sqlite" }

// Placeholder is "?".
func (SQLite) Placeholder(int) string { return "?" }

// Tables lists the tables of sqlite_schema but SQLite's own.
func (SQLite) Tables(ctx context.Context, db *sql.DB) ([]Table, error) {
	names, err := strings1(ctx, db, `SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	tables := make([]Table, 0, len(names))
	for _, name := range names {
		t, err := sqliteTable(ctx, db, name)
		if err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	return tables, nil
}

// sqliteTable reads one table's columns, key and parents.
func sqliteTable(ctx context.Context, db *sql.DB, name string) (Table, error) {
	t := Table{Name: name}
	rows, err := db.QueryContext(ctx, `SELECT name, type, pk FROM pragma_table_info(?) ORDER BY cid`, name)
	if err != nil {
		return t, err
	}
	keys := map[int]string{}
	for rows.Next() {
		var c Column
		var pk int
		if err := rows.Scan(&c.Name, &c.Type, &pk); err != nil {
			rows.Close()
			return t, err
		}
		t.Columns = append(t.Columns, c)
		if pk > 0 {
			keys[pk] = c.Name
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return t, err
	}
	for i := 1; i <= len(keys); i++ {
		t.Key = append(t.Key, keys[i])
	}
	if len(t.Key) == 0 { // a rowid table without a declared key: its insertion order
		t.Key = []string{"rowid"}
	}
	parents, err := strings1(ctx, db, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?) ORDER BY 1`, name)
	if err != nil {
		return t, err
	}
	for _, p := range parents {
		if p != name {
			t.Parents = append(t.Parents, p)
		}
	}
	return t, nil
}

// BeginCopy defers foreign key checks to the commit and drops the
// triggers (a copied first user must not be made sysop again), which end
// creates again, all inside tx.
func (SQLite) BeginCopy(ctx context.Context, tx *sql.Tx, _ []Table) (func(context.Context) error, error) {
	if _, err := tx.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
		return nil, err
	}
	type trigger struct{ name, sql string }
	rows, err := tx.QueryContext(ctx, `SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	var triggers []trigger
	for rows.Next() {
		var tr trigger
		if err := rows.Scan(&tr.name, &tr.sql); err != nil {
			rows.Close()
			return nil, err
		}
		triggers = append(triggers, tr)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, tr := range triggers {
		if _, err := tx.ExecContext(ctx, "DROP TRIGGER "+quote(tr.name)); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context) error {
		for _, tr := range triggers {
			if _, err := tx.ExecContext(ctx, tr.sql); err != nil {
				return fmt.Errorf("trigger %s: %w", tr.name, err)
			}
		}
		return nil
	}, nil
}

// AfterTable does nothing: SQLite moves an AUTOINCREMENT table's counter
// past the ids inserted.
func (SQLite) AfterTable(context.Context, *sql.Tx, Table) error { return nil }

// Value stores what the other engine read as the column's declared type
// wants it: bytes in a TEXT column as text, text in a BLOB column as
// bytes (SQLite would keep either as given, and compares TEXT and BLOB as
// different), booleans as 0 or 1, times as Unix milliseconds.
func (SQLite) Value(v any, c Column) (any, error) {
	switch x := v.(type) {
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case time.Time:
		return x.UnixMilli(), nil
	case []byte:
		if strings.EqualFold(c.Type, "TEXT") {
			return string(x), nil
		}
	case string:
		if strings.EqualFold(c.Type, "BLOB") {
			return []byte(x), nil
		}
	}
	return v, nil
}

// strings1 runs query and returns its first column.
func strings1(ctx context.Context, db *sql.DB, query string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		list = append(list, s)
	}
	return list, rows.Err()
}
