-- guess.lua: Guess the Number, a short door with a hall of fame.
--
-- Saved data: per caller 'best' (fewest guesses in a win), 'wins' and
-- 'played'; shared 'played' (games by everyone). The hall of fame is
-- game:top('best', 10, 'low').

local ui = require 'ui'
local door = require 'door'

local LOW, HIGH = 1, 100
local MAX_TRIES = 10

-- hall_of_fame shows the ten best wins and the caller's own.
local function hall_of_fame(conn, req, game)
    local lines = { 'HALL OF FAME (fewest guesses)' }
    local top = assert(game:top('best', 10, 'low'))
    if #top == 0 then
        lines[#lines + 1] = '  Nobody has won yet. Be the first!'
    end
    for _, entry in ipairs(top) do
        lines[#lines + 1] = ('  %2d. %-20s %2d'):format(entry.rank, entry.user, entry.score)
    end
    local best = game:get('best')
    if best then
        lines[#lines + 1] = ('Your best: %d guesses.'):format(best)
    end
    lines[#lines + 1] = ('Games played on this board: %d.'):format(game:get_global('played') or 0)
    ui.display(conn, req, table.concat(lines, '\n'))
end

-- won records a win in tries guesses.
local function won(conn, req, game, tries)
    local best = game:get('best')
    assert(game:add('wins', 1))
    local text = ('Got it in %d! '):format(tries)
    if not best or tries < best then
        assert(game:set('best', tries))
        text = text .. (best and 'A new personal best.' or 'Your first win.')
    else
        text = text .. ('Your best is still %d.'):format(best)
    end
    ui.display(conn, req, text)
end

-- play is one game; it returns the last request.
local function play(conn, req, game)
    local secret = door.random(LOW, HIGH)
    local tries, low, high = 0, LOW, HIGH
    assert(game:add('played', 1))
    assert(game:add_global('played', 1))
    req = ui.ask(conn, req, ("I'm thinking of a number from %d to %d. You have %d tries."):format(LOW, HIGH, MAX_TRIES), 'Guess? ')
    while true do
        local guess = ui.integer(req.data.msg, LOW, HIGH)
        if ui.trim(req.data.msg):upper() == 'Q' then
            ui.display(conn, req, ('Giving up? It was %d.'):format(secret))
            return req
        elseif not guess then
            req = ui.ask(conn, req, ('A whole number from %d to %d, please (Q gives up).'):format(LOW, HIGH), 'Guess? ')
        else
            tries = tries + 1
            if guess == secret then
                won(conn, req, game, tries)
                return req
            elseif tries == MAX_TRIES then
                ui.display(conn, req, ('Out of tries! It was %d.'):format(secret))
                return req
            end
            if guess < secret then
                low = math.max(low, guess + 1)
            else
                high = math.min(high, guess - 1)
            end
            local hint = guess < secret and 'Higher' or 'Lower'
            req = ui.ask(conn, req, ('%s! (%d-%d, try %d of %d)'):format(hint, low, high, tries + 1, MAX_TRIES), 'Guess? ')
        end
    end
end

return {
    name = 'Guess the Number',
    description = 'Find it in as few guesses as you can.',
    run = function(conn, req, game)
        ui.screen(conn, req, 'doors/guess_intro')
        repeat
            req = play(conn, req, game)
            hall_of_fame(conn, req, game)
            req = ui.ask(conn, req, 'Play again? (y/N)', '> ')
        until req.data.msg:lower():sub(1, 1) ~= 'y'
        return req
    end,
}
