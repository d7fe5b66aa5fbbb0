-- pager.lua: long text shown a screenful at a time.
--
-- A screenful is the caller's window height (conn:terminal().height: the
-- size telnet's NAWS, the browser's fit or SSH gave, 24 when the client
-- did not say) less one row, for the "-- more --" prompt that follows
-- it, counted in rows of the window's width (a long line wraps): Enter
-- shows the next screenful, Q stops.

local ui = require 'ui'

local pager = {}

-- MORE is the prompt between screenfuls.
pager.MORE = '-- more -- (Enter, Q to stop) '

-- lines_of splits text at its newlines. It finds them as plain text: a
-- pattern (gmatch '(.-)\n') cost the message reader a fifth of its CPU.
local function lines_of(text)
    local lines, from = {}, 1
    while true do
        local nl = text:find('\n', from, true)
        if not nl then
            lines[#lines + 1] = text:sub(from)
            return lines
        end
        lines[#lines + 1] = text:sub(from, nl - 1)
        from = nl + 1
    end
end

-- rows_of is how many rows line takes on a terminal width columns wide:
-- its characters (UTF-8 continuation bytes and colour codes not counted)
-- over the width, rounded up, and at least one. A line no longer than
-- the width, in bytes, takes one row whatever it holds.
local function rows_of(line, width)
    if #line <= width then return 1 end
    local shown = line:gsub('\27%[[%d;]*m', ''):gsub('[\128-\191]', '')
    return math.max(1, math.ceil(#shown / width))
end

-- page shows all but the last screenful of text, each followed by the
-- "-- more --" prompt. A screenful is counted in rows: a line wider than
-- the caller's window wraps onto several. It returns the new request, the
-- last screenful's text, and whether the caller typed Q (then the request
-- is their Q).
local function page(conn, req, text)
    local term = conn:terminal()
    local per, width = math.max(term.height - 1, 1), math.max(term.width, 1)
    local lines = lines_of(text)
    local first = 1
    while true do
        local last, rows = first - 1, 0
        while last < #lines do
            local next_rows = rows_of(lines[last + 1], width)
            if rows + next_rows > per then break end
            last = last + 1
            rows = rows + next_rows
        end
        if last == #lines then break end
        last = math.max(last, first) -- one line taller than the window still goes
        req = ui.ask(conn, req, table.concat(lines, '\n', first, last), pager.MORE)
        if ui.trim(req.data.msg):upper() == 'Q' then return req, nil, true end
        first = last + 1
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
