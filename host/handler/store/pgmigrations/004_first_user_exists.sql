-- 004: the first-user trigger counted every account on each registration,
-- a scan of users whose cost grew with every caller (SQLite's 022 has the
-- figures). It now asks whether any other account exists, which stops at
-- the first one found; what it decides is the same.
CREATE OR REPLACE FUNCTION first_user_is_sysop() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.name <> '~ftn' THEN
        LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE;
        IF NOT EXISTS (SELECT 1 FROM users WHERE name <> '~ftn' AND id <> NEW.id) THEN
            UPDATE users SET security = 255, level = 'sysop', waiting = 0 WHERE id = NEW.id;
        END IF;
    END IF;
    RETURN NULL;
END $$;
