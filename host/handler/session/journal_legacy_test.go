package session

import (
	"context"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/handler/journal"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// asPreviousVersion rewrites conn connID's stored journal as the version
// before the journal's compact form wrote it: each request in Mongrel2's
// wire format (m2proto.AppendRequest with JSON headers), under the entry
// kind's own byte. It fails unless the journal held compact requests.
func asPreviousVersion(t *testing.T, b *journaledBoard, connID string) {
	t.Helper()
	ctx := context.Background()
	raw, _, err := b.db.LoadJournal(ctx, connID)
	if err != nil || len(raw) == 0 {
		t.Fatalf("load journal: %d entries, %v", len(raw), err)
	}
	old := make([][]byte, 0, len(raw))
	requests := 0
	for _, b := range raw {
		e, err := journal.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if e.Kind == journal.KindStart || e.Kind == journal.KindCheckpoint || e.Kind == journal.KindRequest {
			if e.Request.Wire || b[0] == byte(e.Kind) {
				t.Fatalf("entry %q: this version wrote a request in the wire format", b)
			}
			req, err := e.Request.Decode()
			if err != nil {
				t.Fatal(err)
			}
			e.Request = journal.Request{Data: m2proto.AppendRequest(nil, req, m2proto.JSONHeaders), Wire: true}
			requests++
		}
		enc := e.Append(nil)
		if e.Request.Wire && enc[0] != byte(e.Kind) {
			t.Fatalf("a wire-format entry begins with %q", enc[0])
		}
		old = append(old, enc)
	}
	if requests == 0 {
		t.Fatal("journal holds no request")
	}
	if err := b.db.ResetJournal(ctx, connID, -1, old); err != nil {
		t.Fatal(err)
	}
}

// TestJournalOfThePreviousVersionReplays: a caller's session, journaled by
// the version that kept requests in Mongrel2's wire format, goes on after
// the host is upgraded to this one, from the caller's own address only.
func TestJournalOfThePreviousVersionReplays(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	for _, line := range []string{"connect", "ann", "pw", "pw", "y", "1", "first line", "second line"} {
		handle(tbl, msgFrom("1", "192.0.2.1", line))
	}
	rec.take()
	crash(tbl)
	asPreviousVersion(t, b, "1")

	tbl2, rec2 := b.table(t)
	for _, line := range []string{"third line", "."} {
		handle(tbl2, msgFrom("1", "192.0.2.1", line))
	}
	got := converse(tbl2, rec2, "1")
	expect(t, got, "1 prompt:", "1 screen:Message posted. Thanks!", "1 prompt:---(((MAIN MENU)))---")
	if st := tbl2.JournalStats(); st.Replayed != 1 || st.Diverged != 0 {
		t.Errorf("journal stats %+v, want one replay and no divergence", st)
	}
	msgs := posts(t, b.db)
	if len(msgs) != 1 || strings.Join(msgs[0].Lines, "|") != "first line|second line|third line" {
		t.Fatalf("board holds %+v, want one post with all three lines", msgs)
	}
	// From here on the journal is written in the compact form.
	converse(tbl2, rec2, "1", "2")
	raw, _, err := b.db.LoadJournal(context.Background(), "1")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range raw {
		if e, _ := journal.Parse(b); e.Request.Wire {
			t.Errorf("entry %q written in the wire format after the upgrade", b)
		}
	}
}

// TestJournalOfThePreviousVersionKeepsItsAddress: a wire-format journal's
// caller address still decides whether a line continues the call.
func TestJournalOfThePreviousVersionKeepsItsAddress(t *testing.T) {
	b := newJournaledBoard(t)
	tbl, rec := b.table(t)
	for _, line := range []string{"connect", "bo", "pw", "pw", "y"} {
		handle(tbl, msgFrom("4", "192.0.2.1", line))
	}
	rec.take()
	crash(tbl)
	asPreviousVersion(t, b, "4")

	tbl2, rec2 := b.table(t)
	handle(tbl2, msgFrom("4", "192.0.2.99", "5"))
	if got := strings.Join(rec2.take(), "\n"); strings.Contains(got, "MAIN MENU") || tbl2.JournalStats().Replayed != 0 {
		t.Fatalf("a line from another address was replayed into bo's call:\n%s", got)
	}
}
