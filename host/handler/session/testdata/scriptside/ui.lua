-- A script-side ui module in the original example's style: built on
-- conn:reply_json and coroutine.yield() instead of the built-in ui.
module('ui', package.seeall)

function display(conn, request, data)
    conn:reply_json(request, {type = 'screen', msg = data})
end

function ask(conn, request, data, pchar)
    conn:reply_json(request, {type = 'prompt', msg = data, pchar = pchar})
    return coroutine.yield()
end

function exit(conn, request, data)
    conn:reply_json(request, {type = 'exit', msg = data})
end
