-- Waits for the caller 100 calls deep, each call holding locals, then
-- shows what every level kept: a coroutine whose value stack grew past
-- its first slots while waiting.
require 'ui'

local function down(conn, req, n)
    local a, b, c, d = n, n * 2, tostring(n), {n}
    if n == 0 then
        req = ui.ask(conn, req, 'deep enough?')
        return req.data.msg
    end
    local got = down(conn, req, n - 1)
    assert(a == n and b == n * 2 and c == tostring(n) and d[1] == n, 'level ' .. n .. ' lost its locals')
    return got
end

function m2bbs(conn, req)
    ui.display(conn, req, 'got ' .. down(conn, req, 100))
end
