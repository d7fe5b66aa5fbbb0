-- 010: a journal's appended entries in one row per batch written, so that
-- an append stores the bytes it adds instead of rewriting the session's
-- whole journal (007 kept them all in journals.entries: each prompt cost
-- more than the one before). journals keeps, per journal, the entries it
-- was started or compacted with (as 007 did: journals of earlier versions
-- need no conversion), its count then, and when. journal_entries holds
-- the batches appended since, in order of first (the journal's count
-- before the batch), with next (its count after) and when each was
-- written: a journal's count is the next of its last batch, or
-- journals.count if it has none, and it was last written when its last
-- batch was, or journals.written. An append is one INSERT that checks that
-- count; a compaction (a new head) deletes the batches (trigger), and
-- deleting a journal deletes them too (foreign key).
CREATE TABLE journal_entries (
    conn_id TEXT    NOT NULL REFERENCES journals (conn_id) ON DELETE CASCADE,
    first   INTEGER NOT NULL CHECK (first >= 0),
    next    INTEGER NOT NULL CHECK (next > first),
    written INTEGER NOT NULL,
    entries BLOB    NOT NULL,
    PRIMARY KEY (conn_id, first)
) WITHOUT ROWID;

CREATE TRIGGER journal_compacted AFTER UPDATE OF entries ON journals
BEGIN
    DELETE FROM journal_entries WHERE conn_id = NEW.conn_id;
END;
