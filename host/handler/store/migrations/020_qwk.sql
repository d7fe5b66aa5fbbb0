-- 020: QWK offline mail: the areas each caller takes in their packets,
-- the packets built and kept until fetched, the pointers fetching one
-- moves and the mail it marks read, and a hash of each reply posted from a REP (duplicates refused).
-- Times are Unix milliseconds (UTC).

CREATE TABLE qwk_areas (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    area_id INTEGER NOT NULL REFERENCES areas (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, area_id)
) WITHOUT ROWID;

-- A packet is kept in the database, not on one host's disk, so that any
-- host can hand it out or be told it was fetched.
CREATE TABLE qwk_packets (
    id         INTEGER PRIMARY KEY, -- the order they were kept in
    token      TEXT    NOT NULL UNIQUE,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    data       BLOB    NOT NULL,
    messages   INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    fetched_at INTEGER -- NULL until fetched
);

-- The users who chose their areas: for them, no row in qwk_areas means
-- no area (their packets hold mail only), not every area.
CREATE TABLE qwk_chosen (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX qwk_packets_user ON qwk_packets (user_id, created_at);
CREATE INDEX qwk_packets_age ON qwk_packets (created_at);

-- Where each area's last-read pointer goes when the packet is fetched.
CREATE TABLE qwk_packet_pointers (
    token      TEXT    NOT NULL REFERENCES qwk_packets (token) ON DELETE CASCADE,
    area_id    INTEGER NOT NULL REFERENCES areas (id) ON DELETE CASCADE,
    message_id INTEGER NOT NULL,
    PRIMARY KEY (token, area_id)
) WITHOUT ROWID;

-- The unread mail a packet holds: fetching it marks them read. Not a
-- foreign key: the recipient may delete a mail meanwhile.
CREATE TABLE qwk_packet_mail (
    token   TEXT    NOT NULL REFERENCES qwk_packets (token) ON DELETE CASCADE,
    mail_id INTEGER NOT NULL,
    PRIMARY KEY (token, mail_id)
) WITHOUT ROWID;

-- SHA-256 of each reply a user posted from a REP: the same reply
-- uploaded again is refused.
CREATE TABLE qwk_posted (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash      BLOB    NOT NULL,
    posted_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, hash)
) WITHOUT ROWID;
CREATE INDEX qwk_posted_age ON qwk_posted (user_id, posted_at);
