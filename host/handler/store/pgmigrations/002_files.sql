-- 002: file areas' files, as SQLite's 019_files.sql (see there): the
-- files, each user's last scan for new files and download queue, and
-- the board's key for signed file links (bytea).
CREATE TABLE files (
    id          bigserial PRIMARY KEY,
    area        text   NOT NULL CHECK (length(area) BETWEEN 1 AND 32),
    name        text   NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    name_key    text   NOT NULL,
    description text   NOT NULL DEFAULT '' CHECK (length(description) <= 4096),
    uploader    text   NOT NULL,
    size        bigint NOT NULL CHECK (size >= 0),
    sha256      text   NOT NULL CHECK (length(sha256) = 64),
    uploaded_at bigint NOT NULL,
    approved_at bigint,
    downloads   bigint NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX files_by_name ON files (area, name_key);
CREATE UNIQUE INDEX files_by_hash ON files (sha256);
CREATE INDEX files_listed ON files (area, approved_at, id);
CREATE INDEX files_by_uploader ON files (lower(uploader));

CREATE TABLE file_scans (
    "user"  text   PRIMARY KEY,
    scanned bigint NOT NULL
);

CREATE TABLE file_queue (
    "user"    text   NOT NULL,
    file_id   bigint NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    queued_at bigint NOT NULL,
    PRIMARY KEY ("user", file_id)
);

CREATE TABLE file_link_key (
    id  integer PRIMARY KEY CHECK (id = 1),
    key bytea   NOT NULL CHECK (length(key) = 32)
);
