-- The shape of a board visit, for benchmarks: three login prompts, then a
-- main menu answered in a loop, each waiting in ui.ask two calls deep as
-- the shipped board's menu does. It uses no database and no screens.
require 'ui'

local MENU = [[---(((MAIN MENU)))---
1. Leave a message.
2. Read messages left.
3. Send to someone else.
4. Read messages to you.
Q. Quit the BBS.]]

local function menu_run(conn, req, user)
    while true do
        req = ui.ask(conn, req, MENU)
        if req.data.msg:upper() == 'Q' then return req end
    end
end

function m2bbs(conn, req)
    req = ui.ask(conn, req, "What's your name?")
    local user = req.data.msg
    req = ui.ask(conn, req, "What's your password?")
    local password = req.data.msg
    req = ui.ask(conn, req, 'MOTD: Do you want to continue? (Y/n)')
    req = menu_run(conn, req, user)
    ui.display(conn, req, 'Bye, ' .. user .. (password and '.' or ''))
end
