-- fails raises an error while it loads, at once.
local menu = {}
error('the board is not set up yet')
