package session

import (
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/screens"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// BenchmarkEventWakesAListener is what one event costs its listener's
// worker: lee sits in the Teleconference on worker 1; each iteration
// keeps an event for him, resumes him with it (the door asks again with
// the line as the prompt's text) and commits (his journal grows by the
// event and the prompt, one SQLite write).
func BenchmarkEventWakesAListener(b *testing.B) {
	db, err := store.Open(filepath.Join(b.TempDir(), "bbs.db"), store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	h := newHubHost(b, db, Config{
		ScriptsDir: "../../../scripts", MainScript: "testdata/doors_main.lua", Journal: true,
	}, screens.NewDir("../../../screens"), nil)
	h.join(1, "2", "lee")
	h.say(1, "2", "3") // the Teleconference
	tbl, rec := h.tables[1], h.recs[1]
	rec.take()
	b.ResetTimer()
	for range b.N {
		tbl.Wake("2", "chat.room.lobby", "kim", "kim: hello lee", saidNow)
		tbl.DeliverEvents()
		tbl.Commit()
		rec.replies = rec.replies[:0]
	}
	b.StopTimer()
	if st := tbl.Stats(); st.Events != int64(b.N) {
		b.Fatalf("%d events given to lee; want %d", st.Events, b.N)
	}
}
