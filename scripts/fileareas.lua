-- fileareas.lua: the Files menu, as a conversation.
--
--     require('fileareas').menu(conn, req)
--     require('fileareas').review(conn, req)   -- the sysop's approval queue
--
-- Callers browse the file areas (a page at a time, as many files as their
-- window is high), search names and descriptions, see what is new since
-- their last scan, read a file's details, queue files and get a link to
-- download each over HTTP, and get a link to upload a file to an area.
-- The areas and their access rules are the settings' files table
-- (docs/files.md).

local ui = require 'ui'
local files = require 'files'
local transfer = require 'transfer'

local fileareas = {}

-- size_text says a number of bytes briefly.
local function size_text(n)
    if n >= 1048576 then return ('%.1fM'):format(n / 1048576) end
    if n >= 1024 then return ('%dk'):format(math.ceil(n / 1024)) end
    return tostring(n)
end

-- where says where a link opens: a path alone (the settings give no url)
-- is on the board's web address, which the browser page knows.
local function where(link)
    if link:sub(1, 1) == '/' then return link .. '\n(on this board\'s web address; the browser page shows it as a link)' end
    return link
end

-- first_line is a description's first line, cut to width.
local function first_line(text, width)
    local line = (text or ''):match('^[^\n]*')
    if #line > width then line = line:sub(1, width - 3) .. '...' end
    return line
end

-- file_line is one numbered file of a listing.
local function file_line(i, f, width)
    local head = ('%3d. %-20s %6s '):format(i, f.name, size_text(f.size))
    return head .. first_line(f.description, math.max(width - #head, 10))
end

-- details shows one file in full and offers to queue it and to give its
-- download link.
local function details(conn, req, f)
    local text = table.concat({
        ('%s  (%s, %d bytes)'):format(f.name, f.area, f.size),
        ('Uploaded by %s on %s, downloaded %d times.'):format(f.uploader, os.date('%Y-%m-%d', f.uploaded), f.downloads),
        'SHA-256 ' .. f.sha256,
        '',
        f.description ~= '' and f.description or '(no description)',
    }, '\n')
    local zmodem = conn:terminal().binary -- telnet or SSH: ZMODEM (transfers.md)
    req = ui.ask(conn, req, text .. '\n\n[Q]ueue it, ' .. (zmodem and '[D]ownload it by ZMODEM, ' or '') ..
        '[L]ink to download it now, or Enter: ')
    local choice = ui.trim(req.data.msg):upper()
    if choice == 'D' and zmodem then
        local path, why = files.path(f.id)
        local ok
        if path then req, ok, why = transfer.send(conn, req, {path}) end
        if ok then files.downloaded(f.id) else ui.display(conn, req, 'Not sent: ' .. tostring(why) .. '.') end
    elseif choice == 'Q' then
        local ok, err = files.queue(f.id)
        ui.display(conn, req, ok and (f.name .. ' is in your download queue.') or ('Not queued: ' .. err .. '.'))
    elseif choice == 'L' then
        local link, seconds = files.download_link(conn, f.id)
        if link then
            ui.display(conn, req, ('Download %s (the link works for %d minutes, while you are online):\n%s'):format(f.name, math.floor(seconds / 60), where(link)))
        else
            ui.display(conn, req, 'No link: ' .. seconds .. '.')
        end
    end
    return req
end

-- browse shows a list of files a window at a time (fetch(offset, limit)
-- gives a page and the total); a number shows that file.
local function browse(conn, req, title, fetch)
    local term = conn:terminal()
    local per = math.max(term.height - 4, 3)
    local offset = 0
    while true do
        local list, total = fetch(offset, per)
        if not list then
            ui.display(conn, req, total .. '.')
            return req
        end
        total = total or #list
        if total == 0 then
            ui.display(conn, req, title .. ': no files.')
            return req
        end
        local lines = {('%s: files %d to %d of %d'):format(title, offset + 1, offset + #list, total)}
        for i, f in ipairs(list) do lines[#lines + 1] = file_line(offset + i, f, term.width) end
        local more = offset + #list < total
        req = ui.ask(conn, req, table.concat(lines, '\n') .. '\n' ..
            'Number for details' .. (more and ', N next page' or '') .. (offset > 0 and ', P previous' or '') .. ', Enter to go back: ')
        local answer = ui.trim(req.data.msg):upper()
        local n = tonumber(answer)
        if answer == 'N' and more then
            offset = offset + per
        elseif answer == 'P' and offset > 0 then
            offset = math.max(offset - per, 0)
        elseif n and list[n - offset] then
            req = details(conn, req, list[n - offset])
        elseif answer == '' then
            return req
        end
    end
end

-- all_at_once is a fetch for browse over a list given whole.
local function all_at_once(list)
    return function(offset, limit)
        local page = {}
        for i = offset + 1, math.min(offset + limit, #list) do page[#page + 1] = list[i] end
        return page, #list
    end
end

-- pick_area asks for one of the areas (only those keep(area) accepts).
local function pick_area(conn, req, prompt, keep)
    local areas = {}
    for _, a in ipairs(files.areas() or {}) do
        if not keep or keep(a) then areas[#areas + 1] = a end
    end
    if #areas == 0 then
        ui.display(conn, req, 'There is no file area for you here.')
        return req
    end
    local lines = {}
    for i, a in ipairs(areas) do lines[i] = ('%3d. %-16s %5d files  %s'):format(i, a.name, a.files, a.description) end
    req = ui.ask(conn, req, table.concat(lines, '\n') .. '\n' .. prompt)
    return req, areas[ui.integer(req.data.msg, 1, #areas) or 0]
end

-- queue shows the caller's download queue with a link for each file.
local function queue(conn, req)
    local list = files.queued() or {}
    if #list == 0 then
        ui.display(conn, req, 'Your download queue is empty: pick files from the areas with Q.')
        return req
    end
    local lines = {'Your download queue (each link works while you are online; a file leaves the queue once downloaded):'}
    for i, f in ipairs(list) do
        local link, why = files.download_link(conn, f.id)
        lines[#lines + 1] = ('%3d. %s (%s)'):format(i, f.name, size_text(f.size))
        lines[#lines + 1] = '     ' .. (link or why)
    end
    req = ui.ask(conn, req, table.concat(lines, '\n') .. '\nC clears the queue, Enter goes back: ')
    if ui.trim(req.data.msg):upper() == 'C' then
        for _, f in ipairs(list) do files.unqueue(f.id) end
        ui.display(conn, req, 'Your download queue is empty.')
    end
    return req
end

-- upload gives a link to upload a file to an area the caller may upload
-- to.
local function upload(conn, req)
    local area
    req, area = pick_area(conn, req, 'Upload to which area? (Enter to go back) ', function(a) return a.may_upload end)
    if not area then return req end
    if conn:terminal().binary then -- telnet or SSH: ZMODEM (transfers.md)
        local got, why
        req, got, why = transfer.receive(conn, req)
        if not got then
            ui.display(conn, req, 'Nothing received: ' .. tostring(why) .. '.')
            return req
        end
        for _, r in ipairs(got) do
            local f, err = files.ingest(area.name, r.path, r.name)
            ui.display(conn, req, f and (r.name .. ' is in; the sysop reviews uploads before others see them.')
                or (r.name .. ' refused: ' .. tostring(err) .. '.'))
        end
        return req
    end
    local link, seconds = files.upload_link(conn, area.name)
    if not link then
        ui.display(conn, req, 'No upload: ' .. seconds .. '.')
        return req
    end
    ui.display(conn, req, ('Open this link in a browser to upload to %s (it works for %d minutes, while you are online):\n%s')
        :format(area.name, math.floor(seconds / 60), where(link)))
    return req
end

-- menu is the Files menu, until the caller goes back.
function fileareas.menu(conn, req)
    while true do
        req = ui.ask(conn, req, 'Files: [A]reas, [N]ew since your last scan, [S]earch, [Q]ueue, [U]pload, Enter to go back: ')
        local choice = ui.trim(req.data.msg):upper()
        if choice == 'A' then
            local area
            req, area = pick_area(conn, req, 'Which area? (Enter to go back) ')
            if area then
                req = browse(conn, req, area.name, function(offset, limit) return files.list(area.name, offset, limit) end)
            end
        elseif choice == 'N' then
            local list = files.new() or {}
            req = browse(conn, req, 'New since your last scan', all_at_once(list))
            files.scanned()
        elseif choice == 'S' then
            req = ui.ask(conn, req, 'Search names and descriptions for: ')
            local text = ui.trim(req.data.msg):sub(1, 64)
            if text ~= '' then
                req = browse(conn, req, 'Files matching "' .. text .. '"', all_at_once(files.search(text)))
            end
        elseif choice == 'Q' then
            req = queue(conn, req)
        elseif choice == 'U' then
            req = upload(conn, req)
        else
            return req
        end
    end
end

-- review is the sysop's approval queue: each upload waiting, with its
-- details; A approves it (it is listed), R refuses it (it is deleted).
function fileareas.review(conn, req)
    while true do
        local list, err = files.waiting()
        if not list then
            ui.display(conn, req, err .. '.')
            return req
        end
        if #list == 0 then
            ui.display(conn, req, 'No upload waits for review.')
            return req
        end
        local f = list[1]
        req = ui.ask(conn, req, ('%d waiting. %s to %s by %s, %d bytes:\n%s\n[A]pprove, [R]efuse (delete), Enter to go back: ')
            :format(#list, f.name, f.area, f.uploader, f.size, f.description ~= '' and f.description or '(no description)'))
        local choice = ui.trim(req.data.msg):upper()
        if choice == 'A' then
            local ok, why = files.approve(f.id)
            ui.display(conn, req, ok and (f.name .. ' is listed.') or why .. '.')
        elseif choice == 'R' then
            local ok, why = files.reject(f.id)
            ui.display(conn, req, ok and (f.name .. ' is deleted.') or why .. '.')
        else
            return req
        end
    end
end

return fileareas
