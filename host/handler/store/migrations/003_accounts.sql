-- 003: security levels, bans, the calls log and the one-liners wall.

-- new: registered but not yet trusted; user: a regular caller; sysop:
-- runs the board. The first user ever registered becomes the sysop.
ALTER TABLE users ADD COLUMN level TEXT NOT NULL DEFAULT 'user'
    CHECK (level IN ('new', 'user', 'sysop'));
ALTER TABLE users ADD COLUMN banned_at INTEGER; -- NULL unless banned

UPDATE users SET level = 'sysop' WHERE id = (SELECT min(id) FROM users);

CREATE TRIGGER first_user_is_sysop AFTER INSERT ON users
WHEN (SELECT count(*) FROM users) = 1
BEGIN
    UPDATE users SET level = 'sysop' WHERE id = NEW.id;
END;

-- One row per successful login, for "last callers".
CREATE TABLE calls (
    id      INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    at      INTEGER NOT NULL
);

-- The one-liners wall: short public lines, newest shown first.
CREATE TABLE oneliners (
    id        INTEGER PRIMARY KEY,
    user_id   INTEGER NOT NULL REFERENCES users (id),
    text      TEXT    NOT NULL CHECK (length(text) BETWEEN 1 AND 200),
    posted_at INTEGER NOT NULL
);
