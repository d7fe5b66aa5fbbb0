-- 013: the sysop's scheduled events (host/handler/events).
-- events holds one row per event a board declared: the schedule it was
-- last declared with (its text and zone: a change resets the due time)
-- and when it is next due, in Unix milliseconds. A host claims a due run by moving
-- next_due on with an UPDATE that checks the old value, so one host of
-- several runs it. event_runs keeps each event's last runs: why it ran
-- (schedule, catch-up, sysop), how it ended (ok, error, timed out,
-- skipped), the error, which host, and when it started and ended.
CREATE TABLE events (
    name     TEXT    PRIMARY KEY,
    schedule TEXT    NOT NULL,
    next_due INTEGER NOT NULL
);

CREATE TABLE event_runs (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    event   TEXT    NOT NULL,
    cause   TEXT    NOT NULL,
    outcome TEXT    NOT NULL,
    error   TEXT    NOT NULL DEFAULT '',
    host    TEXT    NOT NULL DEFAULT '',
    started INTEGER NOT NULL,
    ended   INTEGER NOT NULL
);

CREATE INDEX event_runs_by_event ON event_runs (event, id);
