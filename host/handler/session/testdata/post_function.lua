-- The shipped board's helpers (new_user, MAINMENU) with the m2bbs function
-- exactly as Zed Shaw's 2010 post printed it.
require 'bbs'

local function m2bbs(conn, req)
    req = ui.prompt(conn, req, 'welcome')
    local user = req.data.msg
    req = ui.prompt(conn, req, 'password')
    local password = req.data.msg
    if not db.user_exists(user) then
        new_user(conn, req, user, password)
    elseif not db.auth_user(user, password) then
        ui.exit(conn, req, 'bad_pass')
        return
    end
    req = ui.prompt(conn, req, 'motd')
    if req.data.msg == "n" then
        ui.exit(conn, req, 'bye')
        return
    else
        repeat
            req = ui.prompt(conn, req, 'menu')
            local selection = MAINMENU[req.data.msg]
            print("message:", req.data.msg)
            if selection then
                selection(conn, req, user)
            else
                ui.screen(conn, req, 'menu_error')
            end
        until req.data.msg == "Q"
    end
end

return m2bbs
