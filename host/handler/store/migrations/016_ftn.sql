-- 016 (issue 19's migration; the brief's number 019, renumbered to follow
-- main's last): FidoNet-technology (FTN) mail. Posts and mail keep their
-- rows in messages and mail; what FTN adds to them lives here.

-- The account that FTN posts and netmail from other systems belong to.
-- Its name holds '~', which no caller can register or log in with, and
-- its hash '!' matches no password. The first-user-is-sysop triggers
-- skip it, so the first person to register still becomes the sysop.
DROP TRIGGER first_user_is_sysop;
CREATE TRIGGER first_user_is_sysop AFTER INSERT ON users
WHEN NEW.name <> '~ftn' AND (SELECT count(*) FROM users WHERE name <> '~ftn') = 1
BEGIN
    UPDATE users SET level = 'sysop' WHERE id = NEW.id;
END;
DROP TRIGGER first_user_approved;
CREATE TRIGGER first_user_approved AFTER INSERT ON users
WHEN NEW.name <> '~ftn' AND (SELECT count(*) FROM users WHERE name <> '~ftn') = 1
BEGIN
    UPDATE users SET security = 255, level = 'sysop', waiting = 0 WHERE id = NEW.id;
END;
INSERT INTO users (name, password_hash, created_at, level, security)
VALUES ('~ftn', '!', CAST(strftime('%s', 'now') AS INTEGER) * 1000, 'user', 20);

-- The FTN side of a post: tossed in from a network (inbound = 1), or
-- written here and exported (inbound = 0, a row written when it is).
CREATE TABLE ftn_posts (
    message_id INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    inbound    INTEGER NOT NULL CHECK (inbound IN (0, 1)),
    area_tag   TEXT    NOT NULL,
    from_name  TEXT    NOT NULL,
    from_addr  TEXT    NOT NULL,
    to_name    TEXT    NOT NULL DEFAULT 'All',
    msgid      TEXT,   -- NULL when the message had none
    reply      TEXT,
    -- The kludge lines (without ^A), SEEN-BY and PATH entries, "\n"-joined.
    kludges    TEXT    NOT NULL DEFAULT '',
    seen_by    TEXT    NOT NULL DEFAULT '',
    path       TEXT    NOT NULL DEFAULT '',
    -- A tossed message to pass on to the echo's other uplinks: the packet
    -- it came in (header and that one message), until it is exported.
    forward    BLOB
);
CREATE INDEX ftn_posts_forward ON ftn_posts (message_id) WHERE forward IS NOT NULL;
CREATE INDEX ftn_posts_msgid ON ftn_posts (area_tag, msgid) WHERE msgid IS NOT NULL;

-- The FTN side of a mail tossed in as netmail.
CREATE TABLE ftn_mail (
    mail_id   INTEGER PRIMARY KEY REFERENCES mail (id) ON DELETE CASCADE,
    from_name TEXT    NOT NULL,
    from_addr TEXT    NOT NULL,
    msgid     TEXT,
    kludges   TEXT    NOT NULL DEFAULT ''
);

-- Netmail written here to an FTN address (Name@zone:net/node), until and
-- after it is exported.
CREATE TABLE ftn_netmail_out (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    from_id     INTEGER NOT NULL REFERENCES users (id),
    to_name     TEXT    NOT NULL CHECK (length(to_name) BETWEEN 1 AND 35),
    to_addr     TEXT    NOT NULL,
    subject     TEXT    NOT NULL DEFAULT '',
    body        TEXT    NOT NULL,
    line_count  INTEGER NOT NULL CHECK (line_count >= 0),
    reply       TEXT,   -- the REPLY kludge, when it answers a tossed netmail
    written_at  INTEGER NOT NULL,
    exported_at INTEGER -- NULL until a packet holding it is staged
);
CREATE INDEX ftn_netmail_pending ON ftn_netmail_out (id) WHERE exported_at IS NULL;

-- Messages seen, by MSGID (area tag and MSGID) or by a hash of the message
-- when it has none, so a message delivered twice is tossed once.
CREATE TABLE ftn_dupes (
    key     TEXT    PRIMARY KEY,
    seen_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Packets written by the scanner and recorded here in the transaction that
-- marks their messages exported, until they are moved into the mailer's
-- outbound: a crash between the two steps neither loses nor repeats one.
CREATE TABLE ftn_staged (
    name     TEXT    PRIMARY KEY,   -- the packet's file name in the staging folder
    uplink   TEXT    NOT NULL,      -- the address it goes to
    staged_at INTEGER NOT NULL
) WITHOUT ROWID;

-- When each echo's area was linked: the newest post id then. Only posts
-- written after it are exported, so linking an area that has a history
-- does not send the history to the network.
CREATE TABLE ftn_links (
    area_id  INTEGER PRIMARY KEY REFERENCES areas (id) ON DELETE CASCADE,
    after_id INTEGER NOT NULL
);

-- Counters: the next MSGID serial (seeded from the clock so that a new
-- database does not repeat an old one's serials), tossed, duplicates, bad.
CREATE TABLE ftn_state (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO ftn_state (name, value) VALUES
    ('serial', CAST(strftime('%s', 'now') AS INTEGER)),
    ('tossed', 0), ('dupes', 0), ('bad', 0), ('exported', 0);
