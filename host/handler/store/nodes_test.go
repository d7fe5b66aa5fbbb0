package store

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// TestNodes: a line's nodes are kept, changed and freed, lines apart;
// out of bounds is refused.
func TestNodes(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	for _, set := range []struct {
		line, node int
		id         string
	}{{1, 1, "a"}, {1, 2, "b"}, {2, 1, "c"}, {1, 2, "d"}, {1, 1, ""}} {
		if err := s.SetNode(ctx, set.line, set.node, set.id); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.LoadNodes(ctx, 1)
	if err != nil || len(got) != 1 || got[2] != "d" {
		t.Errorf("line 1: %v, %v", got, err)
	}
	if got, _ := s.LoadNodes(ctx, 2); len(got) != 1 || got[1] != "c" {
		t.Errorf("line 2: %v", got)
	}
	for _, bad := range []struct {
		node int
		id   string
	}{{0, "x"}, {MaxNodes + 1, "x"}, {1, strings.Repeat("x", MaxNodeConnID+1)}} {
		if err := s.SetNode(ctx, 1, bad.node, bad.id); !errors.Is(err, ErrTooLarge) {
			t.Errorf("SetNode(%d, %d bytes) = %v", bad.node, len(bad.id), err)
		}
	}
}

// TestMigrationMovesNodesOutOfSharedTables: the nodes a host kept in the
// shared module's tables before migration 017 are in the nodes table
// after it (callers resumed across the upgrade keep them), and gone from
// the shared tables, where a script could write them.
func TestMigrationMovesNodesOutOfSharedTables(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	before := fstest.MapFS{}
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if filepath.Base(name) >= "017" {
			continue
		}
		b, err := fs.ReadFile(migrationFiles, name)
		if err != nil {
			t.Fatal(err)
		}
		before[name] = &fstest.MapFile{Data: b}
	}
	old, err := openWith(path, testOptions, before)
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	raw := rawDB(t, path)
	if _, err := raw.Exec(`INSERT INTO shared_values (tbl, key, kind, s, updated_at) VALUES
		(char(0) || 'm2bbs.nodes.3', '2', 's', 'conn-7', 0),
		(char(0) || 'm2bbs.nodes.3', 'x', 's', 'junk', 0),
		('scores', '2', 's', 'kept', 0)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	s, err := Open(path, testOptions)
	if err != nil {
		t.Fatalf("migrating: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	if got, err := s.LoadNodes(ctx, 3); err != nil || len(got) != 1 || got[2] != "conn-7" {
		t.Errorf("nodes of line 3 after the migration: %v, %v", got, err)
	}
	if keys, _ := s.SharedKeys(ctx, "\x00m2bbs.nodes.3"); len(keys) != 0 {
		t.Errorf("shared table still holds %v", keys)
	}
	if keys, _ := s.SharedKeys(ctx, "scores"); len(keys) != 1 {
		t.Errorf("a script's table lost %v", keys)
	}
}
