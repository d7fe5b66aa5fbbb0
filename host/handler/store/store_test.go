package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// testOptions keeps bcrypt cheap.
var testOptions = Options{BcryptCost: bcrypt.MinCost}

// newStore opens a fresh store in a temp dir (in a subdirectory, so Open
// has to create it) and closes it at the end of the test.
func newStore(t testing.TB) (*SQLite, string) {
	t.Helper()
	if onPostgres(t) {
		return newPGStore(t, testOptions)
	}
	path := filepath.Join(t.TempDir(), "data", "bbs.db")
	s, err := Open(path, testOptions)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s, path
}

// rawDB opens the file with plain database/sql, as an inspector would.
func rawDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func userVersion(t testing.TB, path string) int {
	t.Helper()
	var v int
	if err := rawDB(t, path).QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func mustRegister(t testing.TB, s Store, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := s.RegisterUser(context.Background(), n, "pw-"+n); err != nil {
			t.Fatalf("RegisterUser(%q): %v", n, err)
		}
	}
}

func TestOpenCreatesPrivateFilesInWALMode(t *testing.T) {
	s, path := newStore(t)
	dirInfo, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if perm := dirInfo.Mode().Perm(); perm != 0o700 {
		t.Errorf("directory mode = %v, want 0700", perm)
	}
	fileInfo, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fileInfo.Mode().Perm(); perm != 0o600 {
		t.Errorf("file mode = %v, want 0600", perm)
	}
	var mode string
	if err := rawDB(t, path).QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
	if v := userVersion(t, path); v != len(s.migrations) || v < 1 {
		t.Errorf("user_version = %d, want %d", v, len(s.migrations))
	}
}

func TestOpenRejectsBadArguments(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		path string
		opts Options
	}{
		{"empty path", "", testOptions},
		{"memory", ":memory:", testOptions},
		{"uri", "file:x.db", testOptions},
		{"bcrypt cost too high", filepath.Join(dir, "a.db"), Options{BcryptCost: bcrypt.MaxCost + 1}},
		{"bcrypt cost too low", filepath.Join(dir, "b.db"), Options{BcryptCost: 1}},
		{"negative busy timeout", filepath.Join(dir, "c.db"), Options{BusyTimeout: -time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(tc.path, tc.opts)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.HasPrefix(err.Error(), "store: open: ") {
				t.Errorf("error %q lacks context", err)
			}
		})
	}
}

func TestOpenPathWithURIMetacharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "odd ?dir#1%20")
	path := filepath.Join(dir, "b?b#s%41.db")
	s, err := Open(path, testOptions)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	mustRegister(t, s, "alice")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Closing checkpoints the WAL into the file, which must be the only
	// one, at exactly the given path.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != filepath.Base(path) {
		t.Fatalf("directory holds %v; want only %q", entries, filepath.Base(path))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("SQLite format 3\x00")) || !bytes.Contains(data, []byte("alice")) {
		t.Fatalf("%q is not the database holding alice", path)
	}
	s, err = Open(path, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ok, err := s.UserExists(context.Background(), "alice"); !ok || err != nil {
		t.Errorf("after reopen UserExists(alice) = %v, %v", ok, err)
	}
}

func TestRegisterAndAuthenticate(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	if ok, err := s.UserExists(ctx, "alice"); ok || err != nil {
		t.Fatalf("UserExists before registering = %v, %v", ok, err)
	}
	if err := s.RegisterUser(ctx, "Alice", "secret"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Alice", "alice", "ALICE", "  aLiCe\t"} {
		if ok, err := s.UserExists(ctx, name); !ok || err != nil {
			t.Errorf("UserExists(%q) = %v, %v; want true", name, ok, err)
		}
	}
	for _, tc := range []struct {
		name, password string
		want           bool
	}{
		{"Alice", "secret", true},
		{"alice", "secret", true},
		{" ALICE ", "secret", true},
		{"alice", "Secret", false},
		{"alice", "secret ", false},
		{"alice", "", false},
		{"alice", strings.Repeat("s", 100), false},
		{"bob", "secret", false},
		{"no such/name", "secret", false},
		{"", "", false},
	} {
		ok, err := s.AuthUser(ctx, tc.name, tc.password)
		if ok != tc.want || err != nil {
			t.Errorf("AuthUser(%q, %q) = %v, %v; want %v, nil", tc.name, tc.password, ok, err, tc.want)
		}
	}
}

func TestRegisterUserErrors(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "Alice")
	for _, tc := range []struct {
		name, password string
		want           error
	}{
		{"Alice", "pw", ErrUserExists},
		{"alice", "pw", ErrUserExists},
		{" ALICE ", "pw", ErrUserExists},
		{"", "pw", ErrBadName},
		{"   ", "pw", ErrBadName},
		{"a b", "pw", ErrBadName},
		{"a/b", "pw", ErrBadName},
		{"a\x00b", "pw", ErrBadName},
		{"zoë", "pw", ErrBadName},
		{"a'; DROP TABLE users; --", "pw", ErrBadName},
		{strings.Repeat("x", MaxNameLen+1), "pw", ErrBadName},
		{"bob", "", ErrBadPassword},
		{"bob", strings.Repeat("p", MaxPasswordBytes+1), ErrBadPassword},
	} {
		err := s.RegisterUser(ctx, tc.name, tc.password)
		if !errors.Is(err, tc.want) {
			t.Errorf("RegisterUser(%q, %q) = %v; want %v", tc.name, tc.password, err, tc.want)
		}
	}
	// The limits themselves are allowed.
	long := strings.Repeat("x", MaxNameLen)
	pw := strings.Repeat("p", MaxPasswordBytes)
	if err := s.RegisterUser(ctx, long, pw); err != nil {
		t.Fatalf("RegisterUser at the limits: %v", err)
	}
	if ok, err := s.AuthUser(ctx, long, pw); !ok || err != nil {
		t.Errorf("AuthUser at the limits = %v, %v", ok, err)
	}
	if ok, err := s.AuthUser(ctx, long, pw[:MaxPasswordBytes-1]); ok || err != nil {
		t.Errorf("AuthUser with a truncated password = %v, %v; want false", ok, err)
	}
	if ok, _ := s.UserExists(ctx, "bob"); ok {
		t.Error("a failed registration left user bob behind")
	}
}

func TestRegisterUserSameNameConcurrently(t *testing.T) {
	s, _ := newStore(t)
	names := []string{"carol", "Carol", "CAROL", "cArOl", "carol ", "CaRoL"}
	errs := make(chan error, len(names))
	for _, n := range names {
		go func() { errs <- s.RegisterUser(context.Background(), n, "pw") }()
	}
	var ok, taken int
	for range names {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, ErrUserExists):
			taken++
		default:
			t.Errorf("RegisterUser: %v", err)
		}
	}
	if ok != 1 || taken != len(names)-1 {
		t.Errorf("%d registrations succeeded and %d were refused; want 1 and %d", ok, taken, len(names)-1)
	}
}

func TestPasswordStoredHashed(t *testing.T) {
	s, path := newStore(t)
	const password = "correct horse battery staple"
	if err := s.RegisterUser(context.Background(), "dave", password); err != nil {
		t.Fatal(err)
	}
	var hash []byte
	if err := rawDB(t, path).QueryRow("SELECT password_hash FROM users WHERE name = 'dave'").Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(hash, []byte(password)) {
		t.Fatalf("stored password_hash %q contains the password", hash)
	}
	if err := bcrypt.CompareHashAndPassword(hash, []byte(password)); err != nil {
		t.Fatalf("stored value is not a bcrypt hash of the password: %v", err)
	}
	if cost, err := bcrypt.Cost(hash); err != nil || cost != bcrypt.MinCost {
		t.Errorf("bcrypt cost = %d, %v; want %d", cost, err, bcrypt.MinCost)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(path + "-wal")
	if bytes.Contains(raw, []byte(password)) || bytes.Contains(wal, []byte(password)) {
		t.Error("the password appears in plain text in the database files")
	}
}

func TestAuthUserCorruptHashIsAnError(t *testing.T) {
	s, path := newStore(t)
	mustRegister(t, s, "erin")
	if _, err := rawDB(t, path).Exec("UPDATE users SET password_hash = 'not-a-hash' WHERE name = 'erin'"); err != nil {
		t.Fatal(err)
	}
	ok, err := s.AuthUser(context.Background(), "erin", "pw-erin")
	if ok || err == nil || !strings.HasPrefix(err.Error(), "store: auth user") {
		t.Fatalf("AuthUser over a corrupt hash = %v, %v; want false and a store error", ok, err)
	}
}

func TestPostAndReadMessages(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "Alice", "bob")
	if n, err := s.MessageCount(ctx); n != 0 || err != nil {
		t.Fatalf("MessageCount on an empty board = %d, %v", n, err)
	}
	if _, err := s.MessageAt(ctx, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("MessageAt(0) on an empty board = %v; want ErrNotFound", err)
	}
	before := time.Now().Add(-time.Second)
	posts := []struct {
		author string
		lines  []string
	}{
		{"alice", []string{"hello", "", "world", ""}},
		{"BOB", []string{}},
		{"bob", []string{""}},
		{"Alice", []string{"  indented\t", "ünïcödé ✓", "tab\there", "nul\x00byte", "cr\r"}},
		{"alice", []string{"", "", ""}},
	}
	if onPostgres(t) { // its text holds no NUL: TestPostgresRefusesUnstorableText
		posts[3].lines[3] = "no nul byte"
	}
	var posted []Message
	for _, p := range posts {
		m, err := s.PostMessage(ctx, p.author, p.lines)
		if err != nil {
			t.Fatalf("PostMessage(%q): %v", p.author, err)
		}
		if !reflect.DeepEqual(m.Lines, p.lines) {
			t.Errorf("PostMessage returned lines %q; want %q", m.Lines, p.lines)
		}
		if m.Posted.Before(before) || m.Posted.After(time.Now().Add(time.Second)) {
			t.Errorf("Posted = %v; want about now", m.Posted)
		}
		posted = append(posted, m)
	}
	wantAuthors := []string{"Alice", "bob", "bob", "Alice", "Alice"}
	if n, err := s.MessageCount(ctx); n != len(posts) || err != nil {
		t.Fatalf("MessageCount = %d, %v; want %d", n, err, len(posts))
	}
	for i := range posts {
		got, err := s.MessageAt(ctx, i)
		if err != nil {
			t.Fatalf("MessageAt(%d): %v", i, err)
		}
		if got.Author != wantAuthors[i] {
			t.Errorf("MessageAt(%d).Author = %q; want %q", i, got.Author, wantAuthors[i])
		}
		if !got.Posted.Equal(posted[i].Posted) || got.ID != posted[i].ID ||
			got.Author != posted[i].Author || !reflect.DeepEqual(got.Lines, posted[i].Lines) {
			t.Errorf("MessageAt(%d) = %+v; PostMessage returned %+v", i, got, posted[i])
		}
		if i > 0 && got.ID <= posted[i-1].ID {
			t.Errorf("message IDs not increasing: %d after %d", got.ID, posted[i-1].ID)
		}
	}
	for _, i := range []int{-1, len(posts), len(posts) + 100} {
		if _, err := s.MessageAt(ctx, i); !errors.Is(err, ErrNotFound) {
			t.Errorf("MessageAt(%d) = %v; want ErrNotFound", i, err)
		}
	}
}

func TestPostMessageDoesNotKeepCallerSlice(t *testing.T) {
	s, _ := newStore(t)
	mustRegister(t, s, "alice")
	lines := []string{"one", "two"}
	m, err := s.PostMessage(context.Background(), "alice", lines)
	if err != nil {
		t.Fatal(err)
	}
	lines[0] = "changed"
	if m.Lines[0] != "one" {
		t.Error("Message.Lines aliases the caller's slice")
	}
}

func TestPostMessageLimitsAndErrors(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "alice")
	repeat := func(line string, n int) []string {
		l := make([]string, n)
		for i := range l {
			l[i] = line
		}
		return l
	}
	for _, tc := range []struct {
		name   string
		author string
		lines  []string
		want   error
	}{
		{"unknown author", "mallory", []string{"hi"}, ErrNoSuchUser},
		{"invalid author", "not a name", []string{"hi"}, ErrNoSuchUser},
		{"empty author", "", []string{"hi"}, ErrNoSuchUser},
		{"too many lines", "alice", repeat("x", MaxLines+1), ErrTooLarge},
		{"too many lines inside lines", "alice", repeat("x\ny", MaxLines/2+1), ErrTooLarge},
		{"too many bytes", "alice", []string{strings.Repeat("x", MaxBodyBytes+1)}, ErrTooLarge},
		{"too many bytes with newlines", "alice", []string{strings.Repeat("x", MaxBodyBytes/2), strings.Repeat("x", MaxBodyBytes/2)}, ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.PostMessage(ctx, tc.author, tc.lines); !errors.Is(err, tc.want) {
				t.Errorf("PostMessage = %v; want %v", err, tc.want)
			}
		})
	}
	if n, _ := s.MessageCount(ctx); n != 0 {
		t.Fatalf("refused posts were stored: count %d", n)
	}
	// At the limits.
	for _, lines := range [][]string{
		repeat("x", MaxLines),
		repeat("x\ny", MaxLines/2),
		{strings.Repeat("x", MaxBodyBytes)},
		{strings.Repeat("x", MaxBodyBytes/2), strings.Repeat("x", MaxBodyBytes/2-1)},
	} {
		if _, err := s.PostMessage(ctx, "alice", lines); err != nil {
			t.Errorf("PostMessage at the limit: %v", err)
		}
	}
	// A line holding a newline comes back as two lines.
	m, err := s.PostMessage(ctx, "alice", []string{"a\nb", "c"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.MessageAt(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "b", "c"}
	if !reflect.DeepEqual(m.Lines, want) || !reflect.DeepEqual(got.Lines, want) {
		t.Errorf("lines = %q (returned), %q (read); want %q", m.Lines, got.Lines, want)
	}
}

func TestMail(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "Alice", "Bob")

	if n, err := s.UnreadMailCount(ctx, "bob"); n != 0 || err != nil {
		t.Fatalf("UnreadMailCount = %d, %v; want 0", n, err)
	}
	if _, err := s.ReadNextMail(ctx, "bob"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ReadNextMail on an empty inbox = %v; want ErrNotFound", err)
	}
	first, err := s.SendMail(ctx, "BOB", "alice", []string{"hi bob", ""})
	if err != nil {
		t.Fatal(err)
	}
	if first.To != "Bob" || first.From != "Alice" || first.Read || first.Sent.IsZero() {
		t.Errorf("SendMail returned %+v", first)
	}
	second, err := s.SendMail(ctx, " bob ", "ALICE", []string{"again"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SendMail(ctx, "alice", "bob", []string{"reply"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"bob", "Bob", "BOB"} {
		if n, err := s.UnreadMailCount(ctx, name); n != 2 || err != nil {
			t.Errorf("UnreadMailCount(%q) = %d, %v; want 2", name, n, err)
		}
	}
	for i, want := range []Mail{first, second} {
		got, err := s.ReadNextMail(ctx, "bOb")
		if err != nil {
			t.Fatalf("ReadNextMail #%d: %v", i, err)
		}
		want.Read = true
		if got.ID != want.ID || got.To != want.To || got.From != want.From ||
			!reflect.DeepEqual(got.Lines, want.Lines) || !got.Sent.Equal(want.Sent) || !got.Read {
			t.Errorf("ReadNextMail #%d = %+v; want %+v", i, got, want)
		}
		if n, _ := s.UnreadMailCount(ctx, "bob"); n != 1-i {
			t.Errorf("after reading %d mails, %d unread; want %d", i+1, n, 1-i)
		}
	}
	if _, err := s.ReadNextMail(ctx, "bob"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ReadNextMail on a read inbox = %v; want ErrNotFound", err)
	}
	if n, _ := s.UnreadMailCount(ctx, "alice"); n != 1 {
		t.Errorf("alice has %d unread; want 1 (bob reading his mail must not touch hers)", n)
	}
	for _, name := range []string{"nobody", "bad name", ""} {
		if n, err := s.UnreadMailCount(ctx, name); n != 0 || err != nil {
			t.Errorf("UnreadMailCount(%q) = %d, %v; want 0, nil", name, n, err)
		}
		if _, err := s.ReadNextMail(ctx, name); !errors.Is(err, ErrNotFound) {
			t.Errorf("ReadNextMail(%q) = %v; want ErrNotFound", name, err)
		}
	}
}

func TestSendMailErrors(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "alice", "bob")
	for _, tc := range []struct {
		to, from string
		lines    []string
		want     error
	}{
		{"nobody", "alice", []string{"hi"}, ErrNoSuchUser},
		{"bob", "nobody", []string{"hi"}, ErrNoSuchUser},
		{"b o b", "alice", []string{"hi"}, ErrNoSuchUser},
		{"bob", "alice", make([]string, MaxLines+1), ErrTooLarge},
	} {
		_, err := s.SendMail(ctx, tc.to, tc.from, tc.lines)
		if !errors.Is(err, tc.want) {
			t.Errorf("SendMail(%q, %q) = %v; want %v", tc.to, tc.from, err, tc.want)
		}
	}
	if n, _ := s.UnreadMailCount(ctx, "bob"); n != 0 {
		t.Errorf("refused mail was delivered: %d unread", n)
	}
}

// logBuffer collects log output safely from several goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) count(s string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Count(b.buf.String(), s)
}

func TestMigrationsIdempotentAcrossReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bbs.db")
	var logs logBuffer
	opts := testOptions
	opts.Log = slog.New(slog.NewTextHandler(&logs, nil))

	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	applied := logs.count("applied migration")
	if applied != len(s.migrations) {
		t.Errorf("first Open applied %d migrations; want %d", applied, len(s.migrations))
	}
	mustRegister(t, s, "alice")
	if _, err := s.PostMessage(context.Background(), "alice", []string{"kept"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	version := userVersion(t, path)

	for range 2 {
		s, err = Open(path, opts)
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		if n := logs.count("applied migration"); n != applied {
			t.Errorf("reopening an up-to-date database applied %d migrations", n-applied)
		}
		m, err := s.MessageAt(context.Background(), 0)
		if err != nil || m.Lines[0] != "kept" {
			t.Errorf("after reopen MessageAt(0) = %+v, %v", m, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if v := userVersion(t, path); v != version {
			t.Errorf("user_version changed on reopen: %d -> %d", version, v)
		}
	}
}

func TestMigrationsAppliedInOrderAndOnlyOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	fsys := fstest.MapFS{
		"migrations/002_add.sql":  {Data: []byte("ALTER TABLE t ADD COLUMN b TEXT;")},
		"migrations/001_init.sql": {Data: []byte("CREATE TABLE t (a INTEGER);\nCREATE TABLE log (v INTEGER);\nINSERT INTO log VALUES (1);")},
		"migrations/003_fill.sql": {Data: []byte("INSERT INTO t (a, b) VALUES (1, 'x');\nINSERT INTO log VALUES (3);")},
		"migrations/README":       {Data: []byte("not a migration")},
	}
	s, err := openWith(path, testOptions, fsys)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	s.Close()
	if v := userVersion(t, path); v != 3 {
		t.Fatalf("user_version = %d; want 3", v)
	}

	fsys["migrations/004_more.sql"] = &fstest.MapFile{Data: []byte("INSERT INTO log VALUES (4);")}
	s, err = openWith(path, testOptions, fsys)
	if err != nil {
		t.Fatalf("reopen with a new migration: %v", err)
	}
	s.Close()
	rows, err := rawDB(t, path).Query("SELECT v FROM log ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if !reflect.DeepEqual(got, []int{1, 3, 4}) {
		t.Errorf("migrations ran as %v; want [1 3 4] (each once, in order)", got)
	}
	if v := userVersion(t, path); v != 4 {
		t.Errorf("user_version = %d; want 4", v)
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	fsys := fstest.MapFS{
		"migrations/001_init.sql":   {Data: []byte("CREATE TABLE t (a INTEGER);")},
		"migrations/002_broken.sql": {Data: []byte("CREATE TABLE u (a INTEGER);\nTHIS IS NOT SQL;")},
	}
	_, err := openWith(path, testOptions, fsys)
	if err == nil || !strings.Contains(err.Error(), "002_broken.sql") {
		t.Fatalf("open = %v; want an error naming 002_broken.sql", err)
	}
	if v := userVersion(t, path); v != 1 {
		t.Errorf("user_version = %d; want 1 (the good migration only)", v)
	}
	var n int
	rawDB(t, path).QueryRow("SELECT count(*) FROM sqlite_master WHERE name = 'u'").Scan(&n)
	if n != 0 {
		t.Error("table u from the failed migration exists")
	}
}

func TestLoadMigrationsRejectsBadSets(t *testing.T) {
	for name, files := range map[string][]string{
		"gap":       {"001_a.sql", "003_c.sql"},
		"duplicate": {"001_a.sql", "001_b.sql"},
		"no number": {"init.sql"},
		"zero":      {"000_a.sql"},
		"no name":   {"001.sql"},
	} {
		fsys := fstest.MapFS{}
		for _, f := range files {
			fsys["migrations/"+f] = &fstest.MapFile{Data: []byte("SELECT 1;")}
		}
		if _, err := loadMigrations(fsys); err == nil {
			t.Errorf("%s: loadMigrations(%v) succeeded", name, files)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	s, path := newStore(t)
	known := len(s.migrations)
	s.Close()
	if _, err := rawDB(t, path).Exec(fmt.Sprintf("PRAGMA user_version = %d", known+1)); err != nil {
		t.Fatal(err)
	}
	_, err := Open(path, testOptions)
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open = %v; want ErrSchemaTooNew", err)
	}
	if want := fmt.Sprintf("version %d", known+1); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if v := userVersion(t, path); v != known+1 {
		t.Errorf("refused database was modified: user_version %d", v)
	}
}

func TestConcurrentWritersAndReaders(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	const writers, posts, readers = 8, 200, 4
	for w := range writers {
		mustRegister(t, s, fmt.Sprintf("user%d", w))
	}
	errs := make(chan error, writers+readers)
	var wg, readersWG sync.WaitGroup
	done := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			for i := range posts {
				if _, err := s.PostMessage(ctx, fmt.Sprintf("USER%d", w), []string{fmt.Sprint(w), fmt.Sprint(i)}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for range readers {
		readersWG.Go(func() {
			last := 0
			for {
				select {
				case <-done:
					return
				default:
				}
				n, err := s.MessageCount(ctx)
				if err != nil {
					errs <- err
					return
				}
				if n < last {
					errs <- fmt.Errorf("count went down: %d after %d", n, last)
					return
				}
				last = n
				if n > 0 {
					if _, err := s.MessageAt(ctx, n-1); err != nil {
						errs <- fmt.Errorf("MessageAt(%d) with count %d: %w", n-1, n, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(done)
	readersWG.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n, err := s.MessageCount(ctx)
	if err != nil || n != writers*posts {
		t.Fatalf("MessageCount = %d, %v; want %d", n, err, writers*posts)
	}
	// Each writer's posts are all there, in the order it made them.
	next := make([]int, writers)
	for i := range n {
		m, err := s.MessageAt(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		var w, seq int
		fmt.Sscan(m.Lines[0], &w)
		fmt.Sscan(m.Lines[1], &seq)
		if m.Author != fmt.Sprintf("user%d", w) || seq != next[w] {
			t.Fatalf("message %d = %+v; want user%d's post %d", i, m, w, next[w])
		}
		next[w]++
	}
}

func TestReadNextMailNeverTwice(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustRegister(t, s, "alice", "bob")
	const mails = 200
	sent := make(map[int64]bool)
	for i := range mails {
		m, err := s.SendMail(ctx, "bob", "alice", []string{fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		sent[m.ID] = true
	}
	const readers = 2
	got := make([][]int64, readers)
	errs := make(chan error, readers)
	var wg sync.WaitGroup
	for r := range readers {
		wg.Go(func() {
			for {
				m, err := s.ReadNextMail(ctx, "bob")
				if errors.Is(err, ErrNotFound) {
					return
				}
				if err != nil {
					errs <- err
					return
				}
				got[r] = append(got[r], m.ID)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := make(map[int64]bool)
	for _, ids := range got {
		for _, id := range ids {
			if seen[id] {
				t.Errorf("mail %d returned twice", id)
			}
			seen[id] = true
		}
	}
	if !reflect.DeepEqual(seen, sent) {
		t.Errorf("read %d distinct mails; want the %d sent", len(seen), len(sent))
	}
	if n, _ := s.UnreadMailCount(ctx, "bob"); n != 0 {
		t.Errorf("%d unread after reading all", n)
	}
}

func TestReconnectDuringUse(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	const writers, posts = 4, 100
	for w := range writers {
		mustRegister(t, s, fmt.Sprintf("user%d", w))
	}
	halfway := make(chan struct{}, writers)
	reconnected := make(chan struct{}) // closed after two reconnects
	writersDone := make(chan struct{})
	errs := make(chan error, writers+1)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range posts {
				if i == posts/2 {
					halfway <- struct{}{}
					<-reconnected
				}
				if _, err := s.PostMessage(ctx, fmt.Sprintf("user%d", w), []string{"x"}); err != nil {
					errs <- err
					return
				}
				if _, err := s.MessageCount(ctx); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	reconnects := 0
	reconnectorDone := make(chan struct{})
	go func() {
		defer close(reconnectorDone)
		for {
			if err := s.Reconnect(ctx); err != nil {
				errs <- err
				return
			}
			if reconnects++; reconnects == 2 {
				close(reconnected)
			}
			select {
			case <-writersDone:
				return
			default:
			}
		}
	}()
	for range writers {
		<-halfway
	}
	wg.Wait()
	close(writersDone)
	<-reconnectorDone
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if reconnects < 2 {
		t.Fatalf("only %d reconnects", reconnects)
	}
	if n, err := s.MessageCount(ctx); n != writers*posts || err != nil {
		t.Fatalf("MessageCount = %d, %v; want %d", n, err, writers*posts)
	}
	t.Logf("%d reconnects during %d posts", reconnects, writers*posts)
}

func TestClosedStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bbs.db")
	s, err := Open(path, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	mustRegister(t, s, "alice")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	ctx := context.Background()
	checks := map[string]error{
		"Reconnect":    s.Reconnect(ctx),
		"RegisterUser": s.RegisterUser(ctx, "bob", "pw"),
	}
	_, checks["UserExists"] = s.UserExists(ctx, "alice")
	_, checks["AuthUser"] = s.AuthUser(ctx, "alice", "pw-alice")
	_, checks["PostMessage"] = s.PostMessage(ctx, "alice", []string{"x"})
	_, checks["MessageCount"] = s.MessageCount(ctx)
	_, checks["MessageAt"] = s.MessageAt(ctx, 0)
	_, checks["SendMail"] = s.SendMail(ctx, "alice", "alice", []string{"x"})
	_, checks["UnreadMailCount"] = s.UnreadMailCount(ctx, "alice")
	_, checks["ReadNextMail"] = s.ReadNextMail(ctx, "alice")
	for name, err := range checks {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close = %v; want ErrClosed", name, err)
		}
	}
}

func TestCanceledContext(t *testing.T) {
	s, _ := newStore(t)
	mustRegister(t, s, "alice")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.PostMessage(ctx, "alice", []string{"x"}); !errors.Is(err, context.Canceled) {
		t.Errorf("PostMessage with a canceled context = %v", err)
	}
	if _, err := s.MessageCount(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("MessageCount with a canceled context = %v", err)
	}
	if n, err := s.MessageCount(context.Background()); n != 0 || err != nil {
		t.Errorf("MessageCount = %d, %v; want 0 (the canceled post must not be stored)", n, err)
	}
}

func TestTwoStoresOnOneFile(t *testing.T) {
	// Like two host processes sharing the file: busy_timeout and BEGIN
	// IMMEDIATE must keep every write (on PostgreSQL, serialisable
	// transactions run again after a conflict).
	path := testTarget(t)
	a, err := Open(path, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(path, testOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	mustRegister(t, a, "alice")
	const posts = 200
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for _, s := range []*SQLite{a, b} {
		wg.Go(func() {
			for range posts {
				if _, err := s.PostMessage(context.Background(), "alice", []string{"x"}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for _, s := range []*SQLite{a, b} {
		if n, err := s.MessageCount(context.Background()); n != 2*posts || err != nil {
			t.Errorf("MessageCount = %d, %v; want %d", n, err, 2*posts)
		}
	}
}

// TestManyOpensOfANewDatabase: hosts started together on a database that
// does not exist yet all open it (one creates and migrates it).
func TestManyOpensOfANewDatabase(t *testing.T) {
	path := emptyTarget(t)
	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			s, err := Open(path, Options{BcryptCost: bcrypt.MinCost})
			if err == nil {
				err = s.Close()
			}
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
