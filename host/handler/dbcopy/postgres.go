package dbcopy

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// Postgres is the Dialect of PostgreSQL databases (the tables of the
// connection's current schema).
type Postgres struct {
	// Skip names tables that are not the board's (the migrations'
	// bookkeeping).
	Skip []string
}

var _ Dialect = Postgres{}

// pgSchemaTable is the PostgreSQL store's record of its migrations
// (store/pg.go), which each database keeps for itself.
const pgSchemaTable = "m2bbs_schema"

// OpenPostgres opens the database at dsn for a copy; the report names it
// without its password (store.RedactDSN). It does not create or migrate
// it: open it with the store first.
func OpenPostgres(dsn string) (Endpoint, error) {
	if _, err := pgx.ParseConfig(dsn); err != nil {
		// pgx's parse errors may quote the DSN, password included.
		return Endpoint{}, fmt.Errorf("dbcopy: %s: invalid PostgreSQL DSN", store.RedactDSN(dsn))
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return Endpoint{}, fmt.Errorf("dbcopy: open %s: %w", store.RedactDSN(dsn), err)
	}
	db.SetMaxOpenConns(2) // the copy's transaction, and the checks before it
	if err := db.Ping(); err != nil {
		db.Close()
		return Endpoint{}, fmt.Errorf("dbcopy: open %s: %w", store.RedactDSN(dsn), err)
	}
	return Endpoint{DB: db, Dialect: Postgres{Skip: []string{pgSchemaTable}}, Name: store.RedactDSN(dsn)}, nil
}

// Engine is "postgres".
func (Postgres) Engine() string { return "postgres" }

// Placeholder is $n.
func (Postgres) Placeholder(n int) string { return "$" + strconv.Itoa(n) }

// Tables lists the base tables of the current schema but those skipped.
func (p Postgres) Tables(ctx context.Context, db *sql.DB) ([]Table, error) {
	names, err := strings1(ctx, db, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		return nil, err
	}
	var tables []Table
	for _, name := range names {
		if containsFold(p.Skip, name) {
			continue
		}
		t := Table{Name: name}
		rows, err := db.QueryContext(ctx, `SELECT column_name, udt_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, name)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var c Column
			if err := rows.Scan(&c.Name, &c.Type); err != nil {
				rows.Close()
				return nil, err
			}
			t.Columns = append(t.Columns, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if t.Key, err = strings1(ctx, db, `SELECT a.attname FROM pg_index i
			JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
			WHERE i.indrelid = $1::regclass AND i.indisprimary
			ORDER BY array_position(i.indkey::int2[], a.attnum)`, quote(name)); err != nil {
			return nil, err
		}
		parents, err := strings1(ctx, db, `SELECT DISTINCT c.relname FROM pg_constraint f JOIN pg_class c ON c.oid = f.confrelid
			WHERE f.conrelid = $1::regclass AND f.contype = 'f' ORDER BY 1`, quote(name))
		if err != nil {
			return nil, err
		}
		for _, pa := range parents {
			if pa != name {
				t.Parents = append(t.Parents, pa)
			}
		}
		tables = append(tables, t)
	}
	return tables, nil
}

// BeginCopy defers the deferrable constraints and turns the tables' own
// triggers off (foreign keys stay checked), which end turns back on.
func (Postgres) BeginCopy(ctx context.Context, tx *sql.Tx, tables []Table) (func(context.Context) error, error) {
	if _, err := tx.ExecContext(ctx, "SET CONSTRAINTS ALL DEFERRED"); err != nil {
		return nil, err
	}
	for _, t := range tables {
		if _, err := tx.ExecContext(ctx, "ALTER TABLE "+quote(t.Name)+" DISABLE TRIGGER USER"); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context) error {
		for _, t := range tables {
			if _, err := tx.ExecContext(ctx, "ALTER TABLE "+quote(t.Name)+" ENABLE TRIGGER USER"); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// AfterTable moves each sequence of t's columns past the largest value
// copied, so the next row gets a new id.
func (Postgres) AfterTable(ctx context.Context, tx *sql.Tx, t Table) error {
	for _, c := range t.Columns {
		var seq sql.NullString
		if err := tx.QueryRowContext(ctx, "SELECT pg_get_serial_sequence($1, $2)", quote(t.Name), c.Name).Scan(&seq); err != nil {
			return err
		}
		if !seq.Valid {
			continue
		}
		q := fmt.Sprintf("SELECT setval($1, COALESCE(MAX(%s), 0) + 1, false) FROM %s", quote(c.Name), quote(t.Name))
		if _, err := tx.ExecContext(ctx, q, seq.String); err != nil {
			return fmt.Errorf("sequence of %s: %w", c.Name, err)
		}
	}
	return nil
}

// Value converts what SQLite stores (integers for booleans, text or
// bytes either way) to the column's PostgreSQL type (its udt_name).
func (Postgres) Value(v any, c Column) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch strings.ToLower(c.Type) {
	case "bool":
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case float64:
			return x != 0, nil
		}
	case "bytea":
		if s, ok := v.(string); ok {
			return []byte(s), nil
		}
	case "text", "varchar", "bpchar", "citext":
		if b, ok := v.([]byte); ok {
			return string(b), nil
		}
	case "int2", "int4", "int8":
		switch x := v.(type) {
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		case float64:
			if x != math.Trunc(x) {
				return nil, fmt.Errorf("%v is not an integer", x)
			}
			return int64(x), nil
		case time.Time:
			return x.UnixMilli(), nil
		}
	case "float4", "float8", "numeric":
		if x, ok := v.(int64); ok {
			return float64(x), nil
		}
	}
	return v, nil
}

// containsFold reports whether list holds s, in any case.
func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
