-- offline.lua: QWK offline mail, as a conversation.
--
--     require('offline').menu(conn, req, user)
--
-- A caller chooses the message areas their packets take, downloads a
-- packet of their new posts (BBSID.QWK) to read in an offline mail
-- reader, and uploads the reader's reply packet (BBSID.REP): its replies
-- go to the areas, its private messages to the mailbox, with a report of
-- what was posted and what was refused. Their areas count as read only
-- once a packet arrived: a transfer that fails leaves them new.
--
-- The areas are those of boards.lua the caller may enter (its access
-- rules). How a packet travels is offline.send and offline.receive: as
-- shipped, ZMODEM for callers on telnet and SSH (their terminal carries
-- binary: transfers.md), signed HTTP links for the others (the browser
-- page shows them above the terminal; the classic client's callers open
-- them in a browser). Replace them to deliver packets another way.

local ui = require 'ui'
local qwk = require 'qwk'
local boards = require 'boards'
local pager = require 'pager'
local transfer = require 'transfer'

local offline = {}

-- BOARD names the board in packets: bbsid (1 to 8 letters and digits,
-- starting with a letter) names the files, BBSID.QWK and BBSID.REP.
offline.BOARD = {bbsid = 'M2BBS', name = 'm2bbs', location = 'The Internet', phone = 'telnet', sysop = 'Sysop'}

-- where says where a link opens: a path alone (the settings give no url)
-- is on the board's own web address.
local function where(link)
    if link:sub(1, 1) == '/' then return link .. '\n(on this board\'s web address; the browser page shows it as a link)' end
    return link
end

-- offline.send hands the packet (the table of qwk.build; its file is at
-- path) to the caller. It returns the new request and true once the
-- packet arrived whole, or false and why not. As shipped: by ZMODEM on
-- telnet and SSH (true once the caller's program acknowledged it all);
-- else a link to download it over HTTP, which counts as arrived only
-- once the board sent the whole packet (qwk.arrived), whatever the
-- caller says.
function offline.send(conn, req, user, path, packet)
    if conn:terminal().binary then
        local ok, why
        req, ok, why = transfer.send(conn, req, {path})
        return req, ok == true, why
    end
    local link, seconds = qwk.download_link(conn, packet.token, offline.BOARD)
    if not link then return req, false, seconds end
    ui.display(conn, req, ('Download %s (the link works for %d minutes, while you are online):\n%s'):format(
        packet.file, math.floor(seconds / 60), where(link)))
    while true do
        req = ui.ask(conn, req, 'Press Enter once the download has finished, or N if it failed: ')
        if qwk.arrived(user, packet.token) then return req, true end
        if ui.trim(req.data.msg):upper() == 'N' then return req, false, 'the download did not finish' end
        ui.display(conn, req, 'The board has not sent you the whole packet yet.')
    end
end

-- offline.receive takes a reply packet from the caller. It returns the
-- new request and the path of the file received (and, optionally, a
-- function to call once it is posted), or nil and why not. As shipped:
-- by ZMODEM on telnet and SSH (the first *.REP of what the caller's
-- program sends; anything else is refused), else a link to upload it
-- over HTTP.
function offline.receive(conn, req, user)
    if conn:terminal().binary then
        local got, why
        req, got, why = transfer.receive(conn, req)
        if not got then return req, nil, why end
        local rep
        for _, f in ipairs(got) do
            if not rep and f.name:upper():match('%.REP$') then
                rep = f
            else
                ui.display(conn, req, f.name .. ' refused: not a reply packet (BBSID.REP), or not the first.')
            end
        end
        if not rep then return req, nil, 'no reply packet (a .REP file) among what arrived' end
        return req, rep.path
    end
    local link, seconds, handle = qwk.upload_link(conn)
    if not link then return req, nil, seconds end
    ui.display(conn, req, ('Upload your reply packet %s.REP with this link (it works for %d minutes, while you are online):\n%s'):format(
        offline.BOARD.bbsid, math.floor(seconds / 60), where(link)))
    while true do
        req = ui.ask(conn, req, 'Press Enter once the upload has finished, or N to give up: ')
        local path = qwk.uploaded(handle)
        if path then return req, path, nil, function() qwk.discard(handle) end end
        if ui.trim(req.data.msg):upper() == 'N' then return req, nil, 'no reply packet arrived' end
        ui.display(conn, req, 'No reply packet has arrived yet.')
    end
end

-- show_areas lists the caller's areas, numbered, marking those their
-- packets take.
local function show_areas(conn, req, areas)
    local lines = {'Areas in your packets ([x] taken):'}
    for i, a in ipairs(areas) do
        lines[#lines + 1] = ('%2d. [%s] %s'):format(i, a.selected and 'x' or ' ', a.name)
    end
    ui.display(conn, req, table.concat(lines, '\n'))
end

-- choose_area toggles one area: every area's choice is then kept as
-- shown (until a caller chooses, their packets take all areas).
local function choose_area(conn, req, user, areas)
    req = ui.ask(conn, req, 'Number of the area to take or leave: ')
    local n = ui.integer(req.data.msg, 1, #areas)
    if not n then return req end
    for i, a in ipairs(areas) do
        local on = a.selected
        if i == n then on = not on end
        assert(qwk.select(user, a.name, on))
    end
    return req
end

-- download builds the caller's packet and sends it.
local function download(conn, req, user, names)
    local packet, err = qwk.build(user, names, offline.BOARD)
    if not packet then
        ui.display(conn, req, 'No packet: ' .. err .. '.')
        return req
    end
    local parts = {}
    if packet.mail > 0 then parts[1] = 'mail ' .. packet.mail end
    for _, a in ipairs(packet.areas) do
        if a.posts > 0 then parts[#parts + 1] = a.area .. ' ' .. a.posts end
    end
    ui.display(conn, req, ('Packet %s: %d messages (%s), %d bytes.'):format(
        packet.file, packet.messages, table.concat(parts, ', '), packet.bytes))
    local path, ferr = qwk.file(user, packet.token, offline.BOARD)
    if not path then
        ui.display(conn, req, 'No packet: ' .. ferr .. '.')
        return req
    end
    local sent, why
    req, sent, why = offline.send(conn, req, user, path, packet)
    if sent then
        local ok, err = qwk.fetched(user, packet.token)
        ui.display(conn, req, ok and 'Sent. What it holds is no longer new to you.'
            or ('Sent, but ' .. err .. ': your messages stay new.'))
    else
        ui.display(conn, req, 'Not sent: ' .. tostring(why) .. '. Your new messages stay new.')
    end
    qwk.discard(packet.token) -- the file goes whatever came of it
    return req
end

-- upload takes the caller's reply packet and posts it.
local function upload(conn, req, user, names)
    local path, why, done
    req, path, why, done = offline.receive(conn, req, user)
    if not path then
        ui.display(conn, req, 'Nothing received: ' .. tostring(why) .. '.')
        return req
    end
    local report, err = qwk.post(user, path, names, offline.BOARD, {max_lines = boards.MAX_LINES})
    if done then done() end
    if not report then
        ui.display(conn, req, 'Could not read the reply packet: ' .. err .. '.')
        return req
    end
    req = pager.show(conn, req, table.concat(report.lines, '\n'))
    return req
end

-- offline.menu is the Offline mail menu: A chooses areas, D downloads a
-- packet, U uploads replies, Enter goes back.
function offline.menu(conn, req, user)
    while true do
        local names = boards.area_names()
        local areas = assert(qwk.areas(user, names))
        show_areas(conn, req, areas)
        req = ui.ask(conn, req, ('[A]reas, [D]ownload %s.QWK, [U]pload %s.REP, or Enter to go back: '):format(
            offline.BOARD.bbsid, offline.BOARD.bbsid))
        local choice = ui.trim(req.data.msg):upper()
        if choice == 'A' then
            req = choose_area(conn, req, user, areas)
        elseif choice == 'D' then
            req = download(conn, req, user, names)
        elseif choice == 'U' then
            req = upload(conn, req, user, names)
        else
            return req
        end
    end
end

return offline
