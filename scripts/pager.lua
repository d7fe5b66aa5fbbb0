-- pager.lua: long text shown a screenful at a time.
--
-- A screenful is the caller's window height (conn:terminal().height: the
-- size telnet's NAWS, the browser's fit or SSH gave, 24 when the client
-- did not say) less one line, for the "-- more --" prompt that follows
-- it: Enter shows the next screenful, Q stops.

local ui = require 'ui'

local pager = {}

-- MORE is the prompt between screenfuls.
pager.MORE = '-- more -- (Enter, Q to stop) '

-- lines_of splits text at its newlines.
local function lines_of(text)
    local lines = {}
    for line in (text .. '\n'):gmatch('(.-)\n') do lines[#lines + 1] = line end
    return lines
end

-- page shows all but the last screenful of text, each followed by the
-- "-- more --" prompt. It returns the new request, the last screenful's
-- text, and whether the caller typed Q (then the request is their Q).
local function page(conn, req, text)
    local per = math.max(conn:terminal().height - 1, 1)
    local lines = lines_of(text)
    local first = 1
    while #lines - first + 1 > per do
        req = ui.ask(conn, req, table.concat(lines, '\n', first, first + per - 1), pager.MORE)
        if ui.trim(req.data.msg):upper() == 'Q' then return req, nil, true end
        first = first + per
    end
    return req, table.concat(lines, '\n', first, #lines), false
end

-- pager.show shows text a screenful at a time. It returns the new request
-- and whether the caller stopped it with Q.
function pager.show(conn, req, text)
    local rest, stopped
    req, rest, stopped = page(conn, req, text)
    if not stopped then ui.display(conn, req, rest) end
    return req, stopped
end

-- pager.ask is ui.ask for a text that may be taller than the caller's
-- window: the screenfuls before the last are shown with "-- more --",
-- the last is asked with pchar. It returns the request with the answer
-- (Q if the caller stopped at a "-- more --").
function pager.ask(conn, req, text, pchar)
    local rest, stopped
    req, rest, stopped = page(conn, req, text)
    if stopped then return req end
    return ui.ask(conn, req, rest, pchar)
end

return pager
