-- shared.ask(conn, req, text, pchar): ui.ask that events also end.
-- wait is the Go half: it shows the prompt, marks the caller as one
-- events may wake, and yields. The host resumes it with the caller's next
-- request, or with a request of type 'event' that only the host makes
-- (a caller's own lines are always of type 'msg'), whose data holds the
-- list of events.
local wait = ...
return function(conn, req, text, pchar)
  local r = wait(conn, req, text, pchar)
  local d = type(r) == 'table' and r.data
  if type(d) == 'table' and d.type == 'event' then
    return nil, d.events
  end
  return r
end
