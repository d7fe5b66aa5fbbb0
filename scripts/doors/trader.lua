-- trader.lua: Star Trader, a door you play a few jumps a day.
--
-- Buy cheap, fly, sell dear. Every trader gets TURNS_PER_DAY jumps a day;
-- the ship waits where you left it until tomorrow. Prices change daily and
-- are the same for everyone (the first trader of the day sets them).
--
-- Saved data: per caller 'ship' (a table) and 'worth' (a number, for the
-- rankings); shared 'market' (today's prices) and 'jumps' (all traders'
-- jumps ever).

local ui = require 'ui'
local door = require 'door'

local TURNS_PER_DAY = 5
local START_CREDITS = 1000
local START_HOLD = 20
local POD_PRICE, POD_SIZE = 800, 10

local PORTS = { 'Terra', 'Mars', 'Titan' }
local GOODS = { 'ore', 'food', 'tech' }
-- BASE[port][good] is the price a port trades around.
local BASE = {
    Terra = { ore = 60, food = 20, tech = 150 },
    Mars  = { ore = 25, food = 45, tech = 120 },
    Titan = { ore = 45, food = 35, tech = 70 },
}

-- market returns today's prices, setting them if this is the day's first
-- trader: each port's base price, 30% either way. (Two traders arriving at
-- the very same moment of a new day may each roll prices; the later roll
-- is the one saved, and the other sees it on their next visit.)
local function market(game)
    local today = door.today()
    local m = game:get_global('market')
    if m and m.day == today then
        return m.prices
    end
    local prices = {}
    for _, port in ipairs(PORTS) do
        prices[port] = {}
        for _, good in ipairs(GOODS) do
            prices[port][good] = math.floor(BASE[port][good] * door.random(70, 130) / 100)
        end
    end
    assert(game:set_global('market', { day = today, prices = prices }))
    return prices
end

local function new_ship()
    return {
        credits = START_CREDITS, capacity = START_HOLD, port = 'Terra',
        hold = { ore = 0, food = 0, tech = 0 }, day = '', days = 0, turns = 0,
    }
end

local function cargo(ship)
    local n = 0
    for _, good in ipairs(GOODS) do n = n + ship.hold[good] end
    return n
end

-- worth is credits plus the cargo at today's prices where the ship is.
local function worth(ship, prices)
    local total = ship.credits
    for _, good in ipairs(GOODS) do
        total = total + ship.hold[good] * prices[ship.port][good]
    end
    return total
end

local function save(game, ship, prices)
    assert(game:set('ship', ship))
    assert(game:set('worth', worth(ship, prices)))
end

-- pick matches what the caller typed against a list by number or by the
-- start of a name ('t' is Terra, 'ti' Titan, '2' the second).
local function pick(list, typed)
    typed = ui.trim(typed):lower()
    if typed == '' then return nil end
    local n = tonumber(typed)
    if n then return list[n] end
    for _, item in ipairs(list) do
        if item:lower():sub(1, #typed) == typed then return item end
    end
    return nil
end

local function status(ship, prices)
    local held = {}
    for _, good in ipairs(GOODS) do
        if ship.hold[good] > 0 then held[#held + 1] = ('%s %d'):format(good, ship.hold[good]) end
    end
    local here = prices[ship.port]
    return table.concat({
        ('Day %d at %s. Jumps left today: %d. Credits: %d.'):format(ship.days, ship.port, ship.turns, ship.credits),
        ('Hold %d/%d%s'):format(cargo(ship), ship.capacity, #held > 0 and ': ' .. table.concat(held, ', ') or ' (empty)'),
        ('Prices at %s: ore %d, food %d, tech %d.'):format(ship.port, here.ore, here.food, here.tech),
        '[B]uy [S]ell [J]ump [U]pgrade hold [R]ankings [Q]uit',
    }, '\n')
end

-- ask_amount asks how many (0 to most) and returns the number, or nil.
local function ask_amount(conn, req, text, most)
    req = ui.ask(conn, req, ('%s (0-%d)'):format(text, most), 'How many? ')
    local n = ui.integer(req.data.msg, 0, most)
    if not n then
        ui.display(conn, req, 'Never mind.')
        return nil, req
    end
    return n, req
end

local function buy(conn, req, ship, prices)
    req = ui.ask(conn, req, 'Buy what? ore, food or tech', 'Buy? ')
    local good = pick(GOODS, req.data.msg)
    if not good then ui.display(conn, req, 'Never mind.') return req end
    local price = prices[ship.port][good]
    local most = math.min(math.floor(ship.credits / price), ship.capacity - cargo(ship))
    local n
    n, req = ask_amount(conn, req, ('%s costs %d here.'):format(good, price), most)
    if n and n > 0 then
        ship.credits = ship.credits - n * price
        ship.hold[good] = ship.hold[good] + n
        ui.display(conn, req, ('Loaded %d %s for %d credits.'):format(n, good, n * price))
    end
    return req
end

local function sell(conn, req, ship, prices)
    req = ui.ask(conn, req, 'Sell what? ore, food or tech', 'Sell? ')
    local good = pick(GOODS, req.data.msg)
    if not good then ui.display(conn, req, 'Never mind.') return req end
    local price = prices[ship.port][good]
    local n
    n, req = ask_amount(conn, req, ('%s fetches %d here.'):format(good, price), ship.hold[good])
    if n and n > 0 then
        ship.credits = ship.credits + n * price
        ship.hold[good] = ship.hold[good] - n
        ui.display(conn, req, ('Sold %d %s for %d credits.'):format(n, good, n * price))
    end
    return req
end

-- jump_event is what happens on a jump, by a roll of door.random(1, 10).
local function jump_event(ship)
    local roll = door.random(1, 10)
    if roll == 1 and cargo(ship) > 0 then
        local lost = {}
        for _, good in ipairs(GOODS) do
            local n = math.ceil(ship.hold[good] / 4)
            if n > 0 then
                ship.hold[good] = ship.hold[good] - n
                lost[#lost + 1] = ('%d %s'):format(n, good)
            end
        end
        return 'Pirates! They took ' .. table.concat(lost, ', ') .. '.'
    elseif roll == 2 then
        local good = GOODS[door.random(1, #GOODS)]
        local n = math.min(door.random(2, 5), ship.capacity - cargo(ship))
        if n > 0 then
            ship.hold[good] = ship.hold[good] + n
            return ('A drifting wreck: you salvage %d %s.'):format(n, good)
        end
    end
    return 'A quiet trip.'
end

local function jump(conn, req, game, ship)
    if ship.turns <= 0 then
        ui.screen(conn, req, 'doors/trader_no_fuel')
        return req
    end
    local others = {}
    for _, port in ipairs(PORTS) do
        if port ~= ship.port then others[#others + 1] = port end
    end
    req = ui.ask(conn, req, ('Jump to %s?'):format(table.concat(others, ' or ')), 'Jump? ')
    local to = pick(others, req.data.msg)
    if not to then ui.display(conn, req, 'Staying put.') return req end
    ship.turns = ship.turns - 1
    ship.port = to
    local traffic = assert(game:add_global('jumps', 1))
    ui.display(conn, req, ('%s You dock at %s. (Jump %d in the galaxy.)'):format(jump_event(ship), to, traffic))
    return req
end

local function upgrade(conn, req, ship)
    if ship.credits < POD_PRICE then
        ui.display(conn, req, ('A cargo pod (+%d hold) costs %d credits. Come back richer.'):format(POD_SIZE, POD_PRICE))
        return req
    end
    req = ui.ask(conn, req, ('Buy a cargo pod (+%d hold) for %d credits? (y/N)'):format(POD_SIZE, POD_PRICE), '> ')
    if req.data.msg:lower():sub(1, 1) == 'y' then
        ship.credits = ship.credits - POD_PRICE
        ship.capacity = ship.capacity + POD_SIZE
        ui.display(conn, req, ('Your hold now takes %d.'):format(ship.capacity))
    end
    return req
end

local function rankings(conn, req, game)
    local lines = { 'RICHEST TRADERS' }
    for _, entry in ipairs(assert(game:top('worth', 10))) do
        lines[#lines + 1] = ('  %2d. %-20s %8d'):format(entry.rank, entry.user, entry.score)
    end
    local online = door.who()
    if #online > 0 then
        lines[#lines + 1] = 'Online now: ' .. table.concat(online, ', ')
    end
    ui.display(conn, req, table.concat(lines, '\n'))
end

-- start_day refuels a ship that has not flown today.
local function start_day(conn, req, ship)
    local today = door.today()
    if ship.day == today then return end
    ship.day, ship.turns, ship.days = today, TURNS_PER_DAY, ship.days + 1
    ui.display(conn, req, ('Day %d of your career. Fuel for %d jumps.'):format(ship.days, TURNS_PER_DAY))
end

return {
    name = 'Star Trader',
    description = 'Buy low, jump, sell high. A few jumps a day.',
    run = function(conn, req, game)
        local prices = market(game)
        local ship = game:get('ship')
        if not ship then
            ship = new_ship()
            ui.screen(conn, req, 'doors/trader_intro')
        end
        start_day(conn, req, ship)
        save(game, ship, prices)
        while true do
            req = ui.ask(conn, req, status(ship, prices), 'Command? ')
            local command = ui.trim(req.data.msg):upper():sub(1, 1)
            if command == 'B' then
                req = buy(conn, req, ship, prices)
            elseif command == 'S' then
                req = sell(conn, req, ship, prices)
            elseif command == 'J' then
                req = jump(conn, req, game, ship)
            elseif command == 'U' then
                req = upgrade(conn, req, ship)
            elseif command == 'R' then
                rankings(conn, req, game)
            elseif command == 'Q' then
                ui.display(conn, req, ('Docked at %s. Worth %d credits. Fly safe.'):format(ship.port, worth(ship, prices)))
                return req
            end
            save(game, ship, prices)
        end
    end,
}
