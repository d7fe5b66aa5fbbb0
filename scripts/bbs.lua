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

-- MAX_LINES bounds one message, as on the original board.
MAX_LINES = 24

-- trim removes surrounding white space from what a caller typed.
local function trim(s)
    return (s:gsub('^%s+', ''):gsub('%s+$', ''))
end

-- read_lines collects a message: lines until a lone '.', at most MAX_LINES.
local function read_lines(conn, req)
    ui.screen(conn, req, 'leave_msg')
    local lines = {}
    while #lines < MAX_LINES do
        req = ui.ask(conn, req, '', ('%2d: '):format(#lines + 1))
        if req.data.msg == '.' then break end
        lines[#lines + 1] = req.data.msg
    end
    return lines, req
end

-- new_user registers a caller: they type their password again until both
-- match (three tries), then get an account.
function new_user(conn, req, user, password)
    req = ui.prompt(conn, req, 'new_user')
    local tries = 1
    while req.data.msg ~= password do
        if tries == 3 then
            ui.exit(conn, req, 'bad_pass')
            return nil
        end
        tries = tries + 1
        req = ui.prompt(conn, req, 'repeat_pass')
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
    lines, req = read_lines(conn, req)
    if #lines == 0 then
        ui.screen(conn, req, 'empty_msg')
        return
    end
    assert(db.post_message(user, lines))
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
        req = ui.ask(conn, req, ('--- %d of %d ---\n%s'):format(count - i + 1, count, text), '[Enter/Q] ')
        if req.data.msg:upper() == 'Q' then return end
    end
end

-- send_message: menu 3, a private message to another caller.
local function send_message(conn, req, user)
    req = ui.prompt(conn, req, 'send_to')
    local to = trim(req.data.msg)
    if not db.user_exists(to) then
        ui.screen(conn, req, 'no_such_user')
        return
    end
    local lines
    lines, req = read_lines(conn, req)
    if #lines == 0 then
        ui.screen(conn, req, 'empty_msg')
        return
    end
    assert(db.send_to(to, user, lines))
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

-- MAINMENU maps a menu choice to what it does.
MAINMENU = {
    ['1'] = leave_message,
    ['2'] = read_messages,
    ['3'] = send_message,
    ['4'] = read_inbox,
    ['Q'] = function(conn, req) ui.exit(conn, req, 'bye') end,
}

-- m2bbs is one caller's whole visit: name, password, MOTD, then the menu
-- until they quit.
function m2bbs(conn, req)
    req = ui.prompt(conn, req, 'welcome')
    local user = trim(req.data.msg)
    while user == '' do
        req = ui.prompt(conn, req, 'name')
        user = trim(req.data.msg)
    end
    req = ui.prompt(conn, req, 'password')
    local password = req.data.msg
    if not db.user_exists(user) then
        req = new_user(conn, req, user, password)
        if not req then return end
    elseif not db.auth_user(user, password) then
        ui.exit(conn, req, 'bad_pass')
        return
    end
    req = ui.prompt(conn, req, 'motd')
    if req.data.msg:lower() == 'n' then
        ui.exit(conn, req, 'bye')
        return
    end
    repeat
        req = ui.prompt(conn, req, 'menu')
        local choice = trim(req.data.msg):upper()
        local selection = MAINMENU[choice]
        if selection then
            selection(conn, req, user)
        else
            ui.screen(conn, req, 'menu_error')
        end
    until choice == 'Q'
end
