package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"text/tabwriter"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/dbcopy"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// runDB is "m2bbs db": the sysop's database tools. Its one subcommand is
// copy FROM TO.
func runDB(ctx context.Context, args []string, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "copy" {
		fmt.Fprintln(stderr, "usage: m2bbs db copy FROM TO   (each a SQLite file path or a postgres:// DSN)")
		return errors.New("db: expected the subcommand copy")
	}
	return dbCopy(ctx, args[1:], os.Stdout, stderr)
}

// dbCopy copies the board in FROM into the new database TO and prints the
// report to stdout.
func dbCopy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("m2bbs db copy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: m2bbs db copy FROM TO\n\nCopies every table of the board in FROM into TO, a new database, in one\ntransaction, and checks each table's row count. Stop every host first.\nFROM and TO are SQLite file paths or postgres:// DSNs.")
		fs.PrintDefaults()
	}
	busy := fs.Duration("busy-timeout", store.DefaultBusyTimeout, "how long to wait for a SQLite lock another process holds")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return errors.New("db copy: expected FROM and TO")
	}
	from, err := openCopyEndpoint(ctx, fs.Arg(0), false, *busy)
	if err != nil {
		return err
	}
	defer from.DB.Close()
	to, err := openCopyEndpoint(ctx, fs.Arg(1), true, *busy)
	if err != nil {
		return err
	}
	defer to.DB.Close()
	rep, err := dbcopy.Copy(ctx, from, to, nil)
	if err != nil {
		if len(rep.Tables) > 0 {
			printCopyReport(stdout, rep)
		}
		return fmt.Errorf("%w (nothing was written to %s)", err, to.Name)
	}
	printCopyReport(stdout, rep)
	fmt.Fprintf(stdout, "copied %d rows in %d tables from %s to %s in %v; every count checked\n",
		rep.Rows(), len(rep.Tables), rep.From, rep.To, rep.Took.Round(time.Millisecond))
	return nil
}

// printCopyReport writes one line per table: rows read and rows found.
func printCopyReport(w io.Writer, rep dbcopy.Report) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tREAD\tWRITTEN\t")
	for _, t := range rep.Tables {
		mark := ""
		if t.Source != t.Target {
			mark = "MISMATCH"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", t.Table, t.Source, t.Target, mark)
	}
	tw.Flush()
}

// openCopyEndpoint opens spec (a SQLite path or a PostgreSQL DSN) with the
// store first, which brings its schema up to date, then for the copy. A
// source must exist; a target is created if missing (a PostgreSQL
// database must exist, empty).
func openCopyEndpoint(ctx context.Context, spec string, create bool, busy time.Duration) (dbcopy.Endpoint, error) {
	pg := store.IsPostgres(spec)
	if !create && !pg {
		if _, err := os.Stat(spec); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return dbcopy.Endpoint{}, fmt.Errorf("db copy: no database at %s", spec)
			}
			return dbcopy.Endpoint{}, fmt.Errorf("db copy: %w", err)
		}
	}
	s, err := store.Open(spec, store.Options{BusyTimeout: busy})
	if err != nil {
		return dbcopy.Endpoint{}, fmt.Errorf("db copy: %w", err)
	}
	if err := s.Close(); err != nil {
		return dbcopy.Endpoint{}, fmt.Errorf("db copy: %w", err)
	}
	if pg {
		return dbcopy.OpenPostgres(spec)
	}
	return dbcopy.OpenSQLite(spec, busy)
}
