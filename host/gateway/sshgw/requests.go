package sshgw

import (
	"encoding/binary"
	"errors"
)

// Bounds on what a client may say of its terminal; larger values are
// not believed (a size becomes 0, unknown; a type is refused).
const (
	MaxTerminalType = 64
	MaxWindowSize   = 4096
)

// errBadRequest is a channel request whose payload does not parse.
var errBadRequest = errors.New("ssh: malformed request payload")

// ptyRequest is a "pty-req" (RFC 4254, 6.2): the terminal type and the
// window size in characters. The pixel sizes and terminal modes are
// read past and not kept.
type ptyRequest struct {
	Term          string
	Width, Height int
}

// parsePtyRequest reads a pty-req payload.
func parsePtyRequest(p []byte) (ptyRequest, error) {
	term, rest, ok := readString(p)
	if !ok || !validTerm(term) {
		return ptyRequest{}, errBadRequest
	}
	w, h, rest, ok := readSize(rest)
	if !ok {
		return ptyRequest{}, errBadRequest
	}
	if _, _, ok := readString(rest[8:]); !ok { // pixel sizes, then the modes
		return ptyRequest{}, errBadRequest
	}
	return ptyRequest{Term: term, Width: w, Height: h}, nil
}

// parseWindowChange reads a "window-change" payload (RFC 4254, 6.7).
func parseWindowChange(p []byte) (width, height int, err error) {
	w, h, rest, ok := readSize(p)
	if !ok || len(rest) != 8 {
		return 0, 0, errBadRequest
	}
	return w, h, nil
}

// parseEnv reads an "env" payload (RFC 4254, 6.4): a name and a value.
func parseEnv(p []byte) (name, value string, err error) {
	name, rest, ok := readString(p)
	if !ok {
		return "", "", errBadRequest
	}
	value, rest, ok = readString(rest)
	if !ok || len(rest) != 0 {
		return "", "", errBadRequest
	}
	return name, value, nil
}

// readString reads an SSH string: a 32-bit length and that many bytes.
func readString(p []byte) (s string, rest []byte, ok bool) {
	if len(p) < 4 {
		return "", nil, false
	}
	n := binary.BigEndian.Uint32(p)
	if uint64(n) > uint64(len(p)-4) {
		return "", nil, false
	}
	return string(p[4 : 4+n]), p[4+n:], true
}

// readSize reads the columns and rows of a window size, keeping 8 bytes
// of pixel sizes in rest; a size past MaxWindowSize reads as 0.
func readSize(p []byte) (width, height int, rest []byte, ok bool) {
	if len(p) < 16 {
		return 0, 0, nil, false
	}
	dim := func(v uint32) int {
		if v > MaxWindowSize {
			return 0
		}
		return int(v)
	}
	return dim(binary.BigEndian.Uint32(p)), dim(binary.BigEndian.Uint32(p[4:])), p[8:], true
}

// validTerm reports whether term may be a terminal type: short,
// printable ASCII, no spaces.
func validTerm(term string) bool {
	if len(term) > MaxTerminalType {
		return false
	}
	for i := 0; i < len(term); i++ {
		if term[i] <= ' ' || term[i] > '~' {
			return false
		}
	}
	return true
}
