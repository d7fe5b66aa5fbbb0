-- 021: an append to a journal (a row of journal_entries) is checked by this
-- trigger instead of by the INSERT itself: a row whose first is not the
-- journal's count (the next of its last batch, or journals.count if it has
-- none; no journals row: no count) is skipped, and the INSERT reports no
-- row written, as the INSERT ... SELECT of 010 did. The check is the same;
-- what changes is its cost: an INSERT whose SELECT reads journal_entries
-- makes SQLite copy the row through a temporary table first, on every
-- journal write. Hosts of earlier versions, which still check in their
-- INSERT, are checked twice, with the same answer.
CREATE TRIGGER journal_append_follows BEFORE INSERT ON journal_entries
WHEN (SELECT max(j.count, coalesce((SELECT e.next FROM journal_entries e
                                    WHERE e.conn_id = NEW.conn_id ORDER BY e.first DESC LIMIT 1), 0))
      FROM journals j WHERE j.conn_id = NEW.conn_id) IS NOT NEW.first
BEGIN
    SELECT RAISE(IGNORE);
END;
