-- 008: which callers online are browsers (the WebSocket page, behind
-- Mongrel2): a host sending to a caller on another line must frame the
-- message as a WebSocket frame for them.
ALTER TABLE line_callers ADD COLUMN browser INTEGER NOT NULL DEFAULT 0;
