-- 010: a journal's entries in one row per batch written, so that an
-- append stores the bytes it adds instead of rewriting the session's whole
-- journal (007 kept them all in journals.entries: each prompt cost more
-- than the one before). journals keeps one header row per journal: its
-- count (how many entries were ever written to it, which only grows) and
-- when it was last written. journal_entries holds the entries, each batch
-- a uvarint length and its bytes per entry, keyed by the journal's count
-- just before the batch was written, so a journal reads back in key order.
-- A compaction (checkpoint) deletes the old batches. Deleting a journal
-- deletes its batches (foreign key).
CREATE TABLE journal_entries (
    conn_id TEXT    NOT NULL REFERENCES journals (conn_id) ON DELETE CASCADE,
    first   INTEGER NOT NULL CHECK (first >= 0),
    entries BLOB    NOT NULL,
    PRIMARY KEY (conn_id, first)
) WITHOUT ROWID;

-- Journals written in 007's form become one batch each. Its key is 0, not
-- the count its first entry was written at (which 007 did not keep): only
-- the order of a journal's keys is ever used.
INSERT INTO journal_entries (conn_id, first, entries)
    SELECT conn_id, 0, entries FROM journals WHERE length(entries) > 0;
ALTER TABLE journals DROP COLUMN entries;
