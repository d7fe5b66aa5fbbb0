-- menu: menus declared as data, shown and answered for the script.
--
--   local main = menu.new {
--       title = 'MAIN MENU',          -- or screen = 'menu' to show screens/menu.txt
--       items = {
--           {key = '1', label = 'Leave a message', action = leave_message},
--           {key = 'U', label = 'User list', action = user_list, level = 'sysop'},
--           {key = 'D', label = 'Doors', menu = doors_menu},
--           {key = 'Q', label = 'Quit', action = 'quit'},
--       },
--   }
--   local req, how = menu.run(conn, req, user, main)   -- how is 'back' or 'quit'
--
-- An item's action is called as action(conn, req, user); it may return
-- 'quit' to end every menu, or 'back' to leave this one. The strings
-- 'quit' and 'back' work as actions too, and menu = another menu opens a
-- submenu. Items with a level ('new', 'user' or 'sysop', or a number from
-- 0 to 255) are shown to, and accepted from, callers with at least that
-- level only; items with an access rule (access = "level >= 20 and
-- group('cosysop')", see users.allowed) to callers who pass it only, and
-- menu.new refuses a rule that does not compile, naming its column;
-- hidden = true items are accepted but not listed. status = function()
-- returning a line (or nil) adds that line under the items each time the
-- menu is drawn; header = 'name' shows that screen's ANSI art above the
-- menu to callers who show art (ui.art), and nothing to others. A key nobody may
-- use shows the error screen ('menu_error' unless the menu names another).
-- checkpoint = true marks the menu m2bbs_resume(conn, req, user) brings a
-- caller to: each time it shows, session.checkpoint lets the caller's
-- journal start over (see host/handler/session).
local ui = require 'ui'
local session = require 'session'

local M = {}

-- levels are checked with the users module when the host provides one.
local has_users, users = pcall(require, 'users')

local function may_use(item)
    if not has_users then return true end
    if item.level and not users.allowed(item.level) then return false end
    return not item.access or users.allowed(item.access)
end

-- usable says, item by item, whether the caller may use m's items: with
-- the host's users module, in one call for the distinct rules of the
-- whole menu (so that an item added without a rule leaves the call, and a
-- caller's journal, as they were).
local function usable(m)
    local out = {}
    if has_users and users.allowed_all then
        local rules, seen = {}, {}
        local function add(rule)
            if rule and not seen[rule] then
                seen[rule] = true
                rules[#rules + 1] = rule
            end
        end
        for _, item in ipairs(m.items) do
            add(item.level)
            add(item.access)
        end
        local passes = {}
        if #rules > 0 then
            for i, ok in ipairs(users.allowed_all(rules)) do passes[rules[i]] = ok end
        end
        for i, item in ipairs(m.items) do
            out[i] = (not item.level or passes[item.level]) and (not item.access or passes[item.access]) or false
        end
        return out
    end
    for i, item in ipairs(m.items) do out[i] = may_use(item) end
    return out
end

-- declared raises msg at the line of the script that called menu.new
-- unless ok: level 1 is this function, 2 menu.new, 3 its caller.
local function declared(ok, msg)
    if not ok then error(msg, 3) end
end

-- new checks a menu's declaration and returns it.
function M.new(m)
    declared(type(m) == 'table', 'menu.new: a table expected')
    declared(type(m.items) == 'table' and #m.items > 0, 'menu.new: items expected')
    local seen = {}
    for i, item in ipairs(m.items) do
        declared(type(item.key) == 'string' and item.key ~= '', ('menu.new: item %d has no key'):format(i))
        local key = item.key:upper()
        declared(not seen[key], ('menu.new: key %q used twice'):format(item.key))
        seen[key] = true
        declared(item.action or item.menu, ('menu.new: item %q has no action or menu'):format(item.key))
        if item.access ~= nil and has_users and users.check_rule then
            local ok, err = users.check_rule(item.access)
            declared(ok, ('menu.new: item %q: %s'):format(item.key, tostring(err)))
        end
    end
    return m
end

-- render is the text of a menu without a screen: its title and the items
-- the caller may use.
function M.render(m)
    local lines = {}
    if m.title then lines[#lines + 1] = '---(((' .. m.title .. ')))---' end
    local ok = usable(m)
    for i, item in ipairs(m.items) do
        if ok[i] and not item.hidden then
            lines[#lines + 1] = item.key .. '. ' .. (item.label or '')
        end
    end
    local status = m.status and m.status()
    if status then lines[#lines + 1] = status end
    return table.concat(lines, '\n')
end

-- MAX_KEY bounds a menu choice: a longer answer matches no key, and is
-- not looked at further.
M.MAX_KEY = 16

-- find returns the item for a choice the caller may use, or nil.
function M.find(m, choice)
    choice = choice or ''
    if ui.trim then
        choice = ui.trim(choice) -- in Go: linear however long the line
    elseif #choice <= M.MAX_KEY then
        choice = choice:gsub('^%s+', ''):gsub('%s+$', '')
    end
    if #choice > M.MAX_KEY then return nil end
    choice = choice:upper()
    for _, item in ipairs(m.items) do
        if item.key:upper() == choice and may_use(item) then return item end
    end
    return nil
end

-- run shows the menu until the caller picks a way out; it returns the
-- last request and 'back' or 'quit'.
function M.run(conn, req, user, m)
    while true do
        if m.checkpoint then
            -- The caller stands where m2bbs_resume(conn, req, user) brings
            -- them: their journal can start over from here.
            session.checkpoint(conn, req, user)
        end
        if m.header and ui.art then ui.art(conn, req, m.header) end
        if m.screen then
            req = ui.prompt(conn, req, m.screen)
        else
            req = ui.ask(conn, req, M.render(m), m.pchar)
        end
        local item = M.find(m, req.data.msg)
        local outcome
        if not item then
            ui.screen(conn, req, m.error_screen or 'menu_error')
        elseif item.menu then
            req, outcome = M.run(conn, req, user, item.menu)
            if outcome == 'back' then outcome = nil end
        elseif type(item.action) == 'string' then
            outcome = item.action
        else
            outcome = item.action(conn, req, user)
        end
        if outcome == 'quit' or outcome == 'back' then
            return req, outcome
        end
    end
end

-- actions maps each key to its action function, the shape of the
-- original BBS's MAINMENU table.
function M.actions(m)
    local t = {}
    for _, item in ipairs(m.items) do
        if type(item.action) == 'function' then t[item.key] = item.action end
    end
    return t
end

return M
