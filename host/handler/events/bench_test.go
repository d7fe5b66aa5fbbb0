package events

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// BenchmarkTickNothingDue is what every host pays each second: one tick
// over 10 declared events, none due (a read of each due time).
func BenchmarkTickNothingDue(b *testing.B) {
	db, err := store.Open(filepath.Join(b.TempDir(), "bbs.db"), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	c := &clock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	var evs []Event
	for i := range 10 {
		s, _ := Parse("daily 03:00")
		evs = append(evs, Event{Name: fmt.Sprint("ev", i), Schedule: s, Zone: time.UTC})
	}
	s := &Scheduler{Store: db, Runner: &runner{clock: c}, Events: func() []Event { return evs }, Now: c.Now}
	ctx := context.Background()
	s.Tick(ctx)
	b.ResetTimer()
	for b.Loop() {
		if len(s.Tick(ctx)) != 0 {
			b.Fatal("something ran")
		}
	}
}
