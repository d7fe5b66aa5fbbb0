-- 009: login and registration throttles, shared by every host of the
-- board and kept across restarts. Names are store.NameKey keys (not
-- account ids: an attacker guesses names that may not exist); addresses
-- are as the front end reported them ('' when unknown). A row is forgotten
-- once its last attempt is older than the throttle's memory.

-- Login attempts at one name from one address.
CREATE TABLE login_attempts (
    name_key   TEXT    NOT NULL,
    addr       TEXT    NOT NULL,
    attempts   INTEGER NOT NULL CHECK (attempts >= 0),
    last_at    INTEGER NOT NULL, -- Unix ms of the latest attempt
    not_before INTEGER NOT NULL, -- Unix ms: no attempt before this
    PRIMARY KEY (name_key, addr)
) WITHOUT ROWID;
CREATE INDEX login_attempts_last ON login_attempts (last_at);

-- Login attempts from one address, at every name.
CREATE TABLE login_addrs (
    addr       TEXT    PRIMARY KEY,
    attempts   INTEGER NOT NULL CHECK (attempts >= 0),
    last_at    INTEGER NOT NULL,
    not_before INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX login_addrs_last ON login_addrs (last_at);

-- Registrations (and those under way) from one address.
CREATE TABLE registrations (
    id   INTEGER PRIMARY KEY,
    addr TEXT    NOT NULL,
    at   INTEGER NOT NULL
);
CREATE INDEX registrations_addr ON registrations (addr, at);
