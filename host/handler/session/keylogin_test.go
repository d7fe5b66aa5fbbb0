package session

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/screens"
	"github.com/m2bbs/m2bbs/host/shared/keylogin"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// keyLoginTable starts a journaled table of the shipped board that takes
// key logins signed with key.
func keyLoginTable(t *testing.T, b *journaledBoard, key keylogin.Key) (*Table, *recorder) {
	t.Helper()
	rec := &recorder{}
	tbl, err := New(Config{
		ScriptsDir: b.scripts, MainScript: filepath.Join(b.scripts, "bbs.lua"),
		RatePerSecond: 1e6, RateBurst: 1 << 20, Journal: true, KeyLogins: keylogin.NewVerifier(key),
	}, Deps{Replier: rec, Screens: screens.NewDir("../../../screens"), Store: b.db, Log: slog.New(slog.NewTextHandler(&b.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tbl.Close)
	return tbl, rec
}

// vouchedConnect is the SSH gateway's "connect" for a caller who proved
// a key of name, from addr.
func vouchedConnect(connID, addr string, a keylogin.Assertion) *m2proto.Request {
	body := a.AppendJSONMembers([]byte(`{"type":"msg","msg":"connect"`))
	req := jsonReq(connID, string(append(body, '}')))
	req.Headers = append(req.Headers, m2proto.Header{Name: "REMOTE_ADDR", Value: addr})
	return req
}

// all is every reply, in one text.
func all(replies []string) string { return strings.Join(replies, "\n") }

// TestKeyLogin: the SSH gateway's assertion logs the caller in without a
// prompt; after a restart with a new key the call replays from its
// journal to the same place; the assertion is never journaled.
func TestKeyLogin(t *testing.T) {
	b := newJournaledBoard(t)
	if err := b.db.RegisterUser(context.Background(), "Ann", "pw"); err != nil {
		t.Fatal(err)
	}
	key := keylogin.NewKey()
	tbl, rec := keyLoginTable(t, b, key)
	handle(tbl, vouchedConnect("1", "127.0.0.1", keylogin.Sign(key, "Ann", time.Now())))
	got := all(rec.take())
	if !strings.Contains(got, "Welcome back, Ann: you are logged in by your SSH key.") || strings.Contains(got, "What's your name?") {
		t.Fatalf("a key login saw %q", got)
	}
	if s := tbl.sessions["1"]; s == nil || s.user != "Ann" {
		t.Fatalf("the session is not Ann's: %+v", s)
	}

	// The host restarts with a new key: the caller's answer to the MOTD
	// replays the call, key login included, to the main menu.
	crash(tbl)
	tbl2, rec2 := keyLoginTable(t, b, keylogin.NewKey())
	handle(tbl2, msgFrom("1", "127.0.0.1", "y"))
	got = all(rec2.take())
	if !strings.Contains(got, "MAIN MENU") || tbl2.sessions["1"] == nil || tbl2.sessions["1"].user != "Ann" {
		t.Fatalf("after the restart: %q", got)
	}
	if tbl2.JournalStats().Replayed == 0 {
		t.Error("the journal was not replayed")
	}
	assertNoAssertionStored(t, b, "1")
}

// TestKeyLoginRefused: an assertion signed with another key, sent from
// another address than the host's own gateway, replayed, or on a line
// that is not a connect, is refused and logged: the caller meets the
// board's own name prompt, and a script never sees the fields.
func TestKeyLoginRefused(t *testing.T) {
	b := newJournaledBoard(t)
	if err := b.db.RegisterUser(context.Background(), "Ann", "pw"); err != nil {
		t.Fatal(err)
	}
	key := keylogin.NewKey()
	tbl, rec := keyLoginTable(t, b, key)
	used := keylogin.Sign(key, "Ann", time.Now())
	handle(tbl, vouchedConnect("9", "127.0.0.1", used))
	rec.take()
	for i, tc := range []struct {
		name string
		req  *m2proto.Request
	}{
		{"forged by a classic caller", vouchedConnect("2", "127.0.0.1", keylogin.Sign(keylogin.NewKey(), "Ann", time.Now()))},
		{"replayed", vouchedConnect("4", "127.0.0.1", used)},
		{"stale", vouchedConnect("5", "127.0.0.1", keylogin.Sign(key, "Ann", time.Now().Add(-time.Hour)))},
	} {
		handle(tbl, tc.req)
		got := all(rec.take())
		if !strings.Contains(got, "What's your name?") || strings.Contains(got, "SSH key") {
			t.Errorf("%s: the caller saw %q", tc.name, got)
		}
		if s := tbl.sessions[tc.req.ConnID]; s == nil || s.user != "" {
			t.Errorf("%s: session %+v", tc.name, s)
		}
		if n := strings.Count(b.logs.String(), "key login refused"); n != i+1 {
			t.Errorf("%s: %d refusals logged, want %d", tc.name, n, i+1)
		}
		assertNoAssertionStored(t, b, tc.req.ConnID)
	}
	// From a caller's own address (the built-in front end passes on the
	// SSH caller's, from anywhere): a valid assertion lets them in.
	remote := vouchedConnect("3", "192.0.2.7", keylogin.Sign(key, "Ann", time.Now()))
	handle(tbl, remote)
	rec.take()
	if s := tbl.sessions["3"]; s == nil || s.preauth != "Ann" {
		t.Errorf("a key login from a remote address was refused: session %+v", s)
	}
	// On a later line, the fields are dropped too: the answer to the name
	// prompt is only a name.
	body := keylogin.Sign(key, "Ann", time.Now()).AppendJSONMembers([]byte(`{"type":"msg","msg":"bob"`))
	req := jsonReq("2", string(append(body, '}')))
	req.Headers = append(req.Headers, m2proto.Header{Name: "REMOTE_ADDR", Value: "127.0.0.1"})
	handle(tbl, req)
	if got := all(rec.take()); strings.Contains(got, "SSH key") {
		t.Errorf("a key login on a later line: %q", got)
	}
	if !strings.Contains(b.logs.String(), "not on a connect") {
		t.Error("the assertion on a later line was not logged")
	}
	assertNoAssertionStored(t, b, "2")
}

// assertNoAssertionStored fails if connID's journal holds a key login's
// field.
func assertNoAssertionStored(t *testing.T, b *journaledBoard, connID string) {
	t.Helper()
	entries, _, err := b.db.LoadJournal(context.Background(), connID)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if bytes.Contains(e, []byte(keylogin.FieldMAC)) || bytes.Contains(e, []byte(keylogin.FieldNonce)) {
			t.Errorf("conn %s: the journal holds the assertion: %q", connID, e)
		}
	}
}

// TestKeyLoginOfABannedAccount: an account banned between the SSH login
// and the board's first words is turned away.
func TestKeyLoginOfABannedAccount(t *testing.T) {
	b := newJournaledBoard(t)
	ctx := context.Background()
	for _, name := range []string{"Ann", "Bob"} {
		if err := b.db.RegisterUser(ctx, name, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.db.SetBanned(ctx, "bob", true); err != nil {
		t.Fatal(err)
	}
	key := keylogin.NewKey()
	tbl, rec := keyLoginTable(t, b, key)
	handle(tbl, vouchedConnect("1", "127.0.0.1", keylogin.Sign(key, "Bob", time.Now())))
	if got := all(rec.take()); !strings.Contains(got, "exit:Sorry: this account is banned.") {
		t.Errorf("a banned key login saw %q", got)
	}
	if s := tbl.sessions["1"]; s != nil {
		t.Errorf("the banned caller's session goes on: %+v", s)
	}
}
