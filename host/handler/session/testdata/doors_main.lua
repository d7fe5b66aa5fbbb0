-- A board whose only menu is the Doors menu, for the door tests: the
-- caller gives a name (registered or logged in with password 'pw'), plays
-- doors, and is back at the board when they leave the menu.
require 'strict'
require 'ui'
require 'db'

function m2bbs(conn, req)
    req = ui.ask(conn, req, 'name?')
    local user = req.data.msg
    if user ~= 'guest' then
        if db.user_exists(user) then
            assert(db.auth_user(user, 'pw'))
        else
            assert(db.register_user(user, 'pw'))
        end
    end
    req = require('doors').menu(conn, req)
    ui.ask(conn, req, 'back at the board', '> ')
end
