-- The entry function is local, so the host cannot find it.
local function m2bbs(conn, req)
    ui.exit(conn, req, 'bye')
end

local function helper()
    return m2bbs
end
require 'ui'
