-- 015: the character set a caller chose for their terminal when its type
-- did not tell one (scripts/charset.lua asks once): 'utf-8', 'cp437' or
-- 'ascii'; '' until they chose.
ALTER TABLE users ADD COLUMN encoding TEXT NOT NULL DEFAULT ''
    CHECK (encoding IN ('', 'utf-8', 'cp437', 'ascii'));
