-- remote.lua: callers of other boards, this board being their door
-- server.
--
-- A board listed in the settings' rlogin_boards sends its callers here
-- over RLogin (m2bbs run -rlogin-port). The host names each one
-- "board:user" and tells bbs.lua through db.remote_caller(conn); their
-- door data is kept under that name. They go straight into the door the
-- settings name for their board (or the Doors menu), and when they leave
-- it the call ends and their own board takes them back.
--
--     local caller = db.remote_caller(conn)
--     if caller then return require('remote').serve(conn, req, caller) end

local ui = require 'ui'
local doors = require 'doors'

local remote = {}

-- find returns the installed door whose file is name, or nil.
local function find(name)
    for _, entry in ipairs(doors.installed()) do
        if entry.file == name then
            return entry
        end
    end
end

-- remote.serve(conn, req, caller) plays caller.entry (a door's file name,
-- or 'doors' for the Doors menu) and hangs up.
function remote.serve(conn, req, caller)
    ui.display(conn, req, ('Welcome, %s of %s.'):format(ui.plain(caller.user), ui.plain(caller.board)))
    if caller.entry == nil or caller.entry == 'doors' then
        req = doors.menu(conn, req)
    else
        local entry = find(caller.entry)
        if entry then
            req = doors.run(conn, req, entry)
        else
            print(('remote caller %s: door %s is not installed'):format(caller.name, caller.entry))
            ui.display(conn, req, 'That door is closed just now. Sorry!')
        end
    end
    conn:reply_json(req, {type = 'exit', msg = ('Back to %s. Goodbye!'):format(ui.plain(caller.board))})
    return req
end

return remote
