-- 006: the calls log is read per user (an account's call count and last
-- call), which scanned the whole table on every look-up.
CREATE INDEX calls_by_user ON calls (user_id, at);
