-- wire.lua: Teleconference, the door into the live chat rooms (the file
-- sorts after the other doors, so their menu numbers stay). The rooms
-- themselves are scripts/chat.lua, also on the main menu (C).

local chat = require 'chat'

return {
    name = 'Teleconference',
    description = 'Talk live with everyone in the room.',
    run = function(conn, req, game)
        return chat.enter(conn, req, game.user)
    end,
}
