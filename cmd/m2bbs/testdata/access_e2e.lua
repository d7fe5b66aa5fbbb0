-- The shipped board plus a co-sysops' corner on the main menu, for the
-- access-rule end-to-end test: item J is for callers of level 20 or more
-- in the group cosysop.
require 'bbs'

table.insert(MAIN_MENU.items, #MAIN_MENU.items, {key = 'J', label = "The co-sysops' corner.",
    access = "level >= 20 and group('cosysop')",
    action = function(conn, req) ui.display(conn, req, 'Welcome to the corner.') end})
table.insert(MAIN_MENU.items, #MAIN_MENU.items, {key = 'V', label = 'The verified lounge.',
    access = "flag('V')",
    action = function(conn, req) ui.display(conn, req, 'Welcome to the lounge.') end})
assert(menu.new(MAIN_MENU)) -- checks the new items' rules

return m2bbs
