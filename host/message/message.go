// Package message is the one message a BBS sends its callers: a screen to
// show, a prompt to answer, or the goodbye before the line closes. Scripts
// build messages (luaapi's ui module and conn:reply_json), the host hands
// them to the edge, and the edge frames each once for its caller: the
// classic client's base64(JSON)+NUL or bare JSON+NUL, a WebSocket text
// frame, telnet bytes. The gateways read them back with Decode.
//
// On the wire a message is a JSON object with string members "type",
// "msg" and "pchar" and a boolean "secret" (and "encoding" when a script
// chose its caller's character set), in key order, as the classic
// client of 2010 expects: {"msg":"Your name?","pchar":"> ","type":"prompt"}.
package message

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"
)

// Types the classic client understands.
const (
	TypeScreen = "screen" // show Msg
	TypePrompt = "prompt" // show Msg, then read one line after PChar
	TypeExit   = "exit"   // show Msg and hang up
)

// TypeKeys is keystroke mode (docs/clients.md). From the host, a message
// of this type carries terminal output (ANSI allowed) that the caller's
// gateway writes as it is, translating only the character set, and puts
// the gateway in keystroke mode: no local echo or line editing, each
// keystroke (or burst of them) sent at once as a request of this type,
// {"type":"keys","msg":KEYS}. A prompt or an exit ends keystroke mode;
// a screen (a page, a time warning) is shown and the mode goes on. Only
// a gateway whose terminal profile says "keys" gets one.
const TypeKeys = "keys"

// TypeBinary is binary stream mode (docs/clients.md): a message of this
// type carries raw bytes, base64 in Msg (host/shared/binstream), both
// ways. From the host it puts the caller's gateway in binary stream mode
// (telnet BINARY negotiated, IAC doubled; SSH's channel bytes as they
// are) and the gateway writes the bytes as they are; what the caller
// sends meanwhile comes back in requests of this type. TypeBinaryEnd
// (or an exit) ends the mode. Only a gateway whose terminal profile says
// "bin" gets one.
const TypeBinary = "bin"

// TypeBinaryEnd ends binary stream mode (the transfer is over): the
// gateway shows the messages it held meanwhile. While the mode is on a
// gateway holds every message but bin and exit (a sysop's watch notice,
// a page): written into the transfer they would break it.
const TypeBinaryEnd = "binend"

// Message is one message to a caller; its fields are named after the
// members they are written as. Msg is always written ("msg":""
// when empty, which clients show as nothing); the other fields are not
// written when left at their zero value.
type Message struct {
	// Type is TypeScreen, TypePrompt, TypeExit, or a script's own type.
	Type string
	// Msg is the text the caller is shown.
	Msg string
	// PChar is the prompt character, shown after a prompt's text.
	PChar string
	// Secret marks a prompt whose answer the caller's terminal must not
	// show: a password.
	Secret bool
	// Encoding, when set, is the character set a script chose for its
	// caller (conn:set_encoding: "utf-8", "cp437" or "ascii"): the edge
	// translates this message and the ones after it into it.
	Encoding string
	// Extra holds the members a script put in a message besides the
	// above, in key order, each value already JSON. A member named like a
	// field whose value the field cannot hold (a number as "msg", an
	// empty string as "pchar") is kept here too, as the script wrote it;
	// an Extra "msg" replaces Msg.
	Extra []Member
}

// Member is one member of a message's JSON object that has no field of
// its own.
type Member struct {
	Key   string
	Value json.RawMessage
}

// Prompt returns a prompt showing text and waiting after pchar.
func Prompt(text, pchar string) Message {
	return Message{Type: TypePrompt, Msg: text, PChar: pchar}
}

// Screen returns a screen showing text.
func Screen(text string) Message { return Message{Type: TypeScreen, Msg: text} }

// Keys returns the keystroke-mode message that writes out to the
// caller's terminal as it is (see TypeKeys).
func Keys(out string) Message { return Message{Type: TypeKeys, Msg: out} }

// Binary returns the binary stream mode message carrying b64, the bytes
// in standard base64 (see TypeBinary).
func Binary(b64 string) Message { return Message{Type: TypeBinary, Msg: b64} }

// Exit returns the message that shows text and ends the call.
func Exit(text string) Message { return Message{Type: TypeExit, Msg: text} }

// AppendJSON appends m as one JSON object to dst: its members in key
// order (fields and Extra merged), strings escaped as AppendString does.
// It is the only encoder of messages.
func (m *Message) AppendJSON(dst []byte) []byte {
	dst = slices.Grow(dst, m.sizeHint())
	dst = append(dst, '{')
	first := true
	extra := m.Extra
	member := func(key string) {
		// Extra members sorting before key go first.
		for len(extra) > 0 && extra[0].Key < key {
			dst = appendMember(dst, &first, extra[0].Key)
			dst = append(dst, extra[0].Value...)
			extra = extra[1:]
		}
		dst = appendMember(dst, &first, key)
	}
	if m.Encoding != "" && !m.hasExtra("encoding") {
		member("encoding")
		dst = AppendString(dst, m.Encoding)
	}
	if !m.hasExtra("msg") {
		member("msg")
		dst = AppendString(dst, m.Msg)
	}
	if m.PChar != "" {
		member("pchar")
		dst = AppendString(dst, m.PChar)
	}
	if m.Secret {
		member("secret")
		dst = append(dst, "true"...)
	}
	if m.Type != "" {
		member("type")
		dst = AppendString(dst, m.Type)
	}
	for _, e := range extra {
		dst = appendMember(dst, &first, e.Key)
		dst = append(dst, e.Value...)
	}
	return append(dst, '}')
}

// sizeHint is about the length of m's JSON, so that AppendJSON grows its
// buffer once: the members, their quotes and keys, and room for a few
// escapes.
func (m *Message) sizeHint() int {
	n := len(m.Type) + len(m.Msg) + len(m.PChar) + len(m.Encoding) + len(`{"msg":"","pchar":"","secret":true,"type":""}`)
	for _, e := range m.Extra {
		n += len(e.Key) + len(e.Value) + 4
	}
	return n + n/8
}

// MarshalJSON makes encoding/json write m as AppendJSON does (then
// escaping <, > and & as it always does).
func (m Message) MarshalJSON() ([]byte, error) { return m.AppendJSON(nil), nil }

// hasExtra reports whether Extra has a member named key.
func (m *Message) hasExtra(key string) bool {
	for _, e := range m.Extra {
		if e.Key == key {
			return true
		}
	}
	return false
}

// appendMember appends a member's key and colon, after a comma unless it
// is the first.
func appendMember(dst []byte, first *bool, key string) []byte {
	if !*first {
		dst = append(dst, ',')
	}
	*first = false
	dst = AppendString(dst, key)
	return append(dst, ':')
}

const hexDigits = "0123456789abcdef"

// plain reports whether AppendString writes c as it is: printable ASCII
// but the quote and the backslash.
func plain(c byte) bool { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' }

// AppendString appends s quoted as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does; control characters, DEL, U+2028 and
// U+2029 are escaped; <, > and & are left as they are.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		// A run of bytes that stand for themselves (most of a screen's
		// text) is copied at once.
		j := i
		for j < len(s) && plain(s[j]) {
			j++
		}
		dst = append(dst, s[i:j]...)
		if i = j; i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20 || c == 0x7f:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}

// MaxBytes bounds the JSON Decode accepts: a message longer than this
// (a megabyte) fails with ErrTooLarge before it is parsed.
const MaxBytes = 1 << 20

// Errors Decode returns, for errors.Is.
var (
	ErrTooLarge  = errors.New("message longer than MaxBytes")
	ErrMalformed = errors.New("not a JSON message")
)

// Decode parses one message as the gateways receive it (the JSON inside a
// classic frame): a JSON object with a non-empty "type". Members other
// than the fields are ignored; Extra stays empty. Keys match exactly,
// as the host that wrote the message matched them: "Secret" is not
// "secret" (encoding/json alone would fold case and take either).
func Decode(data []byte) (Message, error) {
	if len(data) > MaxBytes {
		return Message{}, fmt.Errorf("message: %w (%d bytes)", ErrTooLarge, len(data))
	}
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) == 0 || trimmed[0] != '{' {
		return Message{}, fmt.Errorf("message: %w: not an object", ErrMalformed)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(data, &members); err != nil {
		return Message{}, fmt.Errorf("message: %w: %v", ErrMalformed, err)
	}
	var m Message
	for _, f := range []struct {
		key string
		dst any
	}{{"type", &m.Type}, {"msg", &m.Msg}, {"pchar", &m.PChar}, {"secret", &m.Secret}, {"encoding", &m.Encoding}} {
		raw, ok := members[f.key]
		if !ok {
			continue
		}
		if err := json.Unmarshal(raw, f.dst); err != nil {
			return Message{}, fmt.Errorf("message: %w: member %q: %v", ErrMalformed, f.key, err)
		}
	}
	if m.Type == "" {
		return Message{}, fmt.Errorf("message: %w: no type", ErrMalformed)
	}
	return m, nil
}
