-- Error positions, as Lua 5.1 gives them: levels.golden is lua5.1's output
-- of this script, the host must print the same (errpos_test.go).
local function show(...)
  local out = {}
  for i = 1, select('#', ...) do
    local v = select(i, ...)
    out[#out + 1] = type(v) == 'table' and 'a table' or tostring(v)
  end
  print(table.concat(out, '\t'))
end
-- where shows only the position of an error whose wording is gopher-lua's.
local function where(ok, msg)
  return ok, msg and (string.match(msg, '^[^:]*:%d+:') or '(no position)')
end
local function f0() error('l0', 0) end
local function f1() error('l1', 1) end
local function f2() error('l2', 2) end
local function f3() error('l3', 3) end
local function fdefault() error('default') end
local function call(f) f() end
local function call2(f) call(f) end
show('level 0', pcall(f0))
show('level 1', pcall(f1))
show('default level', pcall(fdefault))
show('level 2 from pcall', pcall(f2))
show('level 3 from pcall', pcall(f3))
show('level 2', pcall(function() f2() end))
show('level 3', pcall(function() call(f3) end))
show('level 2 via call', pcall(function() call(f2) end))
show('level 3 via call2', pcall(function() call2(f3) end))
show('level 9', pcall(function() error('l9', 9) end))
show('tail call', pcall(function() return f2() end))
show('tail call level 3', pcall(function() return f3() end))
show('no message', pcall(function() error() end))
show('a number', pcall(function() error(12, 1) end))
show('a number level 2', pcall(function() local function g() error(12, 2) end g() end))
show('a table', pcall(function() error({}) end))
show('assert', pcall(function() assert(false, 'y') end))
show('assert default', pcall(function() assert(false) end))
show('assert direct', pcall(assert, false, 'x'))
show('error direct', pcall(error, 'e', 1))
show('error direct 2', pcall(error, 'e', 2))
show('xpcall', xpcall(function() f2() end, function(m) return 'handled: ' .. m end))
show('xpcall 1', xpcall(function() error('x1') end, function(m) return 'handled: ' .. m end))
show('nested pcall', pcall(function() return pcall(function() f2() end) end))
show('nested pcall 3', pcall(function() return pcall(f3) end))
show('coroutine level 2', coroutine.resume(coroutine.create(function() f2() end)))
show('coroutine base', coroutine.resume(coroutine.create(f2)))
show('wrap level 3', pcall(coroutine.wrap(function() f3() end)))
local idx = setmetatable({}, {__index = function(t, k) error('no field ' .. k, 2) end})
show('__index level 2', pcall(function() return idx.x end))
show('__index level 2 again', pcall(function()
  local a = 1
  return idx.y
end))
local idx3 = setmetatable({}, {__index = function(t, k) error('no field ' .. k, 3) end})
show('__index level 3', pcall(function() return idx3.x end))
local add = setmetatable({}, {__add = function() error('add', 2) end})
show('__add level 2', pcall(function() return add + 1 end))
local nidx = setmetatable({}, {__newindex = function(t, k) error('read only ' .. k, 2) end})
show('__newindex level 2', pcall(function() nidx.z = 1 end))
local call_mt = setmetatable({}, {__call = function() error('called', 2) end})
show('__call level 2', pcall(function() call_mt() end))
local ts = setmetatable({}, {__tostring = function() error('ts', 2) end})
show('__tostring via tostring', pcall(function() return tostring(ts) end))
show('gsub callback', pcall(function() return ('a'):gsub('a', function() error('gs', 2) end) end))
show('gsub callback 3', pcall(function() return ('a'):gsub('a', function() error('gs', 3) end) end))
show('sort comparator', pcall(function() table.sort({3, 2, 1}, function() error('cmp', 2) end) end))
show('bad argument', where(pcall(function() string.rep() end)))
show('bad method argument', where(pcall(function() ('x'):rep() end)))
show('arithmetic', where(pcall(function() local t = {} return t + 1 end)))
show('loadstring 2', pcall(function() assert(loadstring('error("ls", 2)', '=chunk'))() end))
local cat = setmetatable({}, {__concat = function() error('cat', 2) end})
show('__concat level 2', pcall(function() return 'a' .. cat end))
show('__concat level 3', pcall(function() return 'a' .. cat .. 'b' end))
local cat3 = setmetatable({}, {__concat = function() error('cat', 3) end})
show('__concat level 3 in a function', pcall(function()
  local function f() return 'a' .. cat3 end
  local s = f()
end))
show('bad argument direct', where(pcall(string.rep)))
show('bad argument direct in xpcall', xpcall(string.rep, function(m) return select(2, where(false, m)) end))
show('xpcall handler results', xpcall(error, function(m) return 'one', 'two' end))
show('an error through coroutine.wrap', pcall(function()
  local co = coroutine.wrap(function()
    error('w')
  end)
  co()
end))
show('a table through coroutine.wrap', pcall(coroutine.wrap(function() error({}) end)))
local function tail_error() return error('te', 2) end
show('error tail-called', pcall(function()
  tail_error()
end))
show('a % in the message', pcall(function() error('100%s %d', 1) end))
show('assert with no argument', where(pcall(function() assert() end)))
show('assert passes its arguments', assert(1, 2, 3))
