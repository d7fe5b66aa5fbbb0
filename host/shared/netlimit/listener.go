package netlimit

import (
	"net"
	"sync"
)

// Listener is a net.Listener whose Accept returns only the connections a
// Limiter admits; the others are handed to the refusal function, which
// tells the caller why (or not) and closes them, and Accept goes on. An
// admitted connection is released when it is closed.
type Listener struct {
	net.Listener
	limiter *Limiter
	refuse  func(net.Conn, Verdict)
}

// NewListener limits ln with l. refuse is called, on Accept's goroutine,
// for each connection l refuses, and must close it without blocking long
// (a write with a short deadline).
func NewListener(ln net.Listener, l *Limiter, refuse func(net.Conn, Verdict)) *Listener {
	return &Listener{Listener: ln, limiter: l, refuse: refuse}
}

// Accept returns the next admitted connection.
func (ln *Listener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		verdict, release := ln.limiter.Admit(c.RemoteAddr())
		if verdict != Admitted {
			ln.refuse(c, verdict)
			continue
		}
		return &admittedConn{Conn: c, release: release}, nil
	}
}

// admittedConn releases its admission once, when it is first closed.
type admittedConn struct {
	net.Conn
	release func()
	once    sync.Once
}

// Close closes the connection and releases its admission.
func (c *admittedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
