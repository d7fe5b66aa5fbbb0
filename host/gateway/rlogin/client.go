package rlogin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// MaxRefusal bounds the words of a server that refuses a handshake, as
// Dial reads them.
const MaxRefusal = 512

// RefusedError is a server's refusal of a handshake: RLogin's error byte
// (1) and the words that follow it.
type RefusedError struct {
	Message string
}

func (e *RefusedError) Error() string { return "rlogin: refused: " + e.Message }

// Dial calls an RLogin server at addr (host:port) and says h: it returns
// the connection once the server has taken the handshake, ready for the
// caller's keys and the server's output, or a *RefusedError. ctx bounds
// the dial and the handshake.
func Dial(ctx context.Context, addr string, h Handshake) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("rlogin: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Now()) })
	defer stop()
	if _, err := nc.Write(AppendHandshake(nil, h)); err != nil {
		nc.Close()
		return nil, fmt.Errorf("rlogin: handshake: %w", err)
	}
	var first [1]byte
	if _, err := nc.Read(first[:]); err != nil {
		nc.Close()
		return nil, fmt.Errorf("rlogin: handshake: %w", err)
	}
	if first[0] == 0 {
		if !stop() { // ctx ended just now: the deadline may be set
			nc.Close()
			return nil, fmt.Errorf("rlogin: %w", ctx.Err())
		}
		return nc, nil
	}
	words := readRefusal(nc)
	nc.Close()
	if first[0] != 1 {
		words = append([]byte{first[0]}, words...)
	}
	return nil, &RefusedError{Message: string(bytes.TrimSpace(words))}
}

// readRefusal reads a refusal's words until the server hangs up, within
// MaxRefusal bytes and a second.
func readRefusal(nc net.Conn) []byte {
	_ = nc.SetReadDeadline(time.Now().Add(time.Second))
	buf := make([]byte, 0, MaxRefusal)
	for len(buf) < cap(buf) {
		n, err := nc.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			break
		}
	}
	return buf
}

// IsRefused reports whether err is a server's refusal.
func IsRefused(err error) bool {
	var r *RefusedError
	return errors.As(err, &r)
}
