-- Screens named here that are not in screens/.
function m2bbs(conn, req)
    req = ui.prompt(conn, req, 'menu')
    if req.data.msg == 'q' then
        ui.exit(conn, req, 'by')
    end
    local text, err = ui.text('doors/lobby')
    ui.screen(conn, req, 'bad name!')
    ui.screen(conn, req, req.data.msg == '' and 'menu' or 'menu_eror')
end
require 'ui'
