-- The shipped board plus a broken door, for the end-to-end tests: menu
-- choice X raises a Lua error inside that caller's session.
require 'bbs'

MAINMENU['X'] = function(conn, req, user)
    local door = nil
    return door.open(user) -- line 7: attempt to index a nil value
end

return m2bbs
