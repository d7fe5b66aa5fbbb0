-- strict.lua: makes typos in global names fail loudly.
--
-- After require 'strict', reading a global that was never assigned raises
-- an error, and so does creating a global from inside a function. Globals
-- are declared by assigning them at the top level of a chunk (the main
-- script or a required module), the way Lua 5.1's etc/strict.lua works.
-- It relies on debug.getinfo(level, "S").what being "main" for a chunk's
-- top level and "C" for host functions, which m2bbs reports as Lua 5.1 does.

local declared = {}
local guard = getmetatable(_G) or {}
setmetatable(_G, guard)

-- kind of the function that touched the global: two levels above this one
local function toucher()
  local info = debug.getinfo(3, 'S')
  return info and info.what or 'C'
end

guard.__newindex = function(globals, name, value)
  if not declared[name] then
    local kind = toucher()
    if kind ~= 'main' and kind ~= 'C' then
      error("assignment to undeclared global '" .. tostring(name) .. "'", 2)
    end
    declared[name] = true
  end
  rawset(globals, name, value)
end

guard.__index = function(globals, name)
  if not declared[name] and toucher() ~= 'C' then
    error("undeclared global '" .. tostring(name) .. "'", 2)
  end
  return rawget(globals, name)
end
