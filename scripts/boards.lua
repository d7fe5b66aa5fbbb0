-- boards.lua: message areas and the mailbox, as conversations.
--
--     local boards = require 'boards'
--     boards.menu(conn, req, user)       -- message areas
--     boards.mail_menu(conn, req, user)  -- private mail
--
-- Written in the plain procedural style of bbs.lua: each function talks to
-- one caller with ui.ask / ui.prompt and returns when they are done. The
-- texts are screens/boards/*.txt; the areas are boards.AREAS below.

local ui = require 'ui'
local db = require 'db'
local board = require 'board'
local mail = require 'mail'
local users = require 'users'
local pager = require 'pager'

local boards = {}

-- AREAS are the sysop's message areas, created (or their descriptions
-- updated) the first time a caller opens the boards. 'general' is the
-- default area: the main menu's "leave a message" posts there. An area
-- with access = "rule" (say access = "level >= 20 and group('cosysop')",
-- see docs/sysop.md) is listed and opened for callers who pass it only.
boards.AREAS = {
    {name = 'general', description = 'Anything goes'},
    {name = 'tech', description = 'Computers, modems and code'},
    {name = 'games', description = 'Door games, high scores, trash talk'},
}

-- An area's rule that does not compile stops the scripts as they load, as
-- a menu item's does (menu.new), instead of every caller who opens the
-- boards.
for _, a in ipairs(boards.AREAS) do
    if a.access ~= nil then
        local ok, err = users.check_rule(a.access)
        if not ok then
            error(('boards.AREAS: area %q: %s'):format(a.name, tostring(err)), 0)
        end
    end
end

-- PAGE is how many posts or mails a listing shows at once.
boards.PAGE = 10

-- MAX_LINES bounds one post or mail, as on the main menu.
boards.MAX_LINES = 24

-- SUBJECT_WIDTH is how much of a subject a listing shows.
local SUBJECT_WIDTH = 30

local areas_defined = false

-- define_areas makes sure every area in AREAS exists.
local function define_areas()
    if areas_defined then return end
    for _, a in ipairs(boards.AREAS) do
        assert(board.define_area(a.name, a.description))
    end
    areas_defined = true
end

-- visible keeps the areas of list the caller may enter: those whose
-- boards.AREAS entry has no access rule, or a rule the caller passes.
local function visible(list)
    local rules = {}
    for _, a in ipairs(boards.AREAS) do
        if a.access then rules[a.name:lower()] = a.access end
    end
    local out = {}
    for _, area in ipairs(list) do
        local rule = rules[area.name:lower()]
        if not rule or users.allowed(rule) then out[#out + 1] = area end
    end
    return out
end

-- clip shortens s to at most n bytes without cutting a UTF-8 character.
local function clip(s, n)
    if #s <= n then return s end
    while n > 0 and s:byte(n + 1) >= 0x80 and s:byte(n + 1) < 0xC0 do
        n = n - 1
    end
    return s:sub(1, n)
end

-- subject_of is a post's or mail's subject for showing.
local function subject_of(p)
    return p.subject ~= '' and p.subject or '(no subject)'
end

-- count_of is "1 post", "2 posts" and the like.
local function count_of(n, what)
    return n == 1 and ('1 ' .. what) or (n .. ' ' .. what .. 's')
end

-- date formats a post's or mail's time.
local function date(t)
    return os.date('%Y-%m-%d %H:%M', t)
end

-- answer asks text with prompt pchar, a screenful at a time
-- (pager.ask), and returns the new request and the trimmed, upper-cased
-- answer.
local function answer(conn, req, text, pchar)
    req = pager.ask(conn, req, text, pchar)
    return req, ui.trim(req.data.msg):upper()
end

-- compose asks for a subject (the prompt screen is subject_screen; an
-- empty answer gives default) and the lines: in the full-screen editor
-- for a terminal that can (ui.edit; quote, the lines replied to, is
-- there for Ctrl-Q and does not count against MAX_LINES), else in the
-- line editor. It returns the subject and lines, or nil if the caller
-- typed nothing or aborted.
local function compose(conn, req, subject_screen, default, quote)
    req = ui.prompt(conn, req, subject_screen)
    local subject = clip(ui.trim(req.data.msg), 72)
    if subject == '' then subject = default end
    local lines
    if conn:terminal().keys then
        req, lines = ui.edit(conn, req, {title = subject, quote = quote,
            max_lines = boards.MAX_LINES})
    else
        ui.screen(conn, req, 'boards/write')
        req, lines = ui.read_lines(conn, req, boards.MAX_LINES)   -- until a lone '.'
    end
    if not lines or #lines == 0 then
        ui.screen(conn, req, 'boards/empty')
        return nil, nil, req
    end
    return subject, lines, req
end

-- write_post posts to area, or replies to post reply_to (a post table).
local function write_post(conn, req, user, area, reply_to)
    local subject, lines
    if reply_to then
        ui.display(conn, req, 'Replying to #' .. reply_to.id .. ': ' .. reply_to.subject)
        subject, lines, req = compose(conn, req, 'boards/reply_subject', '', reply_to.lines)
    else
        subject, lines, req = compose(conn, req, 'boards/subject', '')
    end
    if not lines then return end
    local id, err = board.post(area, user, subject, lines, reply_to and reply_to.id)
    if not id then
        ui.display(conn, req, 'Could not post that: ' .. err)
        return
    end
    ui.screen(conn, req, 'boards/posted')
end

-- post_text is a post as shown to a caller.
local function post_text(p)
    local about = ('#%d in %s'):format(p.id, p.area)
    if p.parent then about = about .. ', a reply to #' .. p.parent end
    if p.replies == 1 then
        about = about .. ', 1 reply'
    elseif p.replies > 1 then
        about = about .. ', ' .. p.replies .. ' replies'
    end
    return ('%s\nFrom: %s, %s\nSubject: %s\n\n%s'):format(
        about, p.author, date(p.time), subject_of(p), table.concat(p.lines, '\n'))
end

-- thread_text lists a thread, indented by depth, numbered from 1.
local function thread_text(thread)
    local out = {('--- Thread: %d posts ---'):format(#thread)}
    for i, p in ipairs(thread) do
        out[#out + 1] = ('%2d. %s#%d %s - %s'):format(
            i, ('  '):rep(math.min(p.depth, 10)), p.id, clip(subject_of(p), SUBJECT_WIDTH), p.author)
    end
    return table.concat(out, '\n')
end

-- read_post shows post id until the caller goes back: R replies, T shows
-- its thread and lets them pick another post of it to read.
local function read_post(conn, req, user, id)
    local choice
    while true do
        local p, err = board.read(id)
        if not p then
            ui.display(conn, req, 'That post is gone: ' .. err)
            return
        end
        req, choice = answer(conn, req, post_text(p), '[R)eply, T)hread, Enter] ')
        if choice == 'R' then
            write_post(conn, req, user, p.area, p)
            return
        elseif choice == 'T' then
            local thread = assert(board.thread(p.id))
            req, choice = answer(conn, req, thread_text(thread), '[#, Enter] ')
            local pick = thread[tonumber(choice)]
            if not pick then return end
            id = pick.id
        else
            return
        end
    end
end

-- listing is one page of an area's posts, newest first. Posts new to
-- user (by others, past their last-read pointer) are marked with '*'.
local function listing(user, area, posts, offset, total, last_read)
    local out = {('--- %s: %s (%d-%d of %d, newest first) ---'):format(
        area.name, area.description, offset + 1, offset + #posts, total)}
    for i, p in ipairs(posts) do
        local replies = p.replies > 0 and (' (%d)'):format(p.replies) or ''
        out[#out + 1] = ('%s%2d. %-' .. SUBJECT_WIDTH .. 's %-12s %s%s'):format(
            (p.id > last_read and p.author:lower() ~= user:lower()) and '*' or ' ', i, clip(subject_of(p), SUBJECT_WIDTH), p.author, date(p.time), replies)
    end
    return table.concat(out, '\n')
end

-- turn_page moves a listing one page on (N) or back (P), or says there
-- is no more; it returns the new offset.
local function turn_page(conn, req, choice, offset, total)
    if choice == 'N' and offset + boards.PAGE < total then
        return offset + boards.PAGE
    elseif choice == 'P' and offset > 0 then
        return math.max(0, offset - boards.PAGE)
    end
    ui.screen(conn, req, 'boards/no_more')
    return offset
end

-- area_menu pages through one area: a number reads that post, N and P
-- page, W writes a new post, M marks the whole area read, Q goes back.
local function area_menu(conn, req, user, area)
    local offset, choice = 0, nil
    while true do
        local total = assert(board.count(area.name))
        if offset >= total then offset = math.max(0, total - boards.PAGE) end
        local posts = assert(board.list(area.name, offset, boards.PAGE))
        if total == 0 then
            ui.screen(conn, req, 'boards/area_empty')
            req, choice = answer(conn, req, area.name .. ': ' .. area.description, '[W)rite, Q)uit] ')
        else
            local text = listing(user, area, posts, offset, total, assert(board.last_read(user, area.name)))
            req, choice = answer(conn, req, text, '[#, N)ext, P)rev, W)rite, M)ark read, Q)uit] ')
        end
        local n = tonumber(choice)
        if n and posts[n] then
            read_post(conn, req, user, posts[n].id)
        elseif choice == 'N' or choice == 'P' then
            offset = turn_page(conn, req, choice, offset, total)
        elseif choice == 'W' then
            write_post(conn, req, user, area.name)
            offset = 0
        elseif choice == 'M' then
            assert(board.mark_read(user, area.name))
        elseif choice == 'Q' then
            return
        else
            ui.screen(conn, req, 'boards/bad_choice')
        end
    end
end

-- new_scan shows every post the caller has not read yet, area by area,
-- oldest first, moving their last-read pointers as it goes. Enter shows
-- the next, R replies, S skips the rest of an area (marking it read), Q
-- stops.
function boards.new_scan(conn, req, user)
    define_areas()
    local shown, choice = 0, nil
    for _, area in ipairs(visible(assert(board.areas()))) do
        local count = assert(board.new_count(user, area.name))
        local seen = 0
        while seen < count do
            local p = board.next_new(user, area.name)
            if not p then break end
            seen, shown = seen + 1, shown + 1
            local header = ('=== New in %s: %d of %d ===\n'):format(area.name, seen, count)
            req, choice = answer(conn, req, header .. post_text(p), '[Enter, R)eply, S)kip area, Q)uit] ')
            if choice == 'R' then
                write_post(conn, req, user, p.area, p)
            elseif choice == 'S' then
                assert(board.mark_read(user, area.name))
                break
            elseif choice == 'Q' then
                return
            end
        end
    end
    ui.screen(conn, req, shown == 0 and 'boards/no_new' or 'boards/scan_done')
end

-- boards.menu: the message areas. A number opens that area, N scans all
-- areas for new posts, Q goes back.
function boards.menu(conn, req, user)
    define_areas()
    local choice
    while true do
        local areas = visible(assert(board.areas()))
        local out = {}
        for i, a in ipairs(areas) do
            local new = assert(board.new_count(user, a.name))
            out[#out + 1] = ('%2d. %-12s %-36s %9s%s'):format(
                i, a.name, clip(a.description, 36), count_of(a.posts, 'post'), new > 0 and (', ' .. new .. ' new') or '')
        end
        ui.screen(conn, req, 'boards/areas')
        req, choice = answer(conn, req, table.concat(out, '\n'), '[#, N)ew scan, Q)uit] ')
        local area = areas[tonumber(choice)]
        if area then
            area_menu(conn, req, user, area)
        elseif choice == 'N' then
            boards.new_scan(conn, req, user)
        elseif choice == 'Q' then
            return
        else
            ui.screen(conn, req, 'boards/bad_choice')
        end
    end
end

-- send_mail writes a mail to to (asked for when nil) with a default
-- subject; quote is the mail replied to, if any.
local function send_mail(conn, req, user, to, subject, quote)
    if not to then
        req = ui.prompt(conn, req, 'boards/mail_to')
        to = ui.trim(req.data.msg)
        -- Name@zone:net/node is FidoNet netmail (docs/fidonet.md).
        local netmail = to:match('^[^@]+@%d+:%d+/%d+[%.%d]*$') and require('ftn').enabled()
        if not netmail and not db.user_exists(to) then
            ui.screen(conn, req, 'boards/no_such_user')
            return
        end
    end
    local lines
    subject, lines, req = compose(conn, req, 'boards/mail_subject', subject or '', quote)
    if not lines then return end
    local id, err = mail.send(to, user, subject, lines)
    if not id then
        ui.display(conn, req, 'Could not send that: ' .. err)
        return
    end
    ui.screen(conn, req, 'boards/mail_sent')
end

-- delete_mail deletes the caller's mail with id.
local function delete_mail(conn, req, user, id)
    local ok, err = mail.delete(user, id)
    if ok then
        ui.screen(conn, req, 'boards/mail_deleted')
    else
        ui.display(conn, req, 'Could not delete that: ' .. err)
    end
end

-- read_mail shows one mail (marking it read): R replies, D deletes it.
local function read_mail(conn, req, user, id)
    local m, err = mail.read(user, id)
    if not m then
        ui.display(conn, req, 'Could not read that: ' .. err)
        return
    end
    local text = ('From: %s, %s\nSubject: %s\n\n%s'):format(
        m.from, date(m.time), subject_of(m), table.concat(m.lines, '\n'))
    local choice
    req, choice = answer(conn, req, text, '[R)eply, D)elete, Enter] ')
    if choice == 'R' then
        local re = m.subject:lower():sub(1, 3) == 're:' and m.subject or clip('Re: ' .. m.subject, 72)
        send_mail(conn, req, user, m.from, ui.trim(re), m.lines)
    elseif choice == 'D' then
        delete_mail(conn, req, user, m.id)
    end
end

-- mailbox is one page of the caller's mail; '*' marks unread mail.
local function mailbox(list, offset, total, unread)
    local out = {('--- %s, %d unread (%d-%d, newest first) ---'):format(
        count_of(total, 'mail'), unread, offset + 1, offset + #list)}
    for i, m in ipairs(list) do
        out[#out + 1] = ('%s%2d. %-' .. SUBJECT_WIDTH .. 's from %-12s %s'):format(
            m.read and ' ' or '*', i, clip(subject_of(m), SUBJECT_WIDTH),
            m.from, date(m.time))
    end
    return table.concat(out, '\n')
end

-- boards.mail_menu: the caller's mailbox. A number reads that mail, D
-- and a number deletes one, S sends one, N and P page, Q goes back.
function boards.mail_menu(conn, req, user)
    local offset, choice = 0, nil
    while true do
        local total, unread = mail.count(user)
        assert(total, unread)
        if offset >= total then offset = math.max(0, total - boards.PAGE) end
        local list = assert(mail.list(user, offset, boards.PAGE))
        if total == 0 then
            ui.screen(conn, req, 'boards/mail_empty')
            req, choice = answer(conn, req, '', '[S)end, Q)uit] ')
        else
            ui.screen(conn, req, 'boards/mail')
            req, choice = answer(conn, req, mailbox(list, offset, total, unread),
                '[#, D)elete #, S)end, N)ext, P)rev, Q)uit] ')
        end
        if tonumber(choice) then
            local m = list[tonumber(choice)]
            if m then
                read_mail(conn, req, user, m.id)
            else
                ui.screen(conn, req, 'boards/bad_choice')
            end
        elseif choice:match('^D') then
            local which = choice:match('^D%s*(%d+)$')
            if choice == 'D' then
                req = ui.prompt(conn, req, 'boards/delete_which')
                which = ui.trim(req.data.msg)
            end
            local m = list[tonumber(which) or 0]
            if m then
                delete_mail(conn, req, user, m.id)
            else
                ui.screen(conn, req, 'boards/bad_choice')
            end
        elseif choice == 'S' then
            send_mail(conn, req, user)
        elseif choice == 'N' or choice == 'P' then
            offset = turn_page(conn, req, choice, offset, total)
        elseif choice == 'Q' then
            return
        else
            ui.screen(conn, req, 'boards/bad_choice')
        end
    end
end

-- boards.area_names lists the names of the areas the caller may enter:
-- the Offline mail menu (offline.lua) packs and posts in these only.
function boards.area_names()
    define_areas()
    local names = {}
    for _, a in ipairs(visible(assert(board.areas()))) do names[#names + 1] = a.name end
    return names
end

return boards
