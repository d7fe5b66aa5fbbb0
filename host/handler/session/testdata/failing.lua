-- Fails when the caller answers "crash", ends on "bye"; otherwise echoes.
require 'ui'

function m2bbs(conn, req)
    while true do
        req = ui.ask(conn, req, 'say something')
        if req.data.msg == 'crash' then
            local t = nil
            print(t.field) -- line 9: attempt to index a nil value
        end
        if req.data.msg == 'bye' then return end
        ui.display(conn, req, 'echo: ' .. req.data.msg)
    end
end
