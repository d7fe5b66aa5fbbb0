function m2bbs(conn, req
