-- board/init.lua defines the entry function.
_G.m2bbs = function(conn, req)
    ui.exit(conn, req, 'bye')
end
