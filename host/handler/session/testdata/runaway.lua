-- Misbehaving doors, picked by the caller's answer.
require 'ui'

local function recurse(n) return recurse(n + 1) + 1 end

function m2bbs(conn, req)
    while true do
        req = ui.ask(conn, req, 'which?')
        local choice = req.data.msg
        if choice == 'loop' then
            while true do end
        elseif choice == 'recurse' then
            recurse(1)
        elseif choice == 'bigstring' then
            -- Grows by a megabyte a step: a string that doubled at every
            -- step would take gigabytes before a late timer stopped it.
            local s, chunk = '', string.rep('x', 1024 * 1024)
            while true do s = s .. chunk end
        elseif choice == 'pcall-loop' then
            pcall(function() while true do end end)
        end
        ui.display(conn, req, 'ok ' .. choice)
    end
end
