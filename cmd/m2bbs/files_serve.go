package main

import (
	"errors"
	"log/slog"

	"github.com/m2bbs/m2bbs/host/handler/files"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// openFiles returns the board's file areas when the settings have a
// files table (nil when they have none), for the files Lua module and
// the host's file links. The store must keep files (store.FileStore).
func openFiles(s *settings, db store.Store, log *slog.Logger) (*files.Library, error) {
	if s.Files == nil {
		return nil, nil
	}
	set, err := files.ParseSettings(s.Files, s.localAnchor())
	if err != nil {
		return nil, err
	}
	fs, ok := db.(store.FileStore)
	if !ok {
		return nil, errors.New("files: this database keeps no files")
	}
	log.Info("file areas", "dir", set.Root, "areas", len(set.Areas), "review", set.Review)
	lib := &files.Library{Settings: set, Store: fs}
	if dir := transfersDir(s); dir != "" {
		lib.ReceivedRoots = []string{dir} // ZMODEM uploads (docs/transfers.md)
	}
	return lib, nil
}
