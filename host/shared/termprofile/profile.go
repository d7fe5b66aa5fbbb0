// Package termprofile is what m2bbs knows of one caller's terminal: its
// type, window size, character set and whether it shows ANSI codes. The
// gateways (telnet, and SSH) fill a Profile from what the client says
// (TTYPE and NAWS, TERM and window-change), pass it to the host with the
// caller's requests (Profile.AppendJSON), and translate at the edge: the
// host always sends UTF-8, which Encode turns into the caller's bytes,
// and Decode turns what the caller types back into UTF-8.
//
// Detection (Detect) knows the names BBS terminals and modern emulators
// send; a name it does not know leaves the encoding unknown, and the
// edge sends UTF-8 until the caller says otherwise.
//
// A gateway that dials the board as a classic client (host/gateway/telnet
// does; an SSH gateway would fill the same Profile from pty-req,
// window-change and TERM) keeps one Profile per caller, built with
// WithType and the window size, and adds it to every request it sends
// with classic.AppendMember(req, "terminal", p.AppendJSON(nil)). It
// translates each message with Encode before it writes it, and what the
// caller types with Decode before editing it; a message whose Encoding is
// set (a script chose it: conn:set_encoding) changes the Profile's.
package termprofile

import (
	"strconv"
	"strings"
)

// Encoding is a caller's character set.
type Encoding string

// The encodings a caller can have. The zero Encoding is unknown: the edge
// sends UTF-8.
const (
	UTF8  Encoding = "utf-8"
	CP437 Encoding = "cp437"
	ASCII Encoding = "ascii"
)

// ParseEncoding returns the Encoding named by name ("utf-8", "utf8",
// "cp437", "ibm437", "ascii", any case); ok is false for another name.
func ParseEncoding(name string) (enc Encoding, ok bool) {
	switch strings.ToLower(name) {
	case "utf-8", "utf8":
		return UTF8, true
	case "cp437", "ibm437", "437":
		return CP437, true
	case "ascii", "us-ascii":
		return ASCII, true
	}
	return "", false
}

// Limits on a Profile's fields (Clean).
const (
	// MaxSize is the largest width or height kept; a larger one is unknown.
	MaxSize = 1000
	// MaxType is the longest terminal type name kept (RFC 1091's 40).
	MaxType = 40
)

// Defaults a script is told when the size is unknown.
const (
	DefaultWidth  = 80
	DefaultHeight = 24
)

// Profile is one caller's terminal. Zero fields are unknown.
type Profile struct {
	// Type is the terminal type the client named ("xterm-256color",
	// "ANSI"), as it was sent.
	Type string
	// Width and Height are the window's size in characters.
	Width, Height int
	// Encoding is the character set the caller's terminal shows.
	Encoding Encoding
	// NoANSI says the terminal shows no ANSI colour or cursor codes (a
	// dumb terminal). It is negative so that the zero Profile is a
	// colour terminal, as callers are by default.
	NoANSI bool
	// Keys says the caller's gateway can do keystroke mode (a message of
	// type "keys": raw keystrokes in, raw terminal output out; see
	// docs/clients.md): telnet with the gateway echoing, SSH with a pty,
	// the browser page. The classic client never says it.
	Keys bool
	// Binary says the caller's gateway can do binary stream mode (a
	// message of type "bin": raw bytes both ways, for a file transfer;
	// see docs/clients.md): telnet and SSH. The classic client and the
	// browser page never say it.
	Binary bool
}

// Clean returns p with what a Profile may not hold made unknown: a size
// outside 1..MaxSize, a type longer than MaxType or with characters other
// than printable ASCII, an encoding that is not one of the three.
func (p Profile) Clean() Profile {
	if p.Width < 1 || p.Width > MaxSize {
		p.Width = 0
	}
	if p.Height < 1 || p.Height > MaxSize {
		p.Height = 0
	}
	if len(p.Type) > MaxType || strings.IndexFunc(p.Type, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
		p.Type = ""
	}
	if _, ok := ParseEncoding(string(p.Encoding)); !ok {
		p.Encoding = ""
	} else {
		p.Encoding, _ = ParseEncoding(string(p.Encoding))
	}
	return p
}

// WithType returns p with terminal type name, and the encoding and ANSI
// flag Detect finds for it when it knows the name (else p's own).
func (p Profile) WithType(name string) Profile {
	p.Type = name
	if enc, ansi, ok := Detect(name); ok {
		p.Encoding, p.NoANSI = enc, !ansi
	}
	return p
}

// AppendJSON appends p as the JSON object gateways send the host in a
// request's "terminal" member: {"type":…,"width":…,"height":…,
// "encoding":…,"ansi":…,"keys":true,"bin":true}, unknown fields left
// out (keys and bin only when set).
func (p Profile) AppendJSON(dst []byte) []byte {
	p = p.Clean()
	dst = append(dst, '{')
	sep := func() {
		if dst[len(dst)-1] != '{' {
			dst = append(dst, ',')
		}
	}
	if p.Type != "" { // printable ASCII: Go's quoting is JSON's
		sep()
		dst = append(dst, `"type":`...)
		dst = strconv.AppendQuote(dst, p.Type)
	}
	if p.Width > 0 {
		sep()
		dst = append(dst, `"width":`...)
		dst = strconv.AppendInt(dst, int64(p.Width), 10)
	}
	if p.Height > 0 {
		sep()
		dst = append(dst, `"height":`...)
		dst = strconv.AppendInt(dst, int64(p.Height), 10)
	}
	if p.Encoding != "" {
		sep()
		dst = append(dst, `"encoding":"`...)
		dst = append(dst, p.Encoding...)
		dst = append(dst, '"')
	}
	sep()
	dst = append(dst, `"ansi":`...)
	dst = strconv.AppendBool(dst, !p.NoANSI)
	if p.Keys {
		dst = append(dst, `,"keys":true`...)
	}
	if p.Binary {
		dst = append(dst, `,"bin":true`...)
	}
	return append(dst, '}')
}
