-- keys.lua: the caller's SSH keys, as a conversation.
--
--     require('keys').menu(conn, req)
--
-- A caller pastes the public key they log in with over SSH (one line of
-- their ~/.ssh/id_ed25519.pub), lists their keys and removes one. Next
-- time they call with `ssh -i KEY name@board`, the board skips the name
-- and password prompts (bbs.lua's m2bbs asks db.preauthenticated).

local ui = require 'ui'
local sshkeys = require 'sshkeys'

local keys = {}

-- show lists the caller's keys, numbered.
local function show(conn, req, list)
    if #list == 0 then
        ui.display(conn, req, 'You have no SSH keys. Add one to log in over SSH without a password.')
        return
    end
    for i, k in ipairs(list) do
        ui.display(conn, req, ('%d. %s %s'):format(i, k.type, k.fingerprint))
    end
end

-- menu lets the caller add, list and remove keys until they go back.
function keys.menu(conn, req)
    while true do
        local list = sshkeys.list() or {}
        show(conn, req, list)
        req = ui.ask(conn, req, '[A]dd a key, [R]emove one, or Enter to go back: ')
        local choice = ui.trim(req.data.msg):upper()
        if choice == 'A' then
            req = ui.ask(conn, req, 'Paste one line of your .pub file: ', '')
            local added, err = sshkeys.add(ui.trim(req.data.msg))
            if added then
                ui.display(conn, req, 'Added ' .. added.type .. ' key ' .. added.fingerprint .. '.')
            else
                ui.display(conn, req, 'Not added: ' .. err .. '.')
            end
        elseif choice == 'R' and #list > 0 then
            req = ui.ask(conn, req, 'Number of the key to remove: ')
            local k = list[ui.integer(req.data.msg, 1, #list) or 0]
            if k then
                local ok, err = sshkeys.remove(k.fingerprint)
                ui.display(conn, req, ok and ('Removed ' .. k.fingerprint .. '.') or ('Not removed: ' .. err .. '.'))
            end
        else
            return req
        end
    end
end

return keys
