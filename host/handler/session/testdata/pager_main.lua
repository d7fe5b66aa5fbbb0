-- pager_main.lua: the caller names one of the texts below by its number
-- and is shown it through the shipped pager (pager.show), then asked
-- again.
local ui = require 'ui'
local pager = require 'pager'

local texts = {
    '',
    'one line',
    'a trailing newline\n',
    '\n\n',
    'a CRLF\r\nline',
    ('a line of fifty\n'):rep(49) .. 'the last line',
}

function m2bbs(conn, req)
    while true do
        req = ui.ask(conn, req, 'Which text?', '> ')
        local text = texts[tonumber(req.data.msg)]
        if text then req = pager.show(conn, req, text) end
    end
end
