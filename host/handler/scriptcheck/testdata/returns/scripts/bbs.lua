-- The Mongrel2 example's style: the chunk returns the entry function.
local function main(conn)
    local req = coroutine.yield()
    ui.exit(conn, req, 'bye')
end
require 'ui'
return main
