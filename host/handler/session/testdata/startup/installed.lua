-- A main script that starts the way the 2010 board's does: it connects
-- with Mongrel2's Lua library and runs an engine with its (local) entry.
require 'ui'
local engine = require 'engine'

local function m2bbs(conn)
    local req = coroutine.yield()
    req = ui.ask(conn, req, 'name?')
    ui.display(conn, req, 'hi ' .. req.data.msg)
end

do
    local config = {}
    setfenv(assert(loadfile('settings.lua')), config)()
    local ctx = require('mongrel2').new(config.io_threads)
    local conn = ctx:new_connection(config.sender_id, config.sub_addr, config.pub_addr)
    engine.run(conn, m2bbs)
end
