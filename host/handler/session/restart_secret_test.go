package session

import "testing"

// TestPasswordStartingANewCallIsNotStored: a caller is at the password
// prompt when the host restarts, and their password arrives from another
// address than the call began from (so the journal is not replayed) or
// for a conn id whose journal is gone: the host starts a new call with
// that line, and neither the database nor its WAL holds it in clear.
func TestPasswordStartingANewCallIsNotStored(t *testing.T) {
	const pw, pw2 = "Lost-Journal-Secret-5150", "No-Journal-Secret-6061"
	b, path := secretBoard(t, nil)
	tbl, rec := b.table(t)
	for _, line := range []string{"connect", "ann"} {
		handle(tbl, msgFrom("1", "192.0.2.1", line))
	}
	rec.take()
	crash(tbl)

	tbl2, rec2 := b.table(t)
	handle(tbl2, msgFrom("1", "192.0.2.99", pw))
	handle(tbl2, msgFrom("7", "192.0.2.7", pw2))
	rec2.take()
	if tbl2.sessions["1"] == nil || tbl2.sessions["7"] == nil {
		t.Fatal("the lines did not start new calls")
	}
	if tbl2.JournalStats().Replayed != 0 {
		t.Fatal("the journal was replayed: the test does not reach a new call")
	}
	assertNowhere(t, b, path, pw)
	assertNowhere(t, b, path, pw2)
}
