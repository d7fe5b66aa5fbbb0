-- charset.lua: the character set of a caller whose terminal type did not
-- tell it (a VT100, say: the board knows ANSI, SyncTERM and NetRunner as
-- CP437, xterm and its kin as UTF-8, dumb as ASCII; see docs/clients.md).
--
-- Such a caller is asked once, after logging in, whether a box shows as
-- a box: first in UTF-8, then in CP437; neither means plain ASCII. The
-- answer is kept in the shared table 'encodings' under their name, so a
-- returning caller is not asked again. Callers whose client names no
-- terminal type (the classic client, a bare socket) are not asked: they
-- get UTF-8.

local ui = require 'ui'
local shared = require 'shared'

local charset = {}

-- TABLE is the shared table that keeps each caller's answer.
charset.TABLE = 'encodings'

-- settle makes the caller's edge send the board's characters in the
-- caller's character set, asking if it must. It returns the new request.
function charset.settle(conn, req, user)
    local t = conn:terminal()
    if t.encoding_known or t.type == '' then return req end
    local key = user:lower()
    local kept = shared.get(charset.TABLE, key)
    if kept == 'utf-8' or kept == 'cp437' or kept == 'ascii' then
        conn:set_encoding(kept)
        return req
    end
    local chosen = 'ascii'
    for _, enc in ipairs({'utf-8', 'cp437'}) do
        conn:set_encoding(enc) -- this question is sent in enc
        req = ui.ask(conn, req, 'Does this look like a box: ┌─┐ ? (Y/n)')
        if ui.trim(req.data.msg):lower() ~= 'n' then
            chosen = enc
            break
        end
    end
    conn:set_encoding(chosen)
    shared.set(charset.TABLE, key, chosen) -- a full table: asked next call
    return req
end

return charset
