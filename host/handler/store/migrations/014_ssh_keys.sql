-- 014: public keys callers registered for SSH logins (host/shared/authkey).
-- One row per key of a user: its type, its SHA-256 fingerprint
-- ("SHA256:..."), the normalised authorized_keys line, and when it was
-- added, in Unix milliseconds. A key is registered at most once per user;
-- the store keeps at most MaxSSHKeys a user.
CREATE TABLE ssh_keys (
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    fingerprint TEXT    NOT NULL CHECK (length(fingerprint) BETWEEN 8 AND 100),
    key_type    TEXT    NOT NULL CHECK (length(key_type) BETWEEN 1 AND 40),
    line        TEXT    NOT NULL CHECK (length(line) BETWEEN 1 AND 8192),
    added_at    INTEGER NOT NULL,
    PRIMARY KEY (user_id, fingerprint)
) WITHOUT ROWID;
