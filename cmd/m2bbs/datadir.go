package main

import (
	"path/filepath"
	"strings"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// A host's own files (native doors' node folders, the FidoNet folder on
// line 1) are on its machine, in its data folder: -data,
// or by default the folder of localAnchor (the SQLite database's folder,
// as before -data existed; pgLocalDir with PostgreSQL, whose database is
// no file of this machine).

// anchor stands for the database file when placing the host's own files
// (ftn.ParseSettings takes a path to put its folder beside): a name in
// -data if given, else localAnchor. (Handler locks are not the host's
// own: they lie beside the SQLite file every host of the machine shares,
// or in the PostgreSQL database: takeHandlerLock.)
func anchor(s *settings) string {
	if s.dataDir != "" {
		return filepath.Join(s.dataDir, "board")
	}
	return localAnchor(s.DBPath)
}

// hostDataDir is the folder of the host's own files, or "" for a SQLite
// database in memory (the system's temporary folder then).
func hostDataDir(s *settings) string {
	if s.dataDir == "" && !store.IsPostgres(s.DBPath) &&
		(s.DBPath == "" || strings.HasPrefix(s.DBPath, ":memory:") || strings.HasPrefix(s.DBPath, "file:")) {
		return ""
	}
	return filepath.Dir(anchor(s))
}
