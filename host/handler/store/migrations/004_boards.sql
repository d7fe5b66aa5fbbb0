-- 004: message areas, threaded posts, last-read pointers, and mail that is
-- kept (with a subject) instead of popped.
-- Times are Unix milliseconds (UTC).

-- Sysop-defined message areas. 'general' (id 1) is the default area: the
-- original board's messages live there.
CREATE TABLE areas (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE COLLATE NOCASE
                        CHECK (length(name) BETWEEN 1 AND 32),
    description TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
INSERT INTO areas (id, name, description, created_at)
VALUES (1, 'general', 'General discussion', CAST(strftime('%s', 'now') AS INTEGER) * 1000);

-- messages is rebuilt: posts now belong to an area, have a subject and may
-- reply to another post. Ids are AUTOINCREMENT so that a deleted post's id
-- is never handed out again (last-read pointers compare ids).
ALTER TABLE messages RENAME TO messages_001;

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    area_id    INTEGER NOT NULL DEFAULT 1 REFERENCES areas (id),
    -- 0-based position within the area, oldest first, kept dense (a
    -- deleted post's followers move up), so the n-th post of an area is an
    -- index lookup and an area's size is MAX(seq)+1. Not UNIQUE: deleting
    -- renumbers in place.
    seq        INTEGER NOT NULL CHECK (seq >= 0),
    author_id  INTEGER NOT NULL REFERENCES users (id),
    subject    TEXT    NOT NULL DEFAULT '',
    -- The post this one replies to; NULL for a new thread (or once the
    -- parent is deleted).
    parent_id  INTEGER REFERENCES messages (id) ON DELETE SET NULL,
    -- The first post of the thread; NULL for that first post itself. Not a
    -- foreign key: a thread outlives the deletion of its first post.
    root_id    INTEGER,
    -- Lines joined by "\n"; line_count tells an empty list from one empty line.
    body       TEXT    NOT NULL,
    line_count INTEGER NOT NULL CHECK (line_count >= 0),
    posted_at  INTEGER NOT NULL
);

INSERT INTO messages (id, area_id, seq, author_id, subject, parent_id, root_id, body, line_count, posted_at)
SELECT id, 1, seq, author_id, '', NULL, NULL, body, line_count, posted_at
FROM messages_001 ORDER BY id;

DROP TABLE messages_001;

CREATE INDEX messages_area_seq ON messages (area_id, seq);
-- New posts for a reader: by id, skipping their own without reading rows.
CREATE INDEX messages_area_id ON messages (area_id, id, author_id);
CREATE INDEX messages_parent ON messages (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX messages_root ON messages (root_id, id) WHERE root_id IS NOT NULL;

-- The newest post each user has read in each area: posts with a larger id
-- are new to them.
CREATE TABLE last_read (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    area_id    INTEGER NOT NULL REFERENCES areas (id) ON DELETE CASCADE,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, area_id)
) WITHOUT ROWID;

-- mail is rebuilt to add a subject and AUTOINCREMENT ids (a deleted mail's
-- id is never reused). Read mail stays until its recipient deletes it.
ALTER TABLE mail RENAME TO mail_001;

CREATE TABLE mail (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    to_id      INTEGER NOT NULL REFERENCES users (id),
    from_id    INTEGER NOT NULL REFERENCES users (id),
    subject    TEXT    NOT NULL DEFAULT '',
    body       TEXT    NOT NULL,
    line_count INTEGER NOT NULL CHECK (line_count >= 0),
    sent_at    INTEGER NOT NULL,
    read_at    INTEGER -- NULL while unread
);

INSERT INTO mail (id, to_id, from_id, subject, body, line_count, sent_at, read_at)
SELECT id, to_id, from_id, '', body, line_count, sent_at, read_at
FROM mail_001 ORDER BY id;

DROP TABLE mail_001;

-- A recipient's mailbox, and their unread mail, by id.
CREATE INDEX mail_box ON mail (to_id, id);
CREATE INDEX mail_unread ON mail (to_id, id) WHERE read_at IS NULL;
