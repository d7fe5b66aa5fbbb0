-- 002: door games' saved data, a key-value store per door.
-- Values are JSON documents; score holds the value when it is a JSON number,
-- so leaderboards are an index scan. user is '' for the door's global data.

CREATE TABLE door_data (
    door       TEXT    NOT NULL CHECK (length(door) BETWEEN 1 AND 32),
    -- The caller's name as first saved; matched regardless of ASCII case,
    -- like user names.
    user       TEXT    NOT NULL COLLATE NOCASE CHECK (length(user) <= 32),
    key        TEXT    NOT NULL CHECK (length(key) BETWEEN 1 AND 64),
    value      TEXT    NOT NULL,
    score      REAL,   -- the value if it is a number, else NULL
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (door, user, key)
) WITHOUT ROWID;

-- Leaderboards: users' numeric values under one key of one door.
CREATE INDEX door_scores ON door_data (door, key, score) WHERE score IS NOT NULL AND user <> '';
