// Package store is the BBS's durable storage: registered users and their
// accounts, the message areas, private mail (kept until deleted) and the
// door games' saved data.
//
// [Store] is the whole storage, composed of the narrow interfaces each
// part of the host takes: [Basic] (the original BBS's calls, the Lua db
// module), [Accounts], [Boards], [Mailbox] and [DoorStore] (the other Lua
// modules), [Throttles] (login throttles), [Journals] (durable sessions)
// and [Lines] (the phone-line directory). [SQLite], returned by [Open],
// implements it over one SQLite file with github.com/mattn/go-sqlite3,
// or, given a postgres:// URL ([IsPostgres]), over a PostgreSQL database
// with github.com/jackc/pgx/v5: the same SQL runs on both (pgdriver.go
// converts placeholders; pg.go opens, migrates from pgmigrations/ and
// retries serialisable transactions). The layout and concurrency notes
// below are SQLite's; docs/postgresql.md tells PostgreSQL's.
//
// # Layout on disk and concurrency
//
// The database runs in WAL mode with synchronous=NORMAL ([SyncNormal]: a
// power cut can lose the last transactions committed before it, never
// corrupt the file; [Options.Sync] = [SyncFull] loses none, at a cost) and
// foreign keys on.
// All writes go through one connection (a *sql.DB limited to one open
// connection, whose transactions start with BEGIN IMMEDIATE), so writers in
// this process queue in Go instead of failing with SQLITE_BUSY; reads use a
// separate pool of read-only connections, which WAL lets run alongside the
// writer. Other processes writing the same file are tolerated through the
// busy timeout ([Options.BusyTimeout]). Each connection prepares a
// statement the first time it runs it and keeps it, by its SQL text, for
// the next call (go-sqlite3's statement cache, sized to hold every
// statement of the store), so a call compiles no SQL once its connection
// has run it before.
//
// # Schema
//
// The schema lives in numbered files embedded from migrations/ (001_init.sql,
// 002_..., ...). [Open] applies those newer than the file's PRAGMA
// user_version, each in its own transaction together with the version bump,
// so a failed migration leaves the previous version intact. A database whose
// version is newer than this program knows is refused with
// [ErrSchemaTooNew].
//
// # Rules and limits
//
//   - User names are cleaned ([CleanName]: compatibility forms such as
//     fullwidth letters folded, invisible characters removed, Unicode
//     spaces trimmed) and must then be 1 to [MaxNameLen] ASCII letters,
//     digits, '_', '-' or '.', with a letter among them. They are unique
//     regardless of case, looked up regardless of case, and reported in the
//     spelling they were registered with. [NameKey] and [NameSkeleton] are
//     the identities the login throttles and the reserved names use.
//   - Login and registration throttles ([Throttles]) are counted here, so
//     every host sharing the file sees the same counts.
//   - Passwords are hashed with bcrypt; the plain text is never stored. An
//     empty password, or one longer than [MaxPasswordBytes] (bcrypt only
//     reads the first 72 bytes, so a longer one would be silently
//     truncated), is refused with [ErrBadPassword]. Passwords are not
//     trimmed.
//   - A message or mail is a list of lines, stored as their text joined by
//     "\n" with the number of lines beside it, so empty lines and an empty
//     list come back exactly. A line containing "\n" counts as several lines.
//     At most [MaxLines] lines and [MaxBodyBytes] bytes of text (newlines
//     included) are accepted; more is refused with [ErrTooLarge].
//   - Messages and mail are written by registered users only: an unknown
//     author, sender or recipient gives [ErrNoSuchUser].
//
// Errors are wrapped with a short "store: ..." context; test for the
// sentinel errors with errors.Is.
package store
