-- A caller logs in (registering the first time) and is asked, again and
-- again, how long they have left.
require 'ui'
require 'db'
require 'users'

function m2bbs(conn, req)
    req = ui.ask(conn, req, 'name?')
    local name = req.data.msg
    if db.user_exists(name) then
        assert(db.auth_user(name, 'secret pw'))
    else
        assert(db.register_user(name, 'secret pw'))
    end
    while true do
        req = ui.ask(conn, req, 'left ' .. tostring(users.time_left()))
    end
end
