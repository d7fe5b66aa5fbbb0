package session

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/m2bbs/m2bbs/host/handler/store"
)

// secretBoard is a journaled board whose database file the test can read
// raw, with a 2010-style script that prints what callers type at login.
func secretBoard(t *testing.T, edit func(src string) string) (*journaledBoard, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bbs.db")
	db, err := store.Open(path, store.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	scripts := t.TempDir()
	if err := os.CopyFS(scripts, os.DirFS("../../../scripts")); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(scripts, "bbs.lua")
	src, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	const at = "    local password = req.data.msg\n"
	edited := strings.Replace(string(src), at, at+"    print('login attempt', user, password)\n", 1)
	if edit != nil {
		edited = edit(edited)
	}
	if edited == string(src) {
		t.Fatal("bbs.lua changed: the login is not where the test expects it")
	}
	if err := os.WriteFile(main, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	return &journaledBoard{db: db, scripts: scripts}, path
}

// assertNowhere fails if secret is in the database file, its WAL or the
// log.
func assertNowhere(t *testing.T, b *journaledBoard, path, secret string) {
	t.Helper()
	assertNotStored(t, path, secret)
	if strings.Contains(b.logs.String(), secret) {
		t.Errorf("the password is in the log:\n%s", b.logs.String())
	}
}

// assertNotStored fails if secret is in the database file or its WAL.
func assertNotStored(t *testing.T, path, secret string) {
	t.Helper()
	for _, f := range []string{path, path + "-wal"} {
		raw, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the password is in %s in clear", filepath.Base(f))
		}
	}
}

// TestPasswordsAreNeverStoredOrLogged: a new caller registers, another
// logs in, and the host restarts while both are at the MOTD prompt: their
// sessions are rebuilt from journals that hold no password, the calls
// that checked the passwords are answered from the journal, and neither
// the database, its WAL nor the log ever held a password in clear.
func TestPasswordsAreNeverStoredOrLogged(t *testing.T) {
	const pw, pw2 = "Correct-Horse-7731", "Battery-Staple-0042"
	b, path := secretBoard(t, nil)
	tbl, rec := b.table(t)
	converse(tbl, rec, "1", "connect", "ann", pw, pw, "n")
	got := converse(tbl, rec, "2", "connect", "bob", pw2, pw2)
	expect(t, got[len(got)-1:], "2 prompt:MOTD: This board is a rebuild of a 2010 experiment: every caller is one Lua")
	got = converse(tbl, rec, "3", "connect", "ann", pw)
	expect(t, got[len(got)-1:], "3 prompt:MOTD: This board is a rebuild of a 2010 experiment: every caller is one Lua")
	if !strings.Contains(b.logs.String(), `text="login attempt\tann\t***"`) {
		t.Errorf("the script's print is not in the log with the password hidden:\n%s", b.logs.String())
	}
	assertNowhere(t, b, path, pw)
	assertNowhere(t, b, path, pw2)
	crash(tbl)

	tbl2, rec2 := b.table(t)
	expect(t, converse(tbl2, rec2, "2", "y"), "2 prompt:---(((MAIN MENU)))---")
	expect(t, converse(tbl2, rec2, "3", "y"), "3 prompt:---(((MAIN MENU)))---")
	if st := tbl2.JournalStats(); st.Replayed != 2 || st.Diverged != 0 {
		t.Errorf("journal stats %+v, want two replays and no divergence", st)
	}
	if u := tbl2.sessions["3"].user; u != "ann" {
		t.Errorf("after the replay conn 3 is %q, want ann", u)
	}
	if u := tbl2.sessions["2"].user; u != "bob" {
		t.Errorf("after the replay conn 2 is %q, want bob", u)
	}
	assertNowhere(t, b, path, pw)
	assertNowhere(t, b, path, pw2)
}

// TestPasswordAskedPlainlyIsRedacted: a script that asks for the password
// with an ordinary prompt and checks it in the same resume still keeps it
// out of the journal (db.auth_user names it a secret before the journal
// is stored), and the replay still logs the caller back in. (Its print,
// before db.auth_user, cannot know the line is a password: only the
// store is checked.)
func TestPasswordAskedPlainlyIsRedacted(t *testing.T) {
	const pw = "Plain-Prompt-Secret-88"
	b, path := secretBoard(t, func(src string) string {
		return strings.Replace(src, "req = ui.secret(conn, req, 'password')", "req = ui.ask(conn, req, 'Password?')", 1)
	})
	if err := b.db.RegisterUser(t.Context(), "cy", pw); err != nil {
		t.Fatal(err)
	}
	tbl, rec := b.table(t)
	got := converse(tbl, rec, "1", "connect", "cy", pw)
	expect(t, got[len(got)-1:], "1 prompt:MOTD: This board is a rebuild of a 2010 experiment: every caller is one Lua")
	assertNotStored(t, path, pw)
	crash(tbl)
	tbl2, rec2 := b.table(t)
	expect(t, converse(tbl2, rec2, "1", "y"), "1 prompt:---(((MAIN MENU)))---")
	if st := tbl2.JournalStats(); st.Diverged != 0 {
		t.Errorf("journal stats %+v, want no divergence", st)
	}
	assertNotStored(t, path, pw)
}

// TestWrongPasswordConfirmationReplays: placeholders keep equality and
// inequality, so a confirmation that did not match, then one that did,
// replay as they went.
func TestWrongPasswordConfirmationReplays(t *testing.T) {
	b, path := secretBoard(t, nil)
	tbl, rec := b.table(t)
	got := converse(tbl, rec, "1", "connect", "dee", "First-Try-1234", "Typo-Try-1234")
	expect(t, got[len(got)-1:], "1 prompt:Those passwords don't match. Type the same password again:")
	got = converse(tbl, rec, "1", "First-Try-1234")
	expect(t, got[len(got)-1:], "1 prompt:MOTD: This board is a rebuild of a 2010 experiment: every caller is one Lua")
	crash(tbl)
	tbl2, rec2 := b.table(t)
	expect(t, converse(tbl2, rec2, "1", "y"), "1 prompt:---(((MAIN MENU)))---")
	if st := tbl2.JournalStats(); st.Replayed != 1 || st.Diverged != 0 {
		t.Errorf("journal stats %+v, want one replay and no divergence", st)
	}
	assertNowhere(t, b, path, "First-Try-1234")
	assertNowhere(t, b, path, "Typo-Try-1234")
}
