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
-- their name in lower case), 'ROOM Name CONNID': their seat, on one
-- connection. It is held (shared.hold) for the length of the call, so the
-- host clears it when a caller hangs up in a room; a seat whose
-- connection is not online (a host killed, a departure that failed) is
-- deleted by whoever reads it. A caller who enters the chat on a second
-- connection takes their seat there: the first connection leaves the
-- chat. A private line goes to the channel 'chat.to.NAME' that each
-- caller in the rooms listens on. A caller who hangs up in a room is
-- announced by the host (shared.subscribe's farewell). Table
-- 'chat.rooms' has a key for each room opened besides the lobby, to
-- count them; 'chat.listed' when each caller last listed the seats.
--
-- Limits: a line is at most MAX_LINE bytes; a caller publishes at most 5
-- lines a second in bursts of 10 (the shared module's limit, for all
-- their connections together), and their comings and goings are
-- announced within a notice allowance of their own (2 a second, bursts
-- of 6: a /join past it is refused); room names are 1-16 of a-z 0-9 and
-- -; at most MAX_ROOMS rooms besides the lobby are open at once; what
-- reads every seat (/who, /rooms, the list shown on entering a room)
-- runs at most once in LIST_EVERY seconds per caller.

local ui = require 'ui'
local door = require 'door'
local shared = require 'shared'
local callers = require 'callers'

local chat = {}

-- DEFAULT_ROOM is where a caller lands; it is always listed.
chat.DEFAULT_ROOM = 'lobby'
-- MAX_LINE bounds what a caller says in one line, in bytes, so that with
-- their name it fits in one event (shared's 1,024 bytes).
chat.MAX_LINE = 400
-- MAX_ROOMS bounds the rooms open besides the lobby.
chat.MAX_ROOMS = 16
-- MAX_ROOM_NAME bounds a room's name, in bytes.
chat.MAX_ROOM_NAME = 16
-- LIST_EVERY is how many seconds a caller waits between two lists (/who,
-- /rooms, the one shown on entering a room), which read every seat
-- (BenchmarkChatWho: about 2.7 ms for 50 callers in the rooms).
chat.LIST_EVERY = 1

local WHERE = 'chat.where'
local ROOMS = 'chat.rooms'
local LISTED = 'chat.listed'
-- MOVED starts the notice a caller's new connection sends their old one
-- on their private channel (a /msg starts with '*NAME*').
local MOVED = '!moved '
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

-- parse_seat reads a seat's value: {room =, name =, conn =}, or nil.
local function parse_seat(v)
    local room, name, id = tostring(v or ''):match('^(%S+) (.+) (%S+)$')
    if room then return {room = room, name = name, conn = id} end
end

-- online returns the callers online, every line, as a map from their
-- connection to their lower-case name.
local function online()
    local on = {}
    for _, c in ipairs(callers.online()) do
        on[c.conn_id] = c.user:lower()
    end
    return on
end

-- live returns the seat of key's caller (its value v) if it is theirs on
-- a connection online; else it deletes it, if it is still v: a seat left
-- behind by a call gone (a host killed, a departure that failed).
local function live(key, v, on)
    local seat = parse_seat(v)
    if seat and on[seat.conn] == key then return seat end
    if v ~= nil then shared.update(WHERE, key, v, nil) end
    return nil
end

-- where returns the room and name each caller in the chat is in, as a
-- map from their lower-case name to {room =, name =, conn =}: one read of
-- every seat, seats left behind deleted.
local function where()
    local on = online()
    local all = shared.all(WHERE) or {}
    local keys = {}
    for key in pairs(all) do keys[#keys + 1] = key end
    table.sort(keys)
    local seats = {}
    for _, key in ipairs(keys) do
        seats[key] = live(key, all[key], on)
    end
    return seats
end

-- seat_of returns the seat of the caller called name, if they are in the
-- chat: one read, not a list.
local function seat_of(name)
    local key = name:lower()
    local v = shared.get(WHERE, key)
    if v == nil then return nil end
    return live(key, v, online())
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

-- publish says text in the caller's room (a notice of their coming or
-- going: within their notice allowance); nil and why when it cannot.
local function publish(conn, room, text, notice)
    local n, err
    if notice then
        n, err = shared.announce(conn, channel(room), text)
    else
        n, err = shared.publish(conn, channel(room), text)
    end
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
    local log = shared.all('chat.log') or {}
    local lines = {}
    for i = math.max(1, said - LOG_LINES + 1), said do
        local line = log[tostring(i % LOG_LINES)]
        if line then lines[#lines + 1] = ui.plain(line) end
    end
    if #lines == 0 then return '' end
    return 'Lately:\n' .. table.concat(lines, '\n') .. '\n'
end

-- may_list reports whether the caller may read every seat now (a list
-- every LIST_EVERY seconds, on all their stays and connections), and
-- counts it unless it is the list shown on coming into a room (those
-- come at most as fast as the notices: live.NoticeRate).
local function may_list(conn, me, state, uncounted)
    local now = door.now()
    if state.listed and now - state.listed < chat.LIST_EVERY then
        return false
    end
    if uncounted then return true end
    state.listed = now
    shared.hold(conn, LISTED, me:lower(), now)
    return true
end

-- room_open makes sure room may take the caller: the lobby always, a
-- room open already, or a new one while fewer than MAX_ROOMS are. It
-- returns nil and why not.
local function room_open(conn, me, room, state)
    if room == chat.DEFAULT_ROOM or shared.get(ROOMS, room) then return true end
    local full = ('%d rooms are open already: join one of them (/rooms)'):format(chat.MAX_ROOMS)
    local open = shared.keys(ROOMS) or {}
    if #open >= chat.MAX_ROOMS then
        -- Rooms emptied since are counted until someone finds them empty.
        if not may_list(conn, me, state) then return nil, full end
        local used = {}
        for _, seat in pairs(where()) do used[seat.room] = true end
        local left = 0
        for _, name in ipairs(open) do
            if used[name] then
                left = left + 1
            else
                shared.update(ROOMS, name, true, nil)
            end
        end
        if left >= chat.MAX_ROOMS then return nil, full end
    end
    local ok, err = shared.set(ROOMS, room, true)
    if not ok then return nil, err end
    return true
end

-- take_seat holds the caller's seat; a table full of seats left behind
-- is cleared first.
local function take_seat(conn, me, room)
    local ok, err = shared.hold(conn, WHERE, me:lower(), room .. ' ' .. me .. ' ' .. conn:id())
    if not ok and err and err:find('full') then
        where()
        ok, err = shared.hold(conn, WHERE, me:lower(), room .. ' ' .. me .. ' ' .. conn:id())
    end
    return ok, err
end

-- sit puts the caller in room: listening, seated, announced (from: the
-- room they leave, if any, whose seat they get back if this fails). It
-- returns nil and why when the room cannot take them.
local function sit(conn, me, room, state, from)
    local ok, err = room_open(conn, me, room, state)
    if not ok then return nil, err end
    ok, err = shared.subscribe(conn, channel(room), '* ' .. me .. ' hangs up.')
    if not ok then return nil, err end
    ok, err = take_seat(conn, me, room)
    if ok then
        ok, err = publish(conn, room, '* ' .. me .. ' comes in.', true)
        if not ok then
            if from then
                shared.hold(conn, WHERE, me:lower(), from .. ' ' .. me .. ' ' .. conn:id())
            else
                shared.hold(conn, WHERE, me:lower(), nil)
            end
        end
    end
    if not ok then
        shared.unsubscribe(conn, channel(room))
        return nil, err
    end
    return true
end

-- stand takes the caller out of room, saying notice there (none: nil).
local function stand(conn, room, notice)
    if notice then publish(conn, room, notice, true) end
    shared.unsubscribe(conn, channel(room))
end

-- who_seen returns who_line(room) if the caller may list now, else a
-- word on how to list.
local function who_seen(conn, me, room, state)
    if may_list(conn, me, state, true) then return who_line(room) end
    return '(/who lists who is here)'
end

-- host_words reports whether a /me action starts as the host's notices
-- of comings and goings do ('* NAME comes in.'), which it would fake.
local function host_words(action)
    local a = action:lower()
    for _, words in ipairs({'comes in', 'leaves', 'hangs up'}) do
        if a:sub(1, #words) == words then return true end
    end
    return false
end

-- command runs one of the caller's /commands and returns what to show
-- them and the room they are in after it (nil: they leave the chat).
local function command(conn, me, room, line, state)
    local verb, rest = line:match('^/(%S*)%s*(.-)$')
    verb = verb:lower()
    local list = verb == 'who' or verb == 'w' or verb == 'rooms'
    if list and not may_list(conn, me, state) then
        return '(one /who or /rooms a second: wait a moment)', room
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
        rest = ui.flat(rest)
        if rest == '' then return '(/me ACTION: say what you do)', room end
        if host_words(rest) then
            return "(that is how the host's notices read: say it another way)", room
        end
        local action = '* ' .. me .. ' ' .. rest
        local ok, why = publish(conn, room, action)
        return ok and ui.plain(action) or '(' .. why .. ')', room
    elseif verb == 'msg' then
        local to, text = rest:match('^(%S+)%s+(.+)$')
        text = ui.flat(text or '')
        if not to or text == '' then return '(/msg NAME TEXT: a line only NAME sees)', room end
        local seat = seat_of(to)
        if not seat then return ('(nobody called %s is in the chat)'):format(ui.plain(to)), room end
        local n, why = shared.publish(conn, inbox(seat.name), ('*%s* %s'):format(me, text))
        if not n then return '(' .. why .. ')', room end
        return ('(to %s) %s'):format(ui.plain(seat.name), ui.plain(text)), room
    elseif verb == 'join' then
        local next, why = chat.room_name(rest)
        if not next then return '(' .. why .. ')', room end
        if next == room then return ('(you are in %s)'):format(room), room end
        local ok, err = sit(conn, me, next, state, room)
        if not ok then return '(' .. err .. ')', room end
        stand(conn, room, ('* %s leaves for %s.'):format(me, next))
        return lately(next) .. 'You are in ' .. next .. '.\n' .. who_seen(conn, me, next, state), next
    end
    return ('(no such command: /%s; /help lists them)'):format(ui.plain(verb)), room
end

-- talk is the caller's stay in the chat, until /quit; it returns the
-- last request and the room they were in.
local function talk(conn, req, me, state)
    local show = state.lately .. 'You are in ' .. state.room .. '. /help lists the commands.\n'
        .. who_seen(conn, me, state.room, state)
    while true do
        local answer, events = shared.ask(conn, req, show, 'Chat> ')
        show = ''
        if events then
            local lines = {}
            for _, event in ipairs(events) do
                local moved = event.from == me and event.channel == inbox(me) and event.text:match('^' .. MOVED .. '(%S+)$')
                if moved then
                    -- The caller took their seat on another connection.
                    state.moved = moved
                    return req
                end
                lines[#lines + 1] = ui.plain(event.text)
            end
            show = table.concat(lines, '\n')
        else
            req = answer
            local line = ui.flat(req.data.msg or '')
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
    local state = {room = room, lately = lately(room), listed = shared.get(LISTED, me:lower())}
    -- On another connection in the chat already? That one leaves it.
    local before = seat_of(me)
    local ok, err = true, nil
    if before and before.conn ~= conn:id() then
        ok, err = shared.announce(conn, inbox(me), MOVED .. room)
    end
    if ok then
        ok, err = shared.subscribe(conn, inbox(me))
    end
    if ok then
        ok, err = sit(conn, me, room, state)
    end
    if not ok then
        shared.unsubscribe(conn, inbox(me))
        ui.display(conn, req, 'The chat is closed just now: ' .. err)
        return req
    end
    -- However the stay ends, even by an error, the caller leaves the
    -- room: no events for them at the menu, not listed by /who. Moved to
    -- another connection, they leave quietly if they are in that room.
    local stayed, after = pcall(talk, conn, req, me, state)
    local notice = '* ' .. me .. ' leaves.'
    if state.moved == state.room then notice = nil end
    stand(conn, state.room, notice)
    shared.hold(conn, WHERE, me:lower(), nil) -- the seat, if still theirs
    shared.unsubscribe(conn, inbox(me))
    if not stayed then
        error(after, 0)
    end
    if state.moved then
        ui.display(conn, after, '(you went into the chat on another connection)')
    end
    return after
end

return chat
