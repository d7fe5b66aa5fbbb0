-- 013: RESERVED for branch shared15 of issue 15, which owns this number. This
-- placeholder only keeps the numbers without gaps on branch events15
-- (014_events.sql); delete it when shared15's own 013 migration is merged.
SELECT 1;
