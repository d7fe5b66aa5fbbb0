package web

import (
	"context"
	"net"
)

// PipeDial returns a Config.Dial for a front end in the same process:
// each call makes a net.Pipe, hands one end to serve (the built-in front
// end's ServeConn, which serves it as an ordinary classic caller) and
// returns the other. The served end's RemoteAddr is the WebSocket
// caller's address, so the front end reports the caller's IP to the
// host, not the pipe's.
func PipeDial(serve func(net.Conn)) func(ctx context.Context, route string, remote net.Addr) (net.Conn, error) {
	return func(ctx context.Context, route string, remote net.Addr) (net.Conn, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		near, far := net.Pipe()
		serve(remoteConn{Conn: far, remote: remote})
		return near, nil
	}
}

// remoteConn is a connection whose RemoteAddr is given.
type remoteConn struct {
	net.Conn
	remote net.Addr
}

// RemoteAddr is the address the connection stands for.
func (c remoteConn) RemoteAddr() net.Addr {
	if c.remote == nil {
		return c.Conn.RemoteAddr()
	}
	return c.remote
}
