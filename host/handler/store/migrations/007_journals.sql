-- 007: session journals. Every request a caller's session was resumed
-- with, and every host call result the script saw, in order, so that a
-- host that never ran the session (after a restart, an upgrade or a move)
-- can rebuild it by replay. One row per session: entries holds them all,
-- each a uvarint length and its bytes, and count how many there are, so
-- that an append is one UPDATE that fails if another host appended
-- meanwhile. A journal is deleted when its session ends; written (Unix
-- milliseconds of the last write) lets journals of calls that ended
-- without a word (a front end that restarted) be pruned.
CREATE TABLE journals (
    conn_id TEXT    PRIMARY KEY,
    entries BLOB    NOT NULL,
    count   INTEGER NOT NULL CHECK (count >= 0),
    written INTEGER NOT NULL
) WITHOUT ROWID;
