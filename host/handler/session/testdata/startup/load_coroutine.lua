-- A coroutine made while the script loads, resumed by callers later.
require 'ui'
local next_number = coroutine.wrap(function()
    local n = 0
    while true do
        n = n + 1
        coroutine.yield(n)
    end
end)

return function(conn, req)
    ui.display(conn, req, 'caller number ' .. next_number())
end
