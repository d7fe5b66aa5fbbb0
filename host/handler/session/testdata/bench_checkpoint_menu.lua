-- bench_menu.lua with a checkpoint, as the shipped board's main menu has:
-- each time the menu shows, the caller's journal starts over from
-- m2bbs_resume, so a journaled benchmark's journal stays one entry long
-- plus the line being answered. It uses no database and no screens.
require 'ui'
local session = require 'session'

local MENU = [[---(((MAIN MENU)))---
1. Leave a message.
2. Read messages left.
Q. Quit the BBS.]]

local function menu_run(conn, req, user)
    while true do
        session.checkpoint(conn, req, user)
        req = ui.ask(conn, req, MENU)
        if req.data.msg:upper() == 'Q' then return req end
    end
end

function m2bbs_resume(conn, req, user)
    menu_run(conn, req, user)
end

function m2bbs(conn, req)
    req = ui.ask(conn, req, "What's your name?")
    local user = req.data.msg
    req = ui.ask(conn, req, "What's your password?")
    req = ui.ask(conn, req, 'MOTD: Do you want to continue? (Y/n)')
    req = menu_run(conn, req, user)
    ui.display(conn, req, 'Bye, ' .. user .. '.')
end
