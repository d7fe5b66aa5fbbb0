package main

import (
	"path/filepath"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// pgLocalDir is where a host whose database is PostgreSQL keeps the files
// an SQLite board keeps beside its database file: the handler lock, the
// native doors' folders, the FTN folders. It is relative to the host's
// working folder, like the default database file (data/bbs.db).
const pgLocalDir = "data"

// localAnchor stands for the database file when placing the host's own
// files beside it: the file itself for SQLite, a name in pgLocalDir for
// PostgreSQL (whose database is no file of this machine).
func localAnchor(dbPath string) string {
	if store.IsPostgres(dbPath) {
		return filepath.Join(pgLocalDir, "postgres")
	}
	return dbPath
}
