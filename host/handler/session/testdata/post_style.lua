-- The post's entry convention: m2bbs(conn, req), resumed with the conn and
-- the first request.
require 'ui'

function m2bbs(conn, req)
    req = ui.ask(conn, req, 'name?')
    local name = req.data.msg
    req = ui.ask(conn, req, 'colour?')
    ui.display(conn, req, name .. ' likes ' .. req.data.msg)
end
