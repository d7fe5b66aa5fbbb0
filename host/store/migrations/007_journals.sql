-- 007: session journals. Every request a caller's session was resumed
-- with, and every host call result the script saw, in order, so that a
-- host that never ran the session (after a restart, an upgrade or a move)
-- can rebuild it by replay. A journal is deleted when its session ends.
-- written is Unix milliseconds of the last append: journals nobody appended
-- to for a long time belong to calls that ended without a word (a front
-- end that restarted) and are pruned.
CREATE TABLE journal_entries (
    conn_id TEXT    NOT NULL,
    seq     INTEGER NOT NULL CHECK (seq >= 0),
    entry   BLOB    NOT NULL,
    written INTEGER NOT NULL,
    PRIMARY KEY (conn_id, seq)
) WITHOUT ROWID;
