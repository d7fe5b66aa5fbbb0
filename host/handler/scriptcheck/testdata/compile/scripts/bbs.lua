function m2bbs(conn, req)
    ui.exit(conn, req, 'bye')
end

local function stray()
    break
end
require 'ui'
