-- 011: RESERVED for branch access15 of issue 15, which owns this number. This
-- placeholder only keeps the numbers without gaps on branch shared15
-- (013_shared.sql); delete it when access15's own 011 migration is merged.
SELECT 1;
