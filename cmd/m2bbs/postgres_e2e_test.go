package main

import (
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
	"github.com/m2bbs/m2bbs/host/shared/pgtest"
)

// TestBoardOnPostgreSQL: the end-to-end scenarios pass with the board on
// PostgreSQL (-db postgres://…), behind real Mongrel2 and behind the
// built-in front end; a second host with a data folder of its own on the
// same database serves a caller what a caller of the first wrote; and the
// DSN's password appears in no host's log.
func TestBoardOnPostgreSQL(t *testing.T) {
	const password = "pg-Pass-7781"
	// The test server trusts 127.0.0.1, so any password is accepted: what
	// matters here is where it travels.
	dsn := strings.Replace(pgtest.NewDatabase(t), "postgres@", "postgres:"+password+"@", 1)
	var boards []*bbs
	for _, frontEnd := range []string{viaMongrel2, viaBuiltIn} {
		t.Run(frontEnd, func(t *testing.T) {
			if frontEnd == viaBuiltIn {
				// A new database for the built-in front end's run: the
				// scenarios' golden transcripts begin on an empty board.
				dsn = strings.Replace(pgtest.NewDatabase(t), "postgres@", "postgres:"+password+"@", 1)
			}
			b := startBBS(t, frontEnd, mongrel2.ProtocolJSON, "-db", dsn)
			boards = append(boards, b)
			scenarios(t, b)

			// Another host (another machine: its own data folder, its own
			// front end) on the same database.
			other := startBBS(t, viaBuiltIn, "", "-db", dsn)
			boards = append(boards, other)
			got := other.play(t, "ann", "s3cret", "y", "2", "", "", "Q")
			if !strings.Contains(got, "First line.") {
				t.Errorf("the second host does not show ann's message posted on the first:\n%s", got)
			}
			for _, b := range boards {
				if strings.Contains(b.logs.String(), password) {
					t.Errorf("a host's log holds the DSN's password:\n%s", b.logs.String())
				}
			}
		})
	}
}

// TestCallersSurviveAHostKilledOnPostgreSQL is
// TestCallersSurviveAHostKilledAndRestarted with the board on PostgreSQL:
// the host is killed with SIGKILL while callers are mid-task and started
// again; from the journals in the database each caller goes on where they
// were, nothing lost or done twice.
func TestCallersSurviveAHostKilledOnPostgreSQL(t *testing.T) {
	server := startLinesMongrel2(t, 1)
	db, data := pgtest.NewDatabase(t), t.TempDir()
	line := startLine(t, server, db, 1, "-data", data)
	s := strand(t, server)
	line.kill9(t)
	line = startLine(t, server, db, 1, "-data", data)
	carryOn(t, s)
	if out := leave(t, s.writer, "Q", "Q"); !strings.Contains(out, "see ya") {
		t.Errorf("ann could not quit:\n%s", out)
	}
	line.logs.WaitFor(t, readTimeout, "session replayed from its journal")
}

// TestReplayOnPostgreSQL: m2bbs replay reads the journals of a board on
// PostgreSQL while it runs (read-only sessions): the callers parked on it
// are listed, and one is replayed to where they are, password hidden.
func TestReplayOnPostgreSQL(t *testing.T) {
	p := parkCallersOn(t, pgtest.NewDatabase(t))
	out, errOut, code := p.m2bbs(t, "replay", "-list")
	if code != 0 || !strings.Contains(out, "3 journals") {
		t.Fatalf("replay -list, exit %d:\n%s%s", code, out, errOut)
	}
	out, errOut, code = p.m2bbs(t, "replay", p.ids["dan"])
	if code != 0 || !strings.Contains(out, "What's your name?\n> dan\n") || !strings.Contains(out, "replays cleanly") {
		t.Errorf("replay of dan, exit %d:\n%s%s", code, out, errOut)
	}
	if strings.Contains(out, p.password) || strings.Contains(errOut, p.password) {
		t.Errorf("replay of dan shows the password:\n%s", out)
	}
}
