-- 012: RESERVED for branch replay15 of issue 15, which owns this number. This
-- placeholder only keeps the numbers without gaps on branch shared15
-- (013_shared.sql); delete it when replay15's own 012 migration is merged.
SELECT 1;
