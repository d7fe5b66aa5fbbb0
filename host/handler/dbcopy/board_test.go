package dbcopy_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/dbcopy"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// newBoard creates a migrated SQLite board in dir/name and, if fill, puts
// something in as many tables as the store's calls reach.
func newBoard(t *testing.T, dir, name string, fill bool) string {
	t.Helper()
	path := filepath.Join(dir, name)
	s, err := store.Open(path, store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if fill {
		populate(t, s)
	}
	return path
}

// populate writes a small board: users (the first demoted from sysop, so a
// trigger firing again would show), posts with a reply, mail read and
// unread, door data, calls, oneliners, journals, shared values and
// events, access, SSH keys, events and runs, FTN, nodes, a line gone down.
func populate(t *testing.T, s *store.SQLite) {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, u := range []string{"ann", "bob", "cy"} {
		must(s.RegisterUser(ctx, u, "secret "+u))
	}
	must(s.SetLevel(ctx, "ann", "user"))
	must(s.SetLevel(ctx, "bob", "sysop"))
	must(s.SetGroup(ctx, "cy", "fido", true))
	must(s.SetFlags(ctx, "cy", "AX"))
	_, err := s.DefineArea(ctx, "tech", "Technical talk")
	must(err)
	p, err := s.Post(ctx, store.NewPost{Area: "tech", Author: "ann", Subject: "Hello ünïcode", Lines: []string{"line one", "", "tab\there"}})
	must(err)
	_, err = s.Post(ctx, store.NewPost{Author: "bob", Subject: "Re: Hello", Lines: []string{"a reply"}, ReplyTo: p.ID})
	must(err)
	_, err = s.PostMessage(ctx, "cy", []string{"on general"})
	must(err)
	must(s.MarkRead(ctx, "bob", "tech", p.ID))
	_, err = s.WriteMail(ctx, "bob", "ann", "private", []string{"hi bob"})
	must(err)
	_, err = s.SendMail(ctx, "ann", "cy", []string{"hi ann"})
	must(err)
	_, err = s.ReadNextMail(ctx, "ann")
	must(err)
	must(s.DoorSet(ctx, "trader", "ann", "ship", []byte(`{"hold":[1,2],"name":"Ünï"}`)))
	_, err = s.DoorAdd(ctx, "trader", "bob", "score", 42.5)
	must(err)
	must(s.RecordCall(ctx, "ann"))
	must(s.AddOneliner(ctx, "bob", "first!"))
	must(s.ResetJournal(ctx, "conn-7", -1, [][]byte{[]byte("entry\x00one"), []byte("two")}))
	must(s.AppendJournal(ctx, "conn-7", 2, [][]byte{[]byte("three")}))
	_, _, err = s.SharedUpdate(ctx, "board", "topic", func(store.SharedValue, bool) (*store.SharedValue, bool, error) {
		return &store.SharedValue{Kind: store.SharedString, Str: "copying"}, true, nil
	})
	must(err)
	_, _, err = s.SharedUpdate(ctx, "board", "visits", func(store.SharedValue, bool) (*store.SharedValue, bool, error) {
		return &store.SharedValue{Kind: store.SharedNumber, Num: 12.25}, true, nil
	})
	must(err)
	_, err = s.AppendSharedEvent(ctx, store.SharedEvent{Origin: "host-1", Channel: "chat", From: "ann", Text: "hello", At: time.Now()})
	must(err)
	_, err = s.AddTimeUsed(ctx, "ann", "2026-12-03", 300)
	must(err)
	_, err = s.CallStarted(ctx, "conn-7", "ann", time.Now(), true)
	must(err)
	must(s.AddSSHKey(ctx, "ann", store.SSHKey{Type: "ssh-ed25519", Fingerprint: "SHA256:abc", Line: "ssh-ed25519 AAAA ann", AddedAt: time.Now()}))
	due, err := s.EventDue(ctx, "nightly", "daily 04:00", time.Now().Add(time.Hour))
	must(err)
	must(s.RecordEventRun(ctx, store.EventRun{Event: "nightly", Cause: "schedule", Outcome: "ok", Host: "line 1", Started: due, Ended: due.Add(time.Second)}))
	must(s.BeginLogin(ctx, "bob", "10.0.0.1", time.Now(), store.LoginLimits{}))
	_, err = s.BeginRegistration(ctx, "10.0.0.2", time.Now(), 5, time.Hour)
	must(err)
	_, _, err = s.TossPost(ctx, store.TossedPost{Area: "tech", Tag: "TECH", FromName: "Far Away", FromAddr: "2:5020/1",
		Subject: "tossed", Lines: []string{"from afar"}, Posted: time.Now(), MsgID: "2:5020/1 1234abcd", DupeKey: "k1"})
	must(err)
	must(s.LinkEchoes(ctx, []string{"tech"}))
	id, _, err := s.TossMail(ctx, store.TossedMail{To: "bob", FromName: "Far Away", FromAddr: "2:5020/1", Subject: "net",
		Lines: []string{"netmail"}, MsgID: "2:5020/1 99", DupeKey: "k2"})
	must(err)
	m, err := s.ReadMail(ctx, "bob", id)
	must(err)
	_, err = s.WriteMail(ctx, m.From, "bob", "Re: net", []string{"back"})
	must(err)
	must(s.MarkExported(ctx, store.ExportBatch{Packets: []store.StagedPacket{{Name: "0001.pkt", Uplink: "2:5020/1"}}}))
	must(s.CountFTN(ctx, "tossed", 1))
	must(s.SetNode(ctx, 1, 1, "conn-7"))
	// A line that went down long ago: the board is offline.
	old := time.Now().Add(-time.Hour)
	_, err = s.ClaimLine(ctx, store.LineBeat{Line: 1, Route: "@bbs.1", Capacity: 50, Instance: "i-1", PID: 99, Hostname: "m1", At: old})
	must(err)
	_, err = s.BeatLine(ctx, store.LineBeat{Line: 1, Route: "@bbs.1", Online: 1, Capacity: 50, Instance: "i-1", PID: 99, Hostname: "m1", At: old},
		[]store.Presence{{Line: 1, ConnID: "conn-7", User: "ann"}}, nil)
	must(err)
}

// openSQLite opens path for a copy and closes it with the test.
func openSQLite(t *testing.T, path string) dbcopy.Endpoint {
	t.Helper()
	e, err := dbcopy.OpenSQLite(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.DB.Close() })
	return e
}

// dump is every table of a SQLite board, row by row in key order, each
// value with its storage class.
func dump(t *testing.T, e dbcopy.Endpoint) map[string][]string {
	t.Helper()
	ctx := context.Background()
	tables, err := e.Dialect.Tables(ctx, e.DB)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, tb := range tables {
		cols := make([]string, len(tb.Columns))
		for i, c := range tb.Columns {
			cols[i] = fmt.Sprintf(`typeof("%s"), quote("%s")`, c.Name, c.Name)
		}
		q := "SELECT " + strings.Join(cols, ", ") + ` FROM "` + tb.Name + `" ORDER BY ` + `"` + strings.Join(tb.Key, `", "`) + `"`
		out[tb.Name] = rowsOf(t, e.DB, q, 2*len(cols))
	}
	return out
}

// rowsOf runs q and returns each row's n text columns joined.
func rowsOf(t *testing.T, db *sql.DB, q string, n int) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	list := []string{}
	vals := make([]sql.NullString, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, n)
		for i, v := range vals {
			parts[i] = v.String
		}
		list = append(list, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return list
}

// sameDump fails the test where two dumps differ.
func sameDump(t *testing.T, a, b map[string][]string) {
	t.Helper()
	if len(a) != len(b) {
		t.Errorf("%d tables vs %d", len(a), len(b))
	}
	for name, rows := range a {
		other, ok := b[name]
		if !ok {
			t.Errorf("table %s missing", name)
			continue
		}
		if strings.Join(rows, "\n") != strings.Join(other, "\n") {
			t.Errorf("table %s differs:\n%s\n--- vs ---\n%s", name, strings.Join(rows, "\n"), strings.Join(other, "\n"))
		}
	}
}
