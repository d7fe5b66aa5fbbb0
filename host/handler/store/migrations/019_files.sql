-- 019: file areas' files (host/handler/files). The areas themselves are
-- the sysop's settings (the files table of config.lua); a file names its
-- area by that name, in lower case. One row per file: its name on disk
-- in the area's folder (name_key, the name in lower case, makes names
-- unique per area in any case), description, uploader (a user name), size
-- in bytes, SHA-256 of its content in hex (unique on the board: the same
-- content is never stored twice), when it was uploaded and approved (Unix
-- milliseconds; approved_at is NULL while the upload waits for the
-- sysop's review), and how often it was downloaded.
CREATE TABLE files (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    area        TEXT    NOT NULL CHECK (length(area) BETWEEN 1 AND 32),
    name        TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    name_key    TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '' CHECK (length(description) <= 4096),
    uploader    TEXT    NOT NULL,
    size        INTEGER NOT NULL CHECK (size >= 0),
    sha256      TEXT    NOT NULL CHECK (length(sha256) = 64),
    uploaded_at INTEGER NOT NULL,
    approved_at INTEGER,
    downloads   INTEGER NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX files_by_name ON files (area, name_key);
CREATE UNIQUE INDEX files_by_hash ON files (sha256);
CREATE INDEX files_listed ON files (area, approved_at, id);
CREATE INDEX files_by_uploader ON files (uploader);

-- Each user's last scan for new files: files approved after it are new
-- to them.
CREATE TABLE file_scans (
    "user"  TEXT    PRIMARY KEY,
    scanned INTEGER NOT NULL
) WITHOUT ROWID;

-- Each user's download queue: files they picked to fetch, in order.
CREATE TABLE file_queue (
    "user"    TEXT    NOT NULL,
    file_id   INTEGER NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    queued_at INTEGER NOT NULL,
    PRIMARY KEY ("user", file_id)
) WITHOUT ROWID;

-- The board's secret key for signed file links (host/handler/files):
-- one row, made on first use, never logged.
CREATE TABLE file_link_key (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    key BLOB    NOT NULL CHECK (length(key) = 32)
);
