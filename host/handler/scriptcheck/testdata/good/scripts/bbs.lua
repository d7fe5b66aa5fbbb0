-- A board that uses every way of naming a screen.
require 'ui'
require 'doors.chess'

local function show(conn, req, n)
    -- computed names cannot be checked and are skipped
    ui.screen(conn, req, 'menu_' .. n)
    local name = 'not_a_screen'
    ui.screen(conn, req, name)
end

function m2bbs(conn, req)
    req = ui.prompt(conn, req, 'menu')
    local banner = ui.text('doors/banner')
    ui.screen(conn, req, req.data.msg == 'x' and 'menu' or 'bye')
    ui.display(conn, req, 'plain text, not a screen')
    ui.ask(conn, req, 'neither is this', '? ')
    show(conn, req, 1)
    ui.exit(conn, req,
        'bye')
end
