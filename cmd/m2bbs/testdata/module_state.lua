-- An old-style script that keeps what callers share in a module-level
-- table, as the 2010 board could (it ran one Lua state): each caller's
-- prompt shows every note anyone added. Right with -workers 1 only.
require 'ui'

local notes = {}

function m2bbs(conn, req)
    while true do
        req = ui.ask(conn, req, 'Notes: ' .. table.concat(notes, ','))
        if req.data.msg == 'q' then
            return
        end
        notes[#notes + 1] = req.data.msg
    end
end
