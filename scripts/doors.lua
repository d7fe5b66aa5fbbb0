-- doors.lua: the Doors menu.
--
-- Every scripts/doors/NAME.lua is a door game. It returns a table:
--
--     return {
--         name = 'Guess the Number',            -- shown in the menu
--         description = 'Seven tries or fewer?', -- one short line
--         run = function(conn, req, game)        -- the game itself
--             ...                                -- a plain conversation
--             return req                         -- the last request
--         end,
--     }
--
-- run is called inside the caller's own coroutine, so it talks to them with
-- ui.ask and friends like the rest of the board. game is the door's saved
-- data, door.open(NAME): game.user is the caller, game:get/game:set keep
-- their data, game:get_global/game:set_global what all callers share.
-- Strings one caller typed and another sees (names, messages kept with
-- game:set) go through ui.plain first, so they show as typed, never as
-- colour or control codes.
-- Drop a file in scripts/doors/ and it is on the menu for the next caller.
-- The door servers of the settings (door_servers: other boards, door
-- networks) follow the doors on the menu; door.server takes the caller
-- there and back.
--
--     local doors = require 'doors'
--     req = doors.menu(conn, req)   -- from the main menu; returns on Q

local ui = require 'ui'
local door = require 'door'

local doors = {}

-- doors.installed() -> the doors that load, in file-name order: a list of
-- {file = 'guess', name = ..., description = ..., run = ...}. A door that
-- fails to load is left out and the reason logged.
function doors.installed()
    local list = {}
    for _, file in ipairs(assert(door.list())) do
        local ok, game = pcall(function() return require('doors.' .. file) end)
        if ok and type(game) == 'table' and type(game.run) == 'function' then
            list[#list + 1] = {
                file = file,
                name = tostring(game.name or file),
                description = tostring(game.description or ''),
                run = game.run,
            }
        elseif ok then
            print(('door %s left out: it must return a table with a run function'):format(file))
        else
            print(('door %s left out: %s'):format(file, tostring(game)))
        end
    end
    return list
end

-- doors.run(conn, req, entry) plays one door from doors.installed() and
-- returns the last request. A door that fails is logged and the caller
-- told so; their call goes on.
function doors.run(conn, req, entry)
    local game = assert(door.open(entry.file))
    -- run is called from a Lua function, not handed to pcall itself:
    -- gopher-lua cannot resume a coroutine whose first function ends in a
    -- tail call that waits (return ui.ask(...)), and pcall runs its
    -- function as a coroutine.
    local ok, result = pcall(function()
        local last = entry.run(conn, req, game)
        return last
    end)
    if not ok then
        print(('door %s failed: %s'):format(entry.file, tostring(result)))
        ui.screen(conn, req, 'doors/crashed')
        return req
    end
    if type(result) == 'table' and result.data then
        return result
    end
    return req
end

-- menu_text lists the doors under the doors/menu screen, then the door
-- servers of the settings (door_servers), numbered on.
local function menu_text(list, servers)
    local lines = { ui.text('doors/menu') or 'DOORS' }
    for i, entry in ipairs(list) do
        lines[#lines + 1] = ('%2d. %-22s %s'):format(i, entry.name, entry.description)
    end
    for i, server in ipairs(servers) do
        lines[#lines + 1] = ('%2d. %-22s %s'):format(#list + i, server.title, 'Door server: more games elsewhere.')
    end
    lines[#lines + 1] = ' Q. Back to the main menu.'
    return table.concat(lines, '\n')
end

-- doors.menu(conn, req) shows the installed doors until the caller types
-- Q, runs the one they pick, and returns the last request.
function doors.menu(conn, req)
    if not door.user() then
        ui.screen(conn, req, 'doors/login_first')
        return req
    end
    while true do
        local list, servers = doors.installed(), door.servers()
        if #list == 0 and #servers == 0 then
            ui.screen(conn, req, 'doors/none')
            return req
        end
        req = ui.ask(conn, req, menu_text(list, servers), 'Door? ')
        local choice = ui.trim(req.data.msg):upper()
        if choice == 'Q' then
            return req
        end
        local n = tonumber(choice)
        local entry, server = list[n], n and servers[n - #list]
        if entry then
            req = doors.run(conn, req, entry)
        elseif server then
            local ok, why
            req, ok, why = door.server(conn, req, server.name)
            if not ok then
                ui.display(conn, req, ('%s: %s.'):format(server.title, why))
            end
        elseif choice ~= '' then
            ui.screen(conn, req, 'doors/bad_choice')
        end
    end
end

return doors
