-- Built-ins whose cost one call could make unbounded, and a caller who
-- tampers with the string library, picked by the caller's answer.
require 'ui'

local attacks = {
    unpack = function() return select('#', unpack({}, 1, 1e7)) end,
    byte = function() return select('#', string.byte(string.rep('x', 1e6), 1, -1)) end,
    char = function()
        local t = {}
        for i = 1, 3e5 do t[i] = 65 end
        return #string.char(unpack(t))
    end,
    tamper = function()
        pcall(function() getmetatable('').__index = { rep = function() return 'pwned' end } end)
        pcall(function() string.rep = function() return 'pwned' end end)
        pcall(function() rawset(string, 'rep', function() return 'pwned' end) end)
        pcall(function() debug.setmetatable('', { __index = { rep = function() return 'pwned' end } }) end)
        return 'tried'
    end,
}

function m2bbs(conn, req)
    while true do
        req = ui.ask(conn, req, 'which?')
        local choice = req.data.msg
        local attack = attacks[choice]
        if attack then
            ui.display(conn, req, choice .. ' ' .. tostring(attack()))
        else
            ui.display(conn, req, 'ok ' .. ('ab'):rep(2) .. ' ' .. string.rep('c', 2))
        end
    end
end
