package main

import (
	"path/filepath"
	"strings"
)

// A host's own files (native doors' node folders, the FidoNet folder on
// line 1) are on its machine, in its data folder: -data, or by default
// the SQLite database's folder, as before -data existed. A board whose
// database is a server (hosts on several machines) has no such folder:
// each host names its own with -data (default "data").

// defaultServerDataDir is the data folder of a host whose database is a
// server, when -data is not given.
const defaultServerDataDir = "data"

// hostDataDir is the folder of the host's own files, or "" for a SQLite
// database in memory (the system's temporary folder then).
func hostDataDir(s *settings) string {
	switch {
	case s.dataDir != "":
		return s.dataDir
	case isPostgresDSN(s.DBPath):
		return defaultServerDataDir
	case s.DBPath == "" || strings.HasPrefix(s.DBPath, ":memory:") || strings.HasPrefix(s.DBPath, "file:"):
		return ""
	}
	return filepath.Dir(s.DBPath)
}

// ftnPlace is the path whose folder holds the default FidoNet folder
// (ftn.ParseSettings takes the database's path): the SQLite file itself,
// or a name in the host's data folder.
func ftnPlace(s *settings) string {
	if s.dataDir == "" && !isPostgresDSN(s.DBPath) {
		return s.DBPath
	}
	return filepath.Join(hostDataDir(s), "board")
}

// lockPlace is the path beside which the handler locks lie
// (handlerlock.go): the SQLite file, or a name in the host's data folder
// when the database is a server (that file keeps two hosts of one
// machine off one handler; hosts on other machines need the database's
// lock).
func lockPlace(s *settings) string {
	if !isPostgresDSN(s.DBPath) {
		return s.DBPath
	}
	return filepath.Join(hostDataDir(s), "board")
}
