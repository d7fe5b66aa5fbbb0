-- 022: the first-user triggers of 016 counted every account on each
-- registration ((SELECT count(*) FROM users ...) = 1), a scan of users
-- whose cost grew with every caller: with 30,000 accounts the INSERT was
-- 38% of the host's CPU while callers registered (make bench's scale
-- step), and registrations slowed from 579/s to about 200/s. They now ask
-- whether any other account exists, which stops at the first one found.
-- What they decide is the same: the first person to register (the FTN
-- account aside) is the sysop and waits for no one.
DROP TRIGGER first_user_is_sysop;
CREATE TRIGGER first_user_is_sysop AFTER INSERT ON users
WHEN NEW.name <> '~ftn' AND NOT EXISTS (SELECT 1 FROM users WHERE name <> '~ftn' AND id <> NEW.id)
BEGIN
    UPDATE users SET level = 'sysop' WHERE id = NEW.id;
END;
DROP TRIGGER first_user_approved;
CREATE TRIGGER first_user_approved AFTER INSERT ON users
WHEN NEW.name <> '~ftn' AND NOT EXISTS (SELECT 1 FROM users WHERE name <> '~ftn' AND id <> NEW.id)
BEGIN
    UPDATE users SET security = 255, level = 'sysop', waiting = 0 WHERE id = NEW.id;
END;
