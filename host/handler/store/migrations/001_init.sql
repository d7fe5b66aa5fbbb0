-- 001: users, the public message board and private mail.
-- Times are Unix milliseconds (UTC).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    -- Unique regardless of ASCII case; stored as first registered.
    name          TEXT    NOT NULL UNIQUE COLLATE NOCASE
                          CHECK (length(name) BETWEEN 1 AND 32),
    -- bcrypt hash ($2a$...), never the password itself.
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    -- 0-based position on the board, so MessageAt is an index lookup and
    -- MessageCount is MAX(seq)+1.
    seq        INTEGER NOT NULL UNIQUE CHECK (seq >= 0),
    author_id  INTEGER NOT NULL REFERENCES users (id),
    -- Lines joined by "\n"; line_count tells an empty list from one empty line.
    body       TEXT    NOT NULL,
    line_count INTEGER NOT NULL CHECK (line_count >= 0),
    posted_at  INTEGER NOT NULL
);

CREATE TABLE mail (
    id         INTEGER PRIMARY KEY,
    to_id      INTEGER NOT NULL REFERENCES users (id),
    from_id    INTEGER NOT NULL REFERENCES users (id),
    body       TEXT    NOT NULL,
    line_count INTEGER NOT NULL CHECK (line_count >= 0),
    sent_at    INTEGER NOT NULL,
    read_at    INTEGER -- NULL while unread
);

-- Unread mail per recipient, oldest first.
CREATE INDEX mail_unread ON mail (to_id, id) WHERE read_at IS NULL;
