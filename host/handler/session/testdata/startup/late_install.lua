-- An entry that calls engine.run itself, while a caller is online.
local engine = require 'engine'
return function(conn, req)
    engine.run(conn, function() end)
end
