-- 012: numbered security levels, groups and flags for access rules, new
-- users waiting for the sysop's approval, and the time each caller spent
-- online per day (for time limits).

-- security is the caller's level, 0 to 255. The named levels of 003 are
-- 10 (new), 20 (user) and 255 (sysop); users.level keeps the name of the
-- highest one security reaches, for programs that know only names.
ALTER TABLE users ADD COLUMN security INTEGER NOT NULL DEFAULT 20
    CHECK (security BETWEEN 0 AND 255);
UPDATE users SET security = CASE level WHEN 'new' THEN 10 WHEN 'sysop' THEN 255 ELSE 20 END;

-- A program that sets only the level name (an older m2bbs) moves the
-- number with it.
CREATE TRIGGER level_sets_security AFTER UPDATE OF level ON users
WHEN NEW.level IS NOT OLD.level AND NEW.security = OLD.security
BEGIN
    UPDATE users SET security = CASE NEW.level WHEN 'new' THEN 10 WHEN 'sysop' THEN 255 ELSE 20 END
    WHERE id = NEW.id;
END;

-- flags: upper-case letters A to Z, sorted, each at most once.
ALTER TABLE users ADD COLUMN flags TEXT NOT NULL DEFAULT ''
    CHECK (length(flags) <= 26 AND flags NOT GLOB '*[^A-Z]*');

-- waiting: 1 from registration (when the board has new users wait) until
-- the sysop approves the account.
ALTER TABLE users ADD COLUMN waiting INTEGER NOT NULL DEFAULT 0 CHECK (waiting IN (0, 1));

-- The first user ever registered is the sysop, and waits for no one.
CREATE TRIGGER first_user_approved AFTER INSERT ON users
WHEN (SELECT count(*) FROM users) = 1
BEGIN
    UPDATE users SET security = 255, level = 'sysop', waiting = 0 WHERE id = NEW.id;
END;

CREATE INDEX users_waiting ON users (created_at) WHERE waiting = 1;

-- A user's groups, lower case.
CREATE TABLE user_groups (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name    TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 32),
    PRIMARY KEY (user_id, name)
) WITHOUT ROWID;

-- When each call online began (per conn_id), so that a call's time limit
-- holds when its session is rebuilt on another host or after a restart.
CREATE TABLE call_clocks (
    conn_id TEXT    PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    started INTEGER NOT NULL
) WITHOUT ROWID;

-- Seconds a user spent online on a day (YYYY-MM-DD in the board's time
-- zone); only the latest day is kept.
CREATE TABLE time_used (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day     TEXT    NOT NULL,
    seconds INTEGER NOT NULL CHECK (seconds >= 0),
    PRIMARY KEY (user_id, day)
) WITHOUT ROWID;
