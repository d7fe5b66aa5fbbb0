require 'ui'

function m2bbs(conn, req)
    req = ui.ask(conn, req, 'script-side name?', ': ')
    ui.exit(conn, req, 'bye ' .. req.data.msg)
end
