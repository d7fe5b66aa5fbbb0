-- A module in the Lua 5.1 style: module() makes the file's globals the
-- module's fields.
module('greeter', package.seeall)

GREETING = 'Hello'

function greet(name)
  return GREETING .. ', ' .. name .. '!'
end
