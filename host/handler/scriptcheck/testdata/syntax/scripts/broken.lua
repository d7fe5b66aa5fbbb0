-- broken.lua: a missing 'then'.
local M = {}
function M.check(x)
    if x == 1
        return true
    end
end
return M
