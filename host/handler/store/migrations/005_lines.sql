-- 005: the directory of phone lines (one host process each) and the
-- callers online on each, shared by every host using this database.
-- Times are Unix milliseconds (UTC) by the writing host's clock.

-- One row per line number. A host upserts its line's row every heartbeat;
-- a row whose heartbeat_at is old is a line that went down. instance names
-- the host process that owns the line now (a restart gets a new one).
-- down_handled is set by the one host that told the line's callers it
-- went down, and cleared by the line's next heartbeat.
CREATE TABLE lines (
    line         INTEGER PRIMARY KEY CHECK (line >= 1),
    route        TEXT    NOT NULL,
    online       INTEGER NOT NULL DEFAULT 0,
    capacity     INTEGER NOT NULL DEFAULT 0,
    instance     TEXT    NOT NULL,
    pid          INTEGER NOT NULL DEFAULT 0,
    hostname     TEXT    NOT NULL DEFAULT '',
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL,
    down_handled INTEGER NOT NULL DEFAULT 0
);

-- The callers online on each line, by the front end's conn id; user is
-- empty until they log in.
CREATE TABLE line_callers (
    line    INTEGER NOT NULL REFERENCES lines (line) ON DELETE CASCADE,
    conn_id TEXT    NOT NULL,
    user    TEXT    NOT NULL DEFAULT '',
    since   INTEGER NOT NULL,
    PRIMARY KEY (line, conn_id)
);
