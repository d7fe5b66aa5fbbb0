-- charset.lua: the character set of a caller whose terminal type did not
-- tell it (a VT100, say: the board knows ANSI, SyncTERM and NetRunner as
-- CP437, xterm and its kin as UTF-8, dumb as ASCII; see docs/clients.md).
--
-- Such a caller is asked once, after logging in, whether a box shows as
-- a box: first in UTF-8, then in CP437; neither means plain ASCII. The
-- answer is kept in their account (users.set_encoding), so a returning
-- caller is not asked again. Callers whose client names no terminal type
-- (the classic client, a bare socket) are not asked: they get UTF-8.

local ui = require 'ui'
local users = require 'users'
local shared = require 'shared'

local charset = {}

-- OLD_TABLE is the shared table where boards before the account column
-- kept answers, by lower-case name; an answer found there moves to the
-- account.
charset.OLD_TABLE = 'encodings'

local KNOWN = {['utf-8'] = true, cp437 = true, ascii = true}

-- kept returns the character set user chose on an earlier call, or nil.
local function kept(user)
    local me = users.me()
    if me and KNOWN[me.encoding] then
        return me.encoding
    end
    local old = shared.get(charset.OLD_TABLE, user:lower())
    if KNOWN[old] and users.set_encoding(old) then
        shared.set(charset.OLD_TABLE, user:lower(), nil)
        return old
    end
    return nil
end

-- settle makes the caller's edge send the board's characters in the
-- caller's character set, asking if it must. It returns the new request.
function charset.settle(conn, req, user)
    local t = conn:terminal()
    if t.encoding_known or t.type == '' then return req end
    local enc = kept(user)
    if enc then
        conn:set_encoding(enc)
        return req
    end
    local chosen = 'ascii'
    for _, try in ipairs({'utf-8', 'cp437'}) do
        conn:set_encoding(try) -- this question is sent in try
        req = ui.ask(conn, req, 'Does this look like a box: ┌─┐ ? (Y/n)')
        if ui.trim(req.data.msg):lower() ~= 'n' then
            chosen = try
            break
        end
    end
    conn:set_encoding(chosen)
    users.set_encoding(chosen)
    return req
end

return charset
