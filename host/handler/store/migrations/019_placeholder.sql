-- 019: a placeholder holding the number of the file areas' migration
-- (scope files18), so that 020 applies on a branch without it. Delete this
-- file when that migration is merged.
SELECT 1;
