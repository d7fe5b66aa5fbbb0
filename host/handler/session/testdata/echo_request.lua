-- Shows the caller what their request looked like.
function m2bbs(conn, req)
    conn:reply_json(req, {type = 'screen', msg = table.concat({
        req.conn_id, req.sender, req.path, req.headers.METHOD, req.headers.PATH,
        req.body, req.data.type, req.data.msg, tostring(req.data.extra.n),
    }, '|')})
end
