-- The shipped board plus a broken door, for the end-to-end tests: menu
-- choice X raises a Lua error inside that caller's session.
require 'bbs'

table.insert(MAIN_MENU.items, {key = 'X', hidden = true, action = function(conn, req, user)
    local door = nil
    return door.open(user) -- line 7: attempt to index a nil value
end})

return m2bbs
