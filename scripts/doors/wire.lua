-- wire.lua: Teleconference, a live chat room for every caller online (the
-- file sorts after the other doors, so their menu numbers stay).
--
-- What one caller says reaches everyone else in the room at once, on any
-- worker and any phone line, while they sit at their own prompt: the
-- room is the shared module's channel 'chat', and shared.ask, unlike
-- ui.ask, also returns when others speak, so the door asks again with
-- what they said as the prompt's text.
--
-- Shared state: table 'chat' holds 'said' (lines said, ever); 'chat.log'
-- the last LOG_LINES lines, under 'said' modulo LOG_LINES; 'chat.here' a
-- count per caller name of their sessions in the room (names of callers
-- who hung up in the room linger there, so /W keeps only those online).

local ui = require 'ui'
local door = require 'door'
local shared = require 'shared'

local CHANNEL = 'chat'
local LOG_LINES = 10
-- MAX_LINE bounds what a caller says in one line, in bytes, so that with
-- their name it fits in one event (shared's 1,024 bytes).
local MAX_LINE = 400

-- say publishes line to the room and keeps it in the log; it returns nil
-- and a message when the caller talks too fast.
local function say(conn, line)
    local n, err = shared.publish(conn, CHANNEL, line)
    if not n then
        return nil, err
    end
    local said = shared.incr('chat', 'said')
    if said then
        shared.set('chat.log', tostring(said % LOG_LINES), line)
    end
    return true
end

-- recent returns the last lines said, oldest first.
local function recent()
    local said = shared.get('chat', 'said') or 0
    local lines = {}
    for i = math.max(1, said - LOG_LINES + 1), said do
        local line = shared.get('chat.log', tostring(i % LOG_LINES))
        if line then
            lines[#lines + 1] = ui.plain(line)
        end
    end
    return lines
end

-- here lists the names in the room who are online.
local function here()
    local online = {}
    for _, name in ipairs(door.who()) do
        online[name] = true
    end
    local names = {}
    for _, name in ipairs(shared.keys('chat.here')) do
        if online[name] and (shared.get('chat.here', name) or 0) > 0 then
            names[#names + 1] = name
        end
    end
    return names
end

-- talk is the caller's stay in the room, until they type /Q.
local function talk(conn, req, me)
    ui.screen(conn, req, 'doors/wire_intro')
    local last = recent()
    if #last > 0 then
        ui.display(conn, req, 'Lately:\n' .. table.concat(last, '\n'))
    end
    ui.display(conn, req, 'In the room: ' .. table.concat(here(), ', '))
    say(conn, '* ' .. me .. ' comes in.')
    -- Each prompt carries what there is to show (what others said,
    -- an answer to /W): one message per turn, however many spoke.
    local show = ''
    while true do
        local answer, events = shared.ask(conn, req, show, 'Chat> ')
        show = ''
        if events then
            local lines = {}
            for _, event in ipairs(events) do
                lines[#lines + 1] = ui.plain(event.text)
            end
            show = table.concat(lines, '\n')
        else
            req = answer
            local line = ui.trim(req.data.msg)
            local command = line:upper()
            if command == '/Q' then
                break
            elseif command == '/W' then
                show = 'In the room: ' .. table.concat(here(), ', ')
            elseif #line > MAX_LINE then
                show = ('(that line is too long for the room: %d bytes at most)'):format(MAX_LINE)
            elseif line ~= '' then
                local said, why = say(conn, me .. ': ' .. line)
                if not said then
                    show = '(' .. why .. ')'
                end
            end
        end
    end
    return req
end

return {
    name = 'Teleconference',
    description = 'Talk live with everyone in the room.',
    run = function(conn, req, game)
        local me = game.user
        local ok, err = shared.subscribe(conn, CHANNEL)
        if not ok then
            ui.display(conn, req, 'The room is closed just now: ' .. err)
            return req
        end
        shared.incr('chat.here', me, 1)
        -- However the stay ends, even by an error, the caller leaves the
        -- room: no events for them at the Doors menu, not listed by /W.
        local stayed, after = pcall(talk, conn, req, me)
        say(conn, '* ' .. me .. ' leaves.')
        shared.incr('chat.here', me, -1)
        shared.unsubscribe(conn, CHANNEL)
        if not stayed then
            error(after, 0)
        end
        return after
    end,
}
