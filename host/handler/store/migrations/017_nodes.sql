-- 017: the node each caller online holds, per phone line (host/handler/nodes),
-- so that a host restarted on the line gives the callers it resumes the
-- nodes they had. It was kept before in a shared table of the Lua shared
-- module (named "\0m2bbs.nodes.LINE"), where it counted against the
-- module's key limit and a script could write it; those rows move here.
-- (The names begin with a NUL, where SQLite's text functions stop: they
-- are compared as blobs.)
CREATE TABLE nodes (
    line    INTEGER NOT NULL,
    node    INTEGER NOT NULL CHECK (node BETWEEN 1 AND 1000),
    conn_id TEXT    NOT NULL CHECK (length(conn_id) BETWEEN 1 AND 200),
    PRIMARY KEY (line, node)
) WITHOUT ROWID;

INSERT OR IGNORE INTO nodes (line, node, conn_id)
SELECT CAST(CAST(substr(CAST(tbl AS BLOB), 14) AS TEXT) AS INTEGER), CAST(key AS INTEGER), s
FROM shared_values
WHERE substr(CAST(tbl AS BLOB), 1, 13) = CAST(char(0) || 'm2bbs.nodes.' AS BLOB)
  AND kind = 's' AND length(s) BETWEEN 1 AND 200
  AND CAST(key AS INTEGER) BETWEEN 1 AND 1000 AND key = CAST(CAST(key AS INTEGER) AS TEXT);

DELETE FROM shared_values WHERE substr(CAST(tbl AS BLOB), 1, 13) = CAST(char(0) || 'm2bbs.nodes.' AS BLOB);
