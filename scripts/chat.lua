-- chat.lua: live chat rooms (teleconference) for every caller online.
--
--     local chat = require 'chat'
--     req = chat.enter(conn, req, user [, room])   -- from a menu; returns on /quit
--
-- What a caller says reaches everyone else in their room at once, on any
-- worker and any phone line, while they sit at their own prompt: each
-- room is a channel of the shared module ('chat.room.NAME'), and
-- shared.ask, unlike ui.ask, also returns when others speak, so the room
-- asks again with what they said as the prompt's text (the telnet, SSH
-- and browser gateways write it above the line the caller is typing, and
-- keep that line).
--
-- Shared state: table 'chat.where' holds, for each caller in a room (key:
-- their name in lower case), 'ROOM Name'. It is held (shared.hold) for
-- the length of the call, so the host clears it when a caller hangs up
-- in a room; /who and /rooms list only callers online besides. A private
-- line goes to the channel 'chat.to.NAME' that each caller in the rooms
-- listens on. A caller who hangs up in a room is announced by the host
-- (shared.subscribe's farewell).
--
-- Limits: a line is at most MAX_LINE bytes; a caller publishes at most 5
-- lines a second in bursts of 10 (the shared module's limit, for all
-- their connections together); room names are 1-16 of a-z 0-9 and -; at
-- most MAX_ROOMS rooms have callers in them at once.

local ui = require 'ui'
local door = require 'door'
local shared = require 'shared'

local chat = {}

-- DEFAULT_ROOM is where a caller lands; it is always listed.
chat.DEFAULT_ROOM = 'lobby'
-- MAX_LINE bounds what a caller says in one line, in bytes, so that with
-- their name it fits in one event (shared's 1,024 bytes).
chat.MAX_LINE = 400
-- MAX_ROOMS bounds the rooms with callers in them.
chat.MAX_ROOMS = 16
-- MAX_ROOM_NAME bounds a room's name, in bytes.
chat.MAX_ROOM_NAME = 16
-- LIST_EVERY is how many seconds a caller waits between two lists (/who,
-- /rooms), which read every seat: about 2.7 ms for 50 callers in the rooms
-- (BenchmarkChatWho), some 50 ms for 1,000.
chat.LIST_EVERY = 1

local WHERE = 'chat.where'
-- LOG_LINES is how many of the default room's last lines are kept, and
-- shown to who comes in.
local LOG_LINES = 10

local HELP = table.concat({
    'Type to talk to the room. Commands:',
    '  /who              who is in this room',
    '  /rooms            the rooms and who is in each',
    '  /join ROOM        go to another room (a new name opens one)',
    '  /me ACTION        say what you do: /me waves',
    '  /msg NAME TEXT    a private line: only NAME sees it',
    '  /quit             leave the chat',
}, '\n')

-- room_name returns s as a room's name (lower case), or nil and why not.
function chat.room_name(s)
    local name = ui.trim(s or ''):lower()
    if name == '' then
        return nil, 'which room? /join ROOM'
    end
    if #name > chat.MAX_ROOM_NAME or not name:match('^[a-z0-9][a-z0-9%-]*$') then
        return nil, ('a room name is 1-%d letters, digits or -'):format(chat.MAX_ROOM_NAME)
    end
    return name
end

local function channel(room) return 'chat.room.' .. room end
local function inbox(name) return 'chat.to.' .. name:lower() end

-- where returns the room and name each caller in the chat is in, as a
-- map from their lower-case name to {room =, name =}, callers online
-- only.
local function where()
    local online = {}
    for _, name in ipairs(door.who()) do
        online[name:lower()] = true
    end
    local seats = {}
    for _, key in ipairs(shared.keys(WHERE)) do
        local v = shared.get(WHERE, key)
        local room, name = tostring(v or ''):match('^(%S+) (.+)$')
        if room and online[key] then
            seats[key] = {room = room, name = name}
        end
    end
    return seats
end

-- rooms returns the rooms with callers in them (the default one always)
-- as a sorted list of {name =, members = {names...}}.
function chat.rooms()
    local by = {[chat.DEFAULT_ROOM] = {}}
    for _, seat in pairs(where()) do
        by[seat.room] = by[seat.room] or {}
        table.insert(by[seat.room], seat.name)
    end
    local list = {}
    for name, members in pairs(by) do
        table.sort(members)
        list[#list + 1] = {name = name, members = members}
    end
    table.sort(list, function(a, b) return a.name < b.name end)
    return list
end

-- who returns the names in room, sorted.
function chat.who(room)
    for _, r in ipairs(chat.rooms()) do
        if r.name == room then return r.members end
    end
    return {}
end

local function who_line(room)
    return ('In %s: %s'):format(room, ui.plain(table.concat(chat.who(room), ', ')))
end

local function rooms_text()
    local lines = {'Rooms:'}
    for _, r in ipairs(chat.rooms()) do
        lines[#lines + 1] = ('  %s (%d): %s'):format(r.name, #r.members, ui.plain(table.concat(r.members, ', ')))
    end
    return table.concat(lines, '\n')
end

-- publish says text in the caller's room; nil and why when it cannot.
local function publish(conn, room, text)
    local n, err = shared.publish(conn, channel(room), text)
    if not n then return nil, err end
    if room == chat.DEFAULT_ROOM then
        local said = shared.incr('chat', 'said')
        if said then
            shared.set('chat.log', tostring(said % LOG_LINES), text)
        end
    end
    return true
end

-- lately returns what was said last in room, oldest first, after a
-- 'Lately:' line, or '' (only the default room keeps its last lines: a
-- room's log would outlive the room, and rooms come and go).
local function lately(room)
    if room ~= chat.DEFAULT_ROOM then return '' end
    local said = shared.get('chat', 'said') or 0
    local lines = {}
    for i = math.max(1, said - LOG_LINES + 1), said do
        local line = shared.get('chat.log', tostring(i % LOG_LINES))
        if line then lines[#lines + 1] = ui.plain(line) end
    end
    if #lines == 0 then return '' end
    return 'Lately:\n' .. table.concat(lines, '\n') .. '\n'
end

-- sit puts the caller in room: listening, seated, announced. It returns
-- nil and why when the room cannot take them.
local function sit(conn, me, room)
    local open = false
    local count = 0
    for _, r in ipairs(chat.rooms()) do
        if #r.members > 0 then count = count + 1 end
        open = open or (r.name == room and #r.members > 0)
    end
    if not open and room ~= chat.DEFAULT_ROOM and count >= chat.MAX_ROOMS then
        return nil, ('%d rooms are open already: join one of them (/rooms)'):format(chat.MAX_ROOMS)
    end
    local ok, err = shared.subscribe(conn, channel(room), '* ' .. me .. ' hangs up.')
    if not ok then return nil, err end
    ok, err = shared.hold(conn, WHERE, me:lower(), room .. ' ' .. me)
    if not ok then
        shared.unsubscribe(conn, channel(room))
        return nil, err
    end
    publish(conn, room, '* ' .. me .. ' comes in.')
    return true
end

-- stand takes the caller out of room, saying notice there.
local function stand(conn, me, room, notice)
    publish(conn, room, notice)
    shared.unsubscribe(conn, channel(room))
end

-- command runs one of the caller's /commands and returns what to show
-- them and the room they are in after it (nil: they leave the chat).
local function command(conn, me, room, line, state)
    local verb, rest = line:match('^/(%S*)%s*(.-)$')
    verb = verb:lower()
    local list = verb == 'who' or verb == 'w' or verb == 'rooms'
    if list then
        local now = door.now()
        if state.listed and now - state.listed < chat.LIST_EVERY then
            return '(one /who or /rooms a second: wait a moment)', room
        end
        state.listed = now
    end
    if verb == 'quit' or verb == 'q' then
        return nil, nil
    elseif verb == 'who' or verb == 'w' then
        return who_line(room), room
    elseif verb == 'rooms' then
        return rooms_text(), room
    elseif verb == 'help' or verb == '?' then
        return HELP, room
    elseif verb == 'me' then
        if rest == '' then return '(/me ACTION: say what you do)', room end
        local action = '* ' .. me .. ' ' .. rest
        local ok, why = publish(conn, room, action)
        return ok and ui.plain(action) or '(' .. why .. ')', room
    elseif verb == 'msg' then
        local to, text = rest:match('^(%S+)%s+(.+)$')
        if not to then return '(/msg NAME TEXT: a line only NAME sees)', room end
        local seat = where()[to:lower()]
        if not seat then return ('(nobody called %s is in the chat)'):format(ui.plain(to)), room end
        local n, why = shared.publish(conn, inbox(seat.name), ('*%s* %s'):format(me, text))
        if not n then return '(' .. why .. ')', room end
        return ('(to %s) %s'):format(ui.plain(seat.name), ui.plain(text)), room
    elseif verb == 'join' then
        local next, why = chat.room_name(rest)
        if not next then return '(' .. why .. ')', room end
        if next == room then return ('(you are in %s)'):format(room), room end
        local before = lately(next)
        local ok, err = sit(conn, me, next)
        if not ok then return '(' .. err .. ')', room end
        stand(conn, me, room, ('* %s leaves for %s.'):format(me, next))
        return before .. 'You are in ' .. next .. '.\n' .. who_line(next), next
    end
    return ('(no such command: /%s; /help lists them)'):format(ui.plain(verb)), room
end

-- talk is the caller's stay in the chat, until /quit; it returns the
-- last request and the room they were in.
local function talk(conn, req, me, state)
    local show = state.lately .. 'You are in ' .. state.room .. '. /help lists the commands.\n' .. who_line(state.room)
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
            local line = ui.trim(req.data.msg or '')
            if #line > chat.MAX_LINE then
                show = ('(that line is too long for the room: %d bytes at most)'):format(chat.MAX_LINE)
            elseif line:sub(1, 1) == '/' then
                local room
                show, room = command(conn, me, state.room, line, state)
                if not room then return req end
                state.room = room
            elseif line ~= '' then
                local ok, why = publish(conn, state.room, me .. ': ' .. line)
                if not ok then show = '(' .. why .. ')' end
            end
        end
    end
end

-- chat.enter(conn, req, user [, room]) is the caller's visit to the chat
-- rooms, in room (default chat.DEFAULT_ROOM) first; it returns the last
-- request when they /quit.
function chat.enter(conn, req, user, room)
    local me = user or door.user()
    if not me then
        ui.display(conn, req, 'Log in first to chat.')
        return req
    end
    room = chat.room_name(room or chat.DEFAULT_ROOM) or chat.DEFAULT_ROOM
    ui.screen(conn, req, 'doors/wire_intro')
    local state = {room = room, lately = lately(room)}
    local ok, err = shared.subscribe(conn, inbox(me))
    if ok then
        ok, err = sit(conn, me, room)
    end
    if not ok then
        shared.unsubscribe(conn, inbox(me))
        ui.display(conn, req, 'The chat is closed just now: ' .. err)
        return req
    end
    -- However the stay ends, even by an error, the caller leaves the
    -- room: no events for them at the menu, not listed by /who.
    local stayed, after = pcall(talk, conn, req, me, state)
    stand(conn, me, state.room, '* ' .. me .. ' leaves.')
    shared.hold(conn, WHERE, me:lower(), nil) -- the seat, if still theirs
    shared.unsubscribe(conn, inbox(me))
    if not stayed then
        error(after, 0)
    end
    return after
end

return chat
