package main

import (
	"path/filepath"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// pgLocalDir is where a host whose database is PostgreSQL keeps the files
// an SQLite board keeps beside its database file (the handler lock, the
// native doors' folders, the FTN folders) unless run's -data names
// another: relative to the host's working folder, like the default
// database file (data/bbs.db).
const pgLocalDir = "data"

// localAnchor stands for the database file when placing the host's own
// files beside it: the file itself for SQLite, a name in the local folder
// (s.localDir, else pgLocalDir) for PostgreSQL, whose database is no file
// of this machine.
func (s *settings) localAnchor() string {
	if !store.IsPostgres(s.DBPath) {
		return s.DBPath
	}
	dir := s.localDir
	if dir == "" {
		dir = pgLocalDir
	}
	return filepath.Join(dir, "postgres")
}
