// Package dbcopy copies a board's database from one engine to another
// (m2bbs db copy): every table, in the order its foreign keys need, in one
// transaction on the target, with a count check per table before the
// commit. It works over database/sql; what differs between engines
// (listing tables, placeholders, triggers, sequences, value types) is a
// Dialect.
//
// Both databases must already have this program's schema (open them with
// the store first, which migrates them); their tables and columns must
// match. The target must be empty: it may hold only what a new database
// holds (see Seeded), which the copy replaces. The source must be offline:
// no phone line may have beaten its heart within OfflineAfter.
package dbcopy

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// OfflineAfter is how old the newest line heartbeat in the source must be
// for the board to count as offline (a host beats every second; a line is
// down after 3 s).
const OfflineAfter = 5 * time.Second

// Errors returned wrapped; test for them with errors.Is.
var (
	// ErrNotEmpty means the target holds more than a new database does.
	ErrNotEmpty = errors.New("dbcopy: target database is not empty")
	// ErrOnline means a phone line of the source board is up.
	ErrOnline = errors.New("dbcopy: the board is online")
	// ErrSchemaMismatch means the two databases' tables or columns differ.
	ErrSchemaMismatch = errors.New("dbcopy: the databases' schemas differ")
	// ErrCountMismatch means a table's row count on the target differs
	// from the rows read from the source; nothing was committed.
	ErrCountMismatch = errors.New("dbcopy: row counts differ")
)

// Seeded lists what a new database holds, by table: a query counting the
// rows that are NOT seeded (a target is empty when each returns 0). Every
// other table must have no rows at all.
var Seeded = map[string]string{
	"users":     `SELECT count(*) FROM users WHERE name <> '~ftn'`, // the FTN gateway's author (016)
	"areas":     `SELECT count(*) FROM areas WHERE id <> 1`,        // the general area (004)
	"ftn_state": `SELECT 0`,                                        // FTN counters (016)
}

// Endpoint is one database: an open *sql.DB and its engine's Dialect.
type Endpoint struct {
	DB      *sql.DB
	Dialect Dialect
	// Name is how the report names it (a path; never a DSN's password).
	Name string
}

// Table is one table of the schema.
type Table struct {
	Name    string
	Columns []Column
	// Key is the primary key's columns (empty if none): rows are read in
	// its order, so a row referring to an earlier row of its own table
	// (a reply to a post) comes after it.
	Key []string
	// Parents are the tables its foreign keys refer to (itself excluded).
	Parents []string
}

// Column is a column of a table with its type as the engine declares it.
type Column struct {
	Name, Type string
}

// Dialect is what differs between engines.
type Dialect interface {
	// Engine names the engine ("sqlite", "postgres").
	Engine() string
	// Tables lists the board's tables (the engine's own and the
	// migrations' bookkeeping excluded), sorted by name.
	Tables(ctx context.Context, db *sql.DB) ([]Table, error)
	// Placeholder is the n-th (1-based) parameter marker.
	Placeholder(n int) string
	// BeginCopy readies tx to take rows as they are: triggers off,
	// foreign keys checked at the commit where the engine can. The
	// returned func undoes it, inside tx, before the commit.
	BeginCopy(ctx context.Context, tx *sql.Tx, tables []Table) (end func(context.Context) error, err error)
	// AfterTable runs once a table's rows are in (e.g. moving a
	// sequence past the largest id copied).
	AfterTable(ctx context.Context, tx *sql.Tx, t Table) error
	// Value converts a value read from the other engine for column c.
	Value(v any, c Column) (any, error)
}

// TableReport is what happened to one table.
type TableReport struct {
	Table  string
	Source int64 // rows read from the source
	Target int64 // rows counted on the target after the copy
}

// Report is the outcome of a copy.
type Report struct {
	From, To string
	Tables   []TableReport
	Took     time.Duration
}

// Rows is the number of rows copied in all.
func (r Report) Rows() int64 {
	var n int64
	for _, t := range r.Tables {
		n += t.Source
	}
	return n
}

// Copy copies every table of from into to, in one transaction on to, and
// returns the report. Nothing is written to to unless every table's count
// checks out. now is the clock for the offline check (time.Now when nil).
func Copy(ctx context.Context, from, to Endpoint, now func() time.Time) (Report, error) {
	if now == nil {
		now = time.Now
	}
	start := now()
	rep := Report{From: from.Name, To: to.Name}
	tables, err := matchSchemas(ctx, from, to)
	if err != nil {
		return rep, err
	}
	if err := checkOffline(ctx, from, now()); err != nil {
		return rep, err
	}
	if err := checkEmpty(ctx, to, tables); err != nil {
		return rep, err
	}
	order, err := dependencyOrder(tables)
	if err != nil {
		return rep, err
	}
	rtx, err := from.DB.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return rep, fmt.Errorf("dbcopy: read %s: %w", from.Name, err)
	}
	defer rtx.Rollback()
	wtx, err := to.DB.BeginTx(ctx, nil)
	if err != nil {
		return rep, fmt.Errorf("dbcopy: write %s: %w", to.Name, err)
	}
	defer wtx.Rollback()
	end, err := to.Dialect.BeginCopy(ctx, wtx, order)
	if err != nil {
		return rep, fmt.Errorf("dbcopy: ready %s: %w", to.Name, err)
	}
	// Empty the seeded tables, children first.
	for _, t := range slices.Backward(order) {
		if _, err := wtx.ExecContext(ctx, "DELETE FROM "+quote(t.Name)); err != nil {
			return rep, fmt.Errorf("dbcopy: empty %s: %w", t.Name, err)
		}
	}
	for _, t := range order {
		tr, err := copyTable(ctx, rtx, wtx, from.Dialect, to.Dialect, t)
		if err != nil {
			return rep, err
		}
		rep.Tables = append(rep.Tables, tr)
	}
	if err := end(ctx); err != nil {
		return rep, fmt.Errorf("dbcopy: finish %s: %w", to.Name, err)
	}
	var bad []string
	for i, tr := range rep.Tables {
		var n int64
		if err := wtx.QueryRowContext(ctx, "SELECT count(*) FROM "+quote(tr.Table)).Scan(&n); err != nil {
			return rep, fmt.Errorf("dbcopy: count %s: %w", tr.Table, err)
		}
		rep.Tables[i].Target = n
		if n != tr.Source {
			bad = append(bad, fmt.Sprintf("%s: %d read, %d written", tr.Table, tr.Source, n))
		}
	}
	if len(bad) > 0 {
		return rep, fmt.Errorf("%w: %s", ErrCountMismatch, strings.Join(bad, "; "))
	}
	if err := wtx.Commit(); err != nil {
		return rep, fmt.Errorf("dbcopy: commit %s: %w", to.Name, err)
	}
	rep.Took = now().Sub(start)
	return rep, nil
}

// copyTable copies t's rows, in key order, from rtx to wtx.
func copyTable(ctx context.Context, rtx, wtx *sql.Tx, from, to Dialect, t Table) (TableReport, error) {
	tr := TableReport{Table: t.Name}
	names := make([]string, len(t.Columns))
	marks := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = quote(c.Name)
		marks[i] = to.Placeholder(i + 1)
	}
	cols := strings.Join(names, ", ")
	order := names
	if len(t.Key) > 0 {
		order = make([]string, len(t.Key))
		for i, k := range t.Key {
			order[i] = quote(k)
		}
	}
	ins, err := wtx.PrepareContext(ctx, "INSERT INTO "+quote(t.Name)+" ("+cols+") VALUES ("+strings.Join(marks, ", ")+")")
	if err != nil {
		return tr, fmt.Errorf("dbcopy: %s: %w", t.Name, err)
	}
	defer ins.Close()
	rows, err := rtx.QueryContext(ctx, "SELECT "+cols+" FROM "+quote(t.Name)+" ORDER BY "+strings.Join(order, ", "))
	if err != nil {
		return tr, fmt.Errorf("dbcopy: read %s: %w", t.Name, err)
	}
	defer rows.Close()
	vals := make([]any, len(t.Columns))
	ptrs := make([]any, len(t.Columns))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return tr, fmt.Errorf("dbcopy: read %s: %w", t.Name, err)
		}
		for i, c := range t.Columns {
			if vals[i], err = to.Value(vals[i], c); err != nil {
				return tr, fmt.Errorf("dbcopy: %s.%s: %w", t.Name, c.Name, err)
			}
		}
		if _, err := ins.ExecContext(ctx, vals...); err != nil {
			return tr, fmt.Errorf("dbcopy: write %s row %d: %w", t.Name, tr.Source+1, err)
		}
		tr.Source++
	}
	if err := rows.Err(); err != nil {
		return tr, fmt.Errorf("dbcopy: read %s: %w", t.Name, err)
	}
	if err := to.AfterTable(ctx, wtx, t); err != nil {
		return tr, fmt.Errorf("dbcopy: %s: %w", t.Name, err)
	}
	return tr, nil
}

// matchSchemas lists the tables of both sides and checks that they have
// the same tables with the same columns; it returns the target's tables
// (whose column types the target's Value needs, and whose foreign keys
// set the order) with the source's keys (the order rows are read in).
func matchSchemas(ctx context.Context, from, to Endpoint) ([]Table, error) {
	src, err := from.Dialect.Tables(ctx, from.DB)
	if err != nil {
		return nil, fmt.Errorf("dbcopy: tables of %s: %w", from.Name, err)
	}
	dst, err := to.Dialect.Tables(ctx, to.DB)
	if err != nil {
		return nil, fmt.Errorf("dbcopy: tables of %s: %w", to.Name, err)
	}
	srcBy := map[string]Table{}
	for _, t := range src {
		srcBy[t.Name] = t
	}
	var diffs []string
	var tables []Table
	for _, t := range dst {
		s, ok := srcBy[t.Name]
		if !ok {
			diffs = append(diffs, "table "+t.Name+" only in "+to.Name)
			continue
		}
		delete(srcBy, t.Name)
		tables = append(tables, Table{Name: t.Name, Columns: t.Columns, Key: s.Key, Parents: t.Parents})
		if a, b := columnNames(s), columnNames(t); !slices.Equal(a, b) {
			diffs = append(diffs, fmt.Sprintf("table %s: columns %v in %s, %v in %s", t.Name, a, from.Name, b, to.Name))
		}
	}
	for name := range srcBy {
		diffs = append(diffs, "table "+name+" only in "+from.Name)
	}
	if len(diffs) > 0 {
		slices.Sort(diffs)
		return nil, fmt.Errorf("%w: %s (run both with this program's m2bbs first, so both are migrated)", ErrSchemaMismatch, strings.Join(diffs, "; "))
	}
	return tables, nil
}

// columnNames is t's column names, sorted.
func columnNames(t Table) []string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	slices.Sort(names)
	return names
}

// checkOffline refuses a source with a phone line that beat its heart
// less than OfflineAfter before now.
func checkOffline(ctx context.Context, from Endpoint, now time.Time) error {
	rows, err := from.DB.QueryContext(ctx, "SELECT line FROM lines WHERE heartbeat_at > "+from.Dialect.Placeholder(1)+" ORDER BY line",
		now.Add(-OfflineAfter).UnixMilli())
	if err != nil {
		return fmt.Errorf("dbcopy: lines of %s: %w", from.Name, err)
	}
	defer rows.Close()
	var up []string
	for rows.Next() {
		var n int64
		if err := rows.Scan(&n); err != nil {
			return fmt.Errorf("dbcopy: lines of %s: %w", from.Name, err)
		}
		up = append(up, fmt.Sprint(n))
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("dbcopy: lines of %s: %w", from.Name, err)
	}
	if len(up) > 0 {
		return fmt.Errorf("%w: line %s of %s beat its heart in the last %v; stop every host first", ErrOnline, strings.Join(up, ", "), from.Name, OfflineAfter)
	}
	return nil
}

// checkEmpty refuses a target holding more than a new database does.
func checkEmpty(ctx context.Context, to Endpoint, tables []Table) error {
	var full []string
	for _, t := range tables {
		q, ok := Seeded[t.Name]
		if !ok {
			q = "SELECT count(*) FROM " + quote(t.Name)
		}
		var n int64
		if err := to.DB.QueryRowContext(ctx, q).Scan(&n); err != nil {
			return fmt.Errorf("dbcopy: count %s in %s: %w", t.Name, to.Name, err)
		}
		if n > 0 {
			full = append(full, fmt.Sprintf("%s (%d)", t.Name, n))
		}
	}
	if len(full) > 0 {
		return fmt.Errorf("%w: %s has rows in %s; copy into a new database", ErrNotEmpty, to.Name, strings.Join(full, ", "))
	}
	return nil
}

// dependencyOrder sorts tables so that each comes after the tables it
// refers to (and by name among equals, so the order is stable).
func dependencyOrder(tables []Table) ([]Table, error) {
	by := map[string]Table{}
	for _, t := range tables {
		by[t.Name] = t
	}
	done := map[string]bool{}
	var order []Table
	for len(order) < len(tables) {
		progress := false
		for _, t := range tables { // sorted by name
			if done[t.Name] {
				continue
			}
			ready := true
			for _, p := range t.Parents {
				if _, known := by[p]; known && !done[p] {
					ready = false
					break
				}
			}
			if ready {
				done[t.Name] = true
				order = append(order, t)
				progress = true
			}
		}
		if !progress {
			var left []string
			for _, t := range tables {
				if !done[t.Name] {
					left = append(left, t.Name)
				}
			}
			return nil, fmt.Errorf("dbcopy: foreign keys form a cycle among %s", strings.Join(left, ", "))
		}
	}
	return order, nil
}

// quote quotes an SQL identifier (both engines take double quotes).
func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
