package store

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/mattn/go-sqlite3"
)

// riderBoard is a store with user ann and journal "7" holding one entry.
func riderBoard(t *testing.T) *SQLite {
	t.Helper()
	s, _ := newStore(t)
	ctx := context.Background()
	if err := s.RegisterUser(ctx, "ann", "pw"); err != nil {
		t.Fatal(err)
	}
	if err := s.ResetJournal(ctx, "7", -1, [][]byte{[]byte("start")}); err != nil {
		t.Fatal(err)
	}
	return s
}

// checkRiderJournal fails t unless journal "7" holds want.
func checkRiderJournal(t *testing.T, s *SQLite, want ...string) {
	t.Helper()
	got, count, err := s.LoadJournal(context.Background(), "7")
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for _, e := range got {
		texts = append(texts, string(e))
	}
	if !reflect.DeepEqual(texts, want) || count != len(want) {
		t.Errorf("journal holds %q (count %d), want %q", texts, count, want)
	}
}

// checkPosts fails t unless the default board holds n posts.
func checkPosts(t *testing.T, s *SQLite, n int) {
	t.Helper()
	got, err := s.MessageCount(context.Background())
	if err != nil || got != n {
		t.Errorf("%d posts (%v), want %d", got, err, n)
	}
}

func newTestRider(t *testing.T, count int, entries ...string) *Rider {
	t.Helper()
	w := JournalWrite{ConnID: "7", Count: count}
	for _, e := range entries {
		w.Entries = append(w.Entries, []byte(e))
	}
	r, err := NewRider(w)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRiderStoredWithTheWrite: a write whose context carries a rider
// stores the rider's entries in its own transaction, and only once.
func TestRiderStoredWithTheWrite(t *testing.T) {
	s := riderBoard(t)
	r := newTestRider(t, 1, "request", "read")
	ctx := WithRider(context.Background(), r)
	if _, err := s.PostMessage(ctx, "ann", []string{"hello"}); err != nil {
		t.Fatal(err)
	}
	if !r.Stored() || r.Conflict() != nil {
		t.Errorf("rider stored %v, conflict %v; want stored", r.Stored(), r.Conflict())
	}
	checkRiderJournal(t, s, "start", "request", "read")
	checkPosts(t, s, 1)
	// A second write of the same call does not write it again.
	if _, err := s.PostMessage(ctx, "ann", []string{"again"}); err != nil {
		t.Fatal(err)
	}
	checkRiderJournal(t, s, "start", "request", "read")
	checkPosts(t, s, 2)
}

// TestRiderConflictRollsTheWriteBack: a rider that does not follow the
// journal's count (another host wrote it: it has the caller now) fails
// the whole transaction: the write is not made.
func TestRiderConflictRollsTheWriteBack(t *testing.T) {
	s := riderBoard(t)
	if err := s.AppendJournal(context.Background(), "7", 1, [][]byte{[]byte("other host")}); err != nil {
		t.Fatal(err)
	}
	r := newTestRider(t, 1, "request")
	_, err := s.PostMessage(WithRider(context.Background(), r), "ann", []string{"hello"})
	if !errors.Is(err, ErrJournalConflict) || !errors.Is(r.Conflict(), ErrJournalConflict) || r.Stored() {
		t.Errorf("post: %v; rider conflict %v, stored %v; want a journal conflict", err, r.Conflict(), r.Stored())
	}
	checkPosts(t, s, 0)
	checkRiderJournal(t, s, "start", "other host")
}

// TestRiderWaitsForAWriteThatCommits: a write that fails before its
// COMMIT leaves the rider to the call's next write transaction; a
// withdrawn rider is taken by none.
func TestRiderWaitsForAWriteThatCommits(t *testing.T) {
	s := riderBoard(t)
	r := newTestRider(t, 1, "request")
	ctx := WithRider(context.Background(), r)
	if _, err := s.PostMessage(ctx, "nobody", []string{"hello"}); err == nil {
		t.Fatal("a post by nobody was made")
	}
	if r.Stored() || r.Conflict() != nil {
		t.Fatalf("rider of a failed write: stored %v, conflict %v", r.Stored(), r.Conflict())
	}
	checkRiderJournal(t, s, "start")
	if _, err := s.PostMessage(ctx, "ann", []string{"hello"}); err != nil || !r.Stored() {
		t.Fatalf("post: %v, rider stored %v", err, r.Stored())
	}
	checkRiderJournal(t, s, "start", "request")

	w := newTestRider(t, 2, "late")
	w.Withdraw()
	if _, err := s.PostMessage(WithRider(context.Background(), w), "ann", []string{"more"}); err != nil || w.Stored() {
		t.Fatalf("post: %v, withdrawn rider stored %v", err, w.Stored())
	}
	checkRiderJournal(t, s, "start", "request")
}

// TestRiderCommitFails: when SQLite's COMMIT fails, neither the write nor
// the rider's entries are stored, and the caller gets the store's error.
func TestRiderCommitFails(t *testing.T) {
	s := riderBoard(t)
	ctx := context.Background()
	refuse := true
	err := s.with(func(p *pools) error {
		c, err := p.w.Conn(ctx) // the writer's only connection
		if err != nil {
			return err
		}
		defer c.Close()
		return c.Raw(func(dc any) error {
			dc.(*sqlite3.SQLiteConn).RegisterCommitHook(func() int {
				if refuse {
					return 1 // the COMMIT becomes a ROLLBACK
				}
				return 0
			})
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	r := newTestRider(t, 1, "request")
	if _, err := s.PostMessage(WithRider(ctx, r), "ann", []string{"hello"}); err == nil {
		t.Fatal("the post went through a failed COMMIT")
	}
	if r.Stored() || r.Conflict() != nil {
		t.Errorf("rider of a failed COMMIT: stored %v, conflict %v", r.Stored(), r.Conflict())
	}
	checkPosts(t, s, 0)
	checkRiderJournal(t, s, "start")
	refuse = false
	if _, err := s.PostMessage(WithRider(ctx, r), "ann", []string{"hello"}); err != nil || !r.Stored() {
		t.Fatalf("post after the fault: %v, rider stored %v", err, r.Stored())
	}
	checkPosts(t, s, 1)
	checkRiderJournal(t, s, "start", "request")
}

// TestRiderRunsAgainWithItsTransaction: PostgreSQL runs a transaction
// that met a serialisation failure again from the start; the rider, whose
// INSERT met it here (a trigger raises it once), is written again in the
// new one, and stored once.
func TestRiderRunsAgainWithItsTransaction(t *testing.T) {
	s := riderBoard(t)
	if s.pg == nil {
		t.Skip("SQLite runs a transaction once: its busy timeout does the waiting")
	}
	ctx := context.Background()
	// A sequence is not rolled back with the transaction: the trigger
	// fails the first INSERT only.
	err := s.with(func(p *pools) error {
		_, err := p.w.ExecContext(ctx, `CREATE SEQUENCE rider_fail_once;
			CREATE FUNCTION rider_fail_once() RETURNS trigger AS $$
			BEGIN
				IF nextval('rider_fail_once') = 1 THEN
					RAISE EXCEPTION 'could not serialize access' USING ERRCODE = 'serialization_failure';
				END IF;
				RETURN NEW;
			END $$ LANGUAGE plpgsql;
			CREATE TRIGGER rider_fail_once BEFORE INSERT ON journal_entries
				FOR EACH ROW EXECUTE FUNCTION rider_fail_once()`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	r := newTestRider(t, 1, "request")
	attempts := 0
	err = s.inTx(WithRider(ctx, r), func(tx txConn) error {
		attempts++
		_, err := tx.ExecContext(ctx, "UPDATE users SET level = level WHERE name = 'ann'")
		return err
	})
	if err != nil || attempts != 2 || !r.Stored() {
		t.Fatalf("transaction: %v after %d attempts, rider stored %v; want it stored on the second", err, attempts, r.Stored())
	}
	checkRiderJournal(t, s, "start", "request")
}
