package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// allJournals is a cutoff later than any journal's last write.
var allJournals = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// dropAllJournals deletes every session journal in the database at
// dbPath. m2bbs run calls it before its front end listens: that front end
// starts with the process, so no call an earlier run journaled is still
// connected, whatever the clock says. Its phone lines share the database
// and start together after it.
func dropAllJournals(ctx context.Context, dbPath string, bcryptCost int, log *slog.Logger) error {
	db, err := store.Open(dbPath, store.Options{BcryptCost: bcryptCost, Log: log})
	if err != nil {
		return err
	}
	defer db.Close()
	n, err := db.PruneJournals(ctx, allJournals)
	if err != nil {
		return fmt.Errorf("drop the journals of an earlier run: %w", err)
	}
	if n > 0 {
		log.Info("journals of an earlier run dropped: its front end and callers are gone", "journals", n)
	}
	return nil
}
