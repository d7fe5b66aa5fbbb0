function m2bbs(conn, req)
    ui.exit(conn, req, 'bye')
end
require 'ui'
