-- 011: live state shared by every caller of the board, on every worker
-- and every phone line (the Lua shared module; see store.SharedState).

-- Named tables of values: a value is a string (s), a number (n) or a
-- boolean (n 0 or 1), as kind says.
CREATE TABLE shared_values (
    tbl        TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('s', 'n', 'b')),
    s          TEXT    NOT NULL DEFAULT '',
    n          REAL    NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL, -- Unix ms
    PRIMARY KEY (tbl, key)
) WITHOUT ROWID;

-- Events published on channels, for the hosts of other phone lines to
-- read (each host delivers its own at once). Kept for a few minutes.
CREATE TABLE shared_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    origin  TEXT    NOT NULL, -- the host process that published it
    channel TEXT    NOT NULL,
    sender  TEXT    NOT NULL, -- the publisher's name, or conn id
    text    TEXT    NOT NULL,
    at      INTEGER NOT NULL  -- Unix ms
);
CREATE INDEX shared_events_at ON shared_events (at);
