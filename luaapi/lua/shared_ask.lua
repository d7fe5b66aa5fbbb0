-- shared.ask(conn, req, text, pchar): ui.ask that an event also ends.
-- wait is the Go half: it shows the prompt, marks the caller as one an
-- event may wake, and yields. The host resumes it with the caller's next
-- request, or with a request of type 'event' that only the host makes
-- (a caller's own lines are always of type 'msg').
local wait = ...
return function(conn, req, text, pchar)
  local r = wait(conn, req, text, pchar)
  local d = type(r) == 'table' and r.data
  if type(d) == 'table' and d.type == 'event' then
    return nil, {channel = d.channel, from = d.from, text = d.msg}
  end
  return r
end
