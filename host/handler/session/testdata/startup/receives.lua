-- A main script that receives from Mongrel2 itself at load time, under
-- pcall, for ever.
local conn = require('mongrel2').new(1):new_connection('s', 'a', 'b')
while true do
    local ok, req = pcall(conn.recv_json, conn)
end
