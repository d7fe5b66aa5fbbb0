-- bbs.lua: the m2bbs bulletin board.
--
-- Written in the plain procedural style of Zed Shaw's 2010 Mongrel2 BBS:
-- every caller runs m2bbs(conn, req) in a coroutine of their own, and
-- ui.prompt / ui.ask wait for that caller's next line without holding up
-- anyone else. Screens are text files in screens/ (ui.screen 'menu' shows
-- screens/menu.txt). Edit this file and the screens to make the board yours.

require 'strict'
require 'ui'
require 'db'
require 'menu'
require 'users'
require 'callers'
require 'board'
require 'boards' -- now, so that a message area's broken access rule stops the load

-- MAX_LINES bounds one message, as on the original board.
MAX_LINES = 24

-- MAX_NAME bounds a user name; a longer answer to the name prompt is
-- refused with the name_too_long screen.
MAX_NAME = 32

-- ask_name asks the caller's name until they give one that fits: not
-- empty, at most MAX_NAME bytes. screen is the first prompt's.
local function ask_name(conn, req, screen)
    req = ui.prompt(conn, req, screen)
    local user = ui.trim(req.data.msg)
    while user == '' or #user > MAX_NAME do
        req = ui.prompt(conn, req, user == '' and 'name' or 'name_too_long')
        user = ui.trim(req.data.msg)
    end
    return user, req
end

-- new_user registers a caller: they type their password again until both
-- match (three tries), then get an account.
function new_user(conn, req, user, password)
    req = ui.secret(conn, req, 'new_user')
    local tries = 1
    while req.data.msg ~= password do
        if tries == 3 then
            ui.exit(conn, req, 'bad_pass')
            return nil
        end
        tries = tries + 1
        req = ui.secret(conn, req, 'repeat_pass')
    end
    local ok, err = db.register_user(user, password)
    if not ok then
        conn:reply_json(req, {type = 'exit', msg = 'Could not register you: ' .. err})
        return nil
    end
    ui.screen(conn, req, 'welcome_newbie')
    return req
end

-- leave_message: menu 1.
local function leave_message(conn, req, user)
    local lines
    if conn:terminal().keys then   -- the full-screen editor (Ctrl-Z saves)
        req, lines = ui.edit(conn, req, {title = 'A message for the board', max_lines = MAX_LINES})
    else
        ui.screen(conn, req, 'leave_msg')
        req, lines = ui.read_lines(conn, req, MAX_LINES)   -- until a lone '.'
    end
    if not lines or #lines == 0 then
        ui.screen(conn, req, 'empty_msg')
        return
    end
    local ok, err = db.post_message(user, lines)
    if not ok then
        ui.display(conn, req, 'Your message was not saved: ' .. err .. '.')
        return
    end
    ui.screen(conn, req, 'posted')
end

-- read_messages: menu 2, newest first, Enter for the next, Q to stop.
local function read_messages(conn, req)
    local count = assert(db.message_count())
    if count == 0 then
        ui.screen(conn, req, 'no_messages')
        return
    end
    ui.screen(conn, req, 'read_msg')
    for i = count, 1, -1 do
        local text = assert(db.message_read(i - 1))
        req = require('pager').ask(conn, req, ('--- %d of %d ---\n%s'):format(count - i + 1, count, text), '[Enter/Q] ')
        if req.data.msg:upper() == 'Q' then return end
    end
end

-- send_message: menu 3, a private message to another caller.
local function send_message(conn, req, user)
    req = ui.prompt(conn, req, 'send_to')
    local to = ui.trim(req.data.msg)
    if not db.user_exists(to) then
        ui.screen(conn, req, 'no_such_user')
        return
    end
    local lines
    if conn:terminal().keys then
        req, lines = ui.edit(conn, req, {title = 'A message for ' .. to, max_lines = MAX_LINES})
    else
        ui.screen(conn, req, 'leave_msg')
        req, lines = ui.read_lines(conn, req, MAX_LINES)
    end
    if not lines or #lines == 0 then
        ui.screen(conn, req, 'empty_msg')
        return
    end
    local ok, err = db.send_to(to, user, lines)
    if not ok then
        ui.display(conn, req, 'Your message was not sent: ' .. err .. '.')
        return
    end
    ui.screen(conn, req, 'sent')
end

-- read_inbox: menu 4, private messages to this caller, oldest first.
local function read_inbox(conn, req, user)
    if assert(db.inbox_count(user)) == 0 then
        ui.screen(conn, req, 'inbox_empty')
        return
    end
    while assert(db.inbox_count(user)) > 0 do
        req = ui.ask(conn, req, assert(db.read_inbox(user)), '[Enter] ')
    end
end

-- who: menu 5, the callers online right now.
local function who(conn, req)
    local lines = {}
    local nodes = {}
    for _, c in ipairs(callers.online()) do
        lines[#lines + 1] = '  ' .. c.user
        if c.node then nodes[#nodes + 1] = c.node .. ' ' .. c.user end
    end
    if #nodes > 0 then lines[#lines + 1] = 'Nodes: ' .. table.concat(nodes, ', ') end
    require('pager').show(conn, req, 'Online now:\n' .. table.concat(lines, '\n'))
end

-- wall: menu 6, the one-liners wall; Enter to leave it as it is.
local function wall(conn, req, user)
    local lines = {}
    for _, o in ipairs(assert(users.wall(10))) do
        lines[#lines + 1] = ('|11%s|07: %s'):format(o.user, o.text)
    end
    if #lines == 0 then lines[1] = '(nothing yet)' end
    req = ui.ask(conn, req, '|15The wall|07\n' .. table.concat(lines, '\n') ..
        '\nWrite a one-liner, or Enter to go back:')
    local text = ui.trim(req.data.msg)
    if text ~= '' then
        local ok, err = users.write_wall(text)
        ui.display(conn, req, ok and 'On the wall.' or ('Not written: ' .. err))
    end
end

-- last_callers: menu 7.
local function last_callers(conn, req)
    local lines = {}
    for _, c in ipairs(assert(users.last_callers(10))) do
        lines[#lines + 1] = os.date('  %Y-%m-%d %H:%M  ', c.at) .. c.user
    end
    require('pager').show(conn, req, 'Last callers:\n' .. table.concat(lines, '\n'))
end

-- MAX_PAGE bounds one page's text (callers.page takes at most 1024 bytes).
MAX_PAGE = 1024

-- page: menu 8, a line to another caller, shown to them at once.
local function page(conn, req)
    req = ui.ask(conn, req, 'Page whom?')
    local to = ui.trim(req.data.msg)
    if to == '' or #to > MAX_NAME then
        ui.display(conn, req, 'Nobody by that name is online.')
        return
    end
    req = ui.ask(conn, req, 'Your message to ' .. to .. ':')
    local text = req.data.msg
    if #text > MAX_PAGE then
        ui.display(conn, req, ('Not paged: a page is at most %d characters.'):format(MAX_PAGE))
        return
    end
    local n, err = callers.page(conn, to, text)
    ui.display(conn, req, n and 'Paged.' or err)
end

-- The sysop's menu: the user list, bans and security levels.
local function user_list(conn, req)
    local lines = {}
    for _, a in ipairs(assert(users.list(0, 50))) do
        lines[#lines + 1] = ('  %-20s %-6s %s calls%s'):format(a.name, a.level, a.calls, a.banned and '  BANNED' or '')
    end
    require('pager').show(conn, req, table.concat(lines, '\n'))
end

-- approve_users lists the new users waiting for the sysop's approval and
-- approves them one name at a time, until an empty answer.
local function approve_users(conn, req)
    while true do
        local lines = {}
        for _, a in ipairs(assert(users.waiting(20))) do
            lines[#lines + 1] = os.date('  %Y-%m-%d %H:%M  ', a.registered) .. a.name
        end
        if #lines == 0 then
            ui.display(conn, req, 'Nobody is waiting for approval.')
            return
        end
        req = ui.ask(conn, req, 'Waiting for approval:\n' .. table.concat(lines, '\n') ..
            '\nApprove whom? (Enter to go back)')
        local name = ui.trim(req.data.msg)
        if name == '' then return end
        local ok, err = users.approve(name)
        ui.display(conn, req, ok and (name .. ' is approved.') or err)
    end
end

local function account_action(verb, fn)
    return function(conn, req)
        req = ui.ask(conn, req, verb .. ' whom?')
        local ok, err = fn(conn, req, ui.trim(req.data.msg))
        ui.display(conn, req, ok and 'Done.' or err)
    end
end

require 'watch'

-- watch_caller: the sysop watches another caller's screens live (they
-- arrive as screens while the sysop sits at the prompt below) and may
-- break in to chat; the caller is told of both.
local function watch_caller(conn, req)
    local list = {}
    for _, c in ipairs(callers.online()) do
        if c.conn_id ~= conn:id() then list[#list + 1] = c end
    end
    if #list == 0 then
        ui.display(conn, req, 'Nobody else is online.')
        return
    end
    local lines = {}
    for i, c in ipairs(list) do lines[i] = ('  %d. %s'):format(i, c.user) end
    req = ui.ask(conn, req, 'Watch whom?\n' .. table.concat(lines, '\n') .. '\nNumber, or Enter to go back:')
    local c = list[tonumber(req.data.msg)]
    if not c then return end
    local ok, err = watch.start(conn, c.conn_id)
    if not ok then
        ui.display(conn, req, 'Cannot watch ' .. c.user .. ': ' .. err .. '.')
        return
    end
    while true do
        req = ui.ask(conn, req, 'Watching ' .. c.user .. '. C to chat, Enter to stop watching:')
        if ui.trim(req.data.msg):upper() ~= 'C' then break end
        ok, err = watch.chat(conn)
        if not ok then
            ui.display(conn, req, 'No chat: ' .. err .. '.')
        else
            repeat
                req = ui.ask(conn, req, 'Chat with ' .. c.user .. ' (a lone . ends it):')
                local text = req.data.msg
                if text ~= '.' and ui.trim(text) ~= '' then watch.say(conn, text) end
            until text == '.'
            watch.end_chat(conn)
        end
    end
    watch.stop(conn)
end

-- fidonet shows the board's FidoNet side (docs/fidonet.md) and polls the
-- uplinks when the sysop asks.
local function fidonet(conn, req)
    local ftn = require 'ftn'
    local st, err = ftn.status()
    if not st then
        ui.display(conn, req, err .. '.')
        return
    end
    local c, b = st.counters, st.binkd or {}
    local out = {
        'FidoNet address: ' .. table.concat(st.addresses, ' '),
        ('binkd: %s, %d restarts'):format(b.running and 'running' or 'not running', b.restarts or 0),
        ('Tossed %d, duplicates %d, bad %d, exported %d.'):format(c.tossed or 0, c.dupes or 0, c.bad or 0, c.exported or 0),
    }
    for _, u in ipairs(st.uplinks) do
        out[#out + 1] = ('Uplink %s at %s:%d, %d packets waiting.'):format(u.address, u.host, u.port, u.waiting)
    end
    req = ui.ask(conn, req, table.concat(out, '\n') .. '\nP polls the uplinks now, Enter goes back:')
    if ui.trim(req.data.msg):upper() == 'P' then
        local ok, why = ftn.poll()
        ui.display(conn, req, ok and 'Polling the uplinks.' or why .. '.')
    end
end

SYSOP_MENU = menu.new {
    title = 'SYSOP',
    items = {
        {key = 'U', label = 'User list.', action = user_list},
        {key = 'B', label = 'Ban a caller.', action = account_action('Ban', function(_, _, name) return users.ban(name) end)},
        {key = 'N', label = 'Unban a caller.', action = account_action('Unban', function(_, _, name) return users.unban(name) end)},
        {key = 'L', label = 'Set a security level.', action = account_action('Set the level of', function(conn, req, name)
            req = ui.ask(conn, req, 'Level for ' .. name .. ' (new, user, sysop, or 0 to 255)?')
            local level = ui.trim(req.data.msg):lower()
            return users.set_level(name, tonumber(level) or level)
        end)},
        {key = 'W', label = 'New users waiting for approval.', action = approve_users},
        {key = 'G', label = 'Put a caller in a group, or take them out.', action = account_action('Change the groups of', function(conn, req, name)
            req = ui.ask(conn, req, 'Group for ' .. name .. ' (-name takes them out)?')
            local group = ui.trim(req.data.msg)
            local leave = group:sub(1, 1) == '-'
            return users.set_group(name, leave and group:sub(2) or group, not leave)
        end)},
        {key = 'F', label = "Set a caller's flags.", action = account_action('Set the flags of', function(conn, req, name)
            req = ui.ask(conn, req, 'Flags for ' .. name .. ' (letters A to Z, Enter for none)?')
            return users.set_flags(name, ui.trim(req.data.msg))
        end)},
        {key = 'D', label = 'Delete a post.', action = function(conn, req)
            req = ui.ask(conn, req, 'Number of the post to delete?')
            local ok, err = board.delete(tonumber(req.data.msg) or -1)
            ui.display(conn, req, ok and 'Deleted.' or err)
        end},
        {key = 'V', label = "View a caller's screen live (watch, chat).", action = watch_caller},
        {key = 'E', label = 'FidoNet echomail: status, poll.', action = fidonet},
        {key = 'R', label = 'Uploads waiting for review.', action = function(conn, req) require('fileareas').review(conn, req) end},
        {key = 'Q', label = 'Back to the main menu.', action = 'back'},
    },
}

-- minutes says a number of seconds in minutes, rounded up.
local function minutes(seconds)
    local n = math.ceil(seconds / 60)
    return n == 1 and '1 minute' or (n .. ' minutes')
end

-- time_status is the main menu's last line for a caller with a time
-- limit: how many minutes they have left.
local function time_status()
    local left = users.time_left()
    if left then return '(' .. minutes(left) .. ' left)' end
end

-- MAIN_MENU is the main menu as data: add a line here to add an item.
-- level = 'user' items are not for new users waiting for approval;
-- access = "rule" items are for callers who pass the rule, such as
-- access = "level >= 20 and group('cosysop')" (see docs/lua-api.md).
MAIN_MENU = menu.new {
    title = 'MAIN MENU',
    header = 'main_header', -- screens/main_header.ans, for callers who show ANSI art
    status = time_status,
    -- Each time the main menu shows, the caller's session journal starts
    -- over from m2bbs_resume below (see "Sessions that survive").
    checkpoint = true,
    items = {
        {key = '1', label = 'Leave a message.', action = leave_message, level = 'user'},
        {key = '2', label = 'Read messages left.', action = read_messages},
        {key = '3', label = 'Send to someone else.', action = send_message, level = 'user'},
        {key = '4', label = 'Read messages to you.', action = read_inbox},
        {key = '5', label = "Who's online.", action = who},
        {key = '6', label = 'The one-liners wall.', action = wall, level = 'user'},
        {key = '7', label = 'Last callers.', action = last_callers},
        {key = '8', label = 'Page someone.', action = page, level = 'user'},
        {key = 'B', label = 'Message boards.', action = function(conn, req, user) require('boards').menu(conn, req, user) end, level = 'user'},
        {key = 'M', label = 'Your mailbox.', action = function(conn, req, user) require('boards').mail_menu(conn, req, user) end, level = 'user'},
        {key = 'D', label = 'Door games.', action = function(conn, req) require('doors').menu(conn, req) end, level = 'user'},
        {key = 'C', label = 'Chat rooms (teleconference).', action = function(conn, req, user) require('chat').enter(conn, req, user) end, level = 'user'},
        {key = 'K', label = 'Your SSH keys.', action = function(conn, req) require('keys').menu(conn, req) end},
        {key = 'F', label = 'File areas.', action = function(conn, req) require('fileareas').menu(conn, req) end, level = 'user'},
        {key = 'S', label = 'Sysop menu.', menu = SYSOP_MENU, level = 'sysop'},
        {key = 'Q', label = 'Quit the BBS.', action = function(conn, req) ui.exit(conn, req, 'bye') return 'quit' end},
    },
}

-- MAINMENU maps each key to its action, as in the original BBS script.
MAINMENU = menu.actions(MAIN_MENU)

-- greet tells a caller who just logged in whether they wait for the
-- sysop's approval, and how long they may stay; it returns false when
-- their time for the day is used up.
local function greet(conn, req)
    local me = users.me()
    if me and me.waiting then ui.screen(conn, req, 'waiting') end
    local left = users.time_left()
    if left and left <= 0 then return false end
    if left then
        ui.display(conn, req, 'You have ' .. minutes(left) .. ' on the board this call.')
    end
    return true
end

-- log_in asks the caller's name and password (or registers them) and
-- returns their name and last request, or nothing if they are turned away.
local function log_in(conn, req)
    local user
    user, req = ask_name(conn, req, 'welcome')
    req = ui.secret(conn, req, 'password')
    local password = req.data.msg
    if not db.user_exists(user) then
        req = new_user(conn, req, user, password)
        if not req then return end
    else
        local ok, err = db.auth_user(user, password)
        if err then -- throttled after failed logins, or banned
            conn:reply_json(req, {type = 'exit', msg = 'Sorry: ' .. err .. '.'})
            return
        elseif not ok then
            ui.exit(conn, req, 'bad_pass')
            return
        end
    end
    return user, req
end

-- m2bbs is one caller's whole visit: name, password, MOTD, then the menu
-- until they quit. A caller who logged in over SSH with a key they
-- registered (the K menu) is known already: no name, no password. A
-- caller another board sends to play a door here (remote.lua) goes
-- straight into it.
function m2bbs(conn, req)
    local caller = db.remote_caller(conn)
    if caller then
        require('remote').serve(conn, req, caller)
        return
    end
    local user, err = db.preauthenticated(conn)
    if err then -- their account was banned since
        conn:reply_json(req, {type = 'exit', msg = 'Sorry: ' .. err .. '.'})
        return
    elseif user then
        ui.display(conn, req, 'Welcome back, ' .. user .. ': you are logged in by your SSH key.')
    else
        user, req = log_in(conn, req)
        if not user then return end
    end
    if not greet(conn, req) then
        ui.exit(conn, req, 'timeout')
        return
    end
    req = require('charset').settle(conn, req, user)
    req = ui.prompt(conn, req, 'motd')
    if req.data.msg:lower() == 'n' then
        ui.exit(conn, req, 'bye')
        return
    end
    menu.run(conn, req, user, MAIN_MENU)
end

-- m2bbs_resume brings a logged-in caller to the main menu. The host calls
-- it when it rebuilds a session from its journal: after the main menu's
-- checkpoint, and when the scripts changed under a caller (who is first
-- shown the 'upgraded' screen).
function m2bbs_resume(conn, req, user)
    menu.run(conn, req, user, MAIN_MENU)
end
