package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// The bench's boards on PostgreSQL (-postgres DSN): each board started
// gets a database of its own on that server, created from the DSN's
// database (its role needs CREATEDB) and dropped when the bench ends, so
// every run starts as empty as a new SQLite file.

// newPGBench checks -postgres's DSN.
func newPGBench(dsn string) (*pgBench, error) {
	if !store.IsPostgres(dsn) {
		return nil, fmt.Errorf("bench: -postgres: %q is not a postgres:// URL", store.RedactDSN(dsn))
	}
	if _, err := url.Parse(dsn); err != nil {
		return nil, fmt.Errorf("bench: -postgres %s: %w", store.RedactDSN(dsn), err)
	}
	return &pgBench{admin: dsn}, nil
}

// pgBench creates and drops the bench's databases.
type pgBench struct {
	admin string // the -postgres DSN

	mu      sync.Mutex
	n       int
	created []string
}

// boardDB is the -db of a board started in dir: a SQLite file there, or a
// new PostgreSQL database.
func (o *benchOptions) boardDB(dir string) (string, error) {
	if o.pg == nil {
		return filepath.Join(dir, "bbs.db"), nil
	}
	return o.pg.create()
}

// engine names the boards' database in the table's titles: nothing for
// SQLite (the default), ", database on PostgreSQL" with -postgres.
func (o *benchOptions) engine() string {
	if o.pg == nil {
		return ""
	}
	return ", database on PostgreSQL"
}

// create makes a new database and returns its DSN.
func (p *pgBench) create() (string, error) {
	p.mu.Lock()
	p.n++
	name := fmt.Sprintf("m2bbs_bench_%d_%d", os.Getpid(), p.n)
	p.mu.Unlock()
	if err := p.exec("CREATE DATABASE " + pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("bench: -postgres: %w", err)
	}
	p.mu.Lock()
	p.created = append(p.created, name)
	p.mu.Unlock()
	u, err := url.Parse(p.admin)
	if err != nil {
		return "", fmt.Errorf("bench: -postgres: %s does not parse", store.RedactDSN(p.admin))
	}
	u.Path = "/" + name
	return u.String(), nil
}

// dropAll drops the databases create made.
func (p *pgBench) dropAll() error {
	p.mu.Lock()
	names := p.created
	p.created = nil
	p.mu.Unlock()
	var first error
	for _, name := range names {
		if err := p.exec("DROP DATABASE IF EXISTS " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)"); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// exec runs one statement on the -postgres database.
func (p *pgBench) exec(stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.admin)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	_, err = conn.Exec(ctx, stmt)
	return err
}
