-- The original Mongrel2 example's convention: m2bbs(conn), whose first act
-- is to wait for the first request.
require 'ui'

local function m2bbs(conn)
    local req = coroutine.yield()
    ui.display(conn, req, 'first message was ' .. req.data.msg)
    req = ui.ask(conn, req, 'name?')
    ui.exit(conn, req, 'bye')
end

return m2bbs
