package rlogin

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Limits of the handshake, in bytes, each without its NUL. RFC 1282 sets
// none; these leave room for what door networks send (a shared secret in
// the client user name, "board:user", a terminal type and speed) and no
// more.
const (
	MaxClientUser = 128
	MaxServerUser = 64
	MaxTerminal   = 64
	// MaxHandshake is the most bytes a whole handshake may take: the
	// leading NUL, the three fields and their NULs.
	MaxHandshake = 1 + MaxClientUser + 1 + MaxServerUser + 1 + MaxTerminal + 1
)

// ErrIncomplete means the bytes given hold no whole handshake yet: read
// more (within MaxHandshake).
var ErrIncomplete = errors.New("rlogin: handshake incomplete")

// HandshakeError is a handshake that breaks the protocol or its limits.
// Offset is where in the bytes given the problem was found.
type HandshakeError struct {
	Offset int
	Why    string
}

func (e *HandshakeError) Error() string {
	return fmt.Sprintf("rlogin: bad handshake at byte %d: %s", e.Offset, e.Why)
}

// Handshake is what an RLogin client says first (RFC 1282):
// "\0client-user\0server-user\0terminal/speed\0".
type Handshake struct {
	// ClientUser is the user on the client's machine. Door networks put a
	// password there; m2bbs reads a remote board's shared secret from it.
	ClientUser string
	// ServerUser is the account asked for here: for m2bbs "board:user".
	ServerUser string
	// Terminal is the terminal type ("ansi-bbs", "xterm"), and Speed the
	// line speed in bits per second (0 when not given or not a number).
	Terminal string
	Speed    int
}

// ParseHandshake reads a handshake from the start of b. It returns the
// handshake and how many bytes it took (what follows is the caller's
// first keystrokes), ErrIncomplete if b holds only part of one, or a
// *HandshakeError.
func ParseHandshake(b []byte) (Handshake, int, error) {
	if len(b) == 0 {
		return Handshake{}, 0, ErrIncomplete
	}
	if b[0] != 0 {
		return Handshake{}, 0, &HandshakeError{0, "does not start with a NUL"}
	}
	limits := [3]int{MaxClientUser, MaxServerUser, MaxTerminal}
	names := [3]string{"client user name", "server user name", "terminal type"}
	var fields [3]string
	pos := 1
	for i := range fields {
		end := bytes.IndexByte(b[pos:min(len(b), pos+limits[i]+1)], 0)
		if end < 0 {
			if len(b)-pos > limits[i] {
				return Handshake{}, 0, &HandshakeError{pos, fmt.Sprintf("%s longer than %d bytes", names[i], limits[i])}
			}
			return Handshake{}, 0, ErrIncomplete
		}
		field := b[pos : pos+end]
		if at := badByte(field); at >= 0 {
			return Handshake{}, 0, &HandshakeError{pos + at, names[i] + " holds a control character"}
		}
		fields[i] = string(field)
		pos += end + 1
	}
	h := Handshake{ClientUser: fields[0], ServerUser: fields[1], Terminal: fields[2]}
	if term, speed, ok := strings.Cut(fields[2], "/"); ok {
		h.Terminal = term
		if n, err := strconv.Atoi(speed); err == nil && n > 0 {
			h.Speed = n
		}
	}
	return h, pos, nil
}

// badByte is the index of the first control byte (C0 or DEL) in field,
// or -1.
func badByte(field []byte) int {
	for i, c := range field {
		if c < 0x20 || c == 0x7f {
			return i
		}
	}
	return -1
}

// AppendHandshake appends h as a client sends it. Speed 0 is sent as
// 9600, the speed RFC 1282's examples use.
func AppendHandshake(dst []byte, h Handshake) []byte {
	speed := h.Speed
	if speed <= 0 {
		speed = 9600
	}
	dst = append(dst, 0)
	dst = append(dst, h.ClientUser...)
	dst = append(dst, 0)
	dst = append(dst, h.ServerUser...)
	dst = append(dst, 0)
	dst = append(dst, h.Terminal...)
	dst = append(dst, '/')
	dst = strconv.AppendInt(dst, int64(speed), 10)
	return append(dst, 0)
}
