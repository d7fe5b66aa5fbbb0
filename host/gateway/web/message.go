package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/keystroke"
	"github.com/m2bbs/m2bbs/host/shared/termprofile"
	"github.com/m2bbs/m2bbs/host/shared/termtext"
)

// Limits on what the page sends.
const (
	// MaxPageMessageBytes bounds one WebSocket message from the page. A
	// longer one closes the WebSocket with status 1009 (message too big).
	MaxPageMessageBytes = 4096
	// MaxLineBytes bounds the msg of one request as written in the
	// classic request (a JSON string, quotes and escapes included), so that
	// the request fits the front end's frame limit
	// (frontend.DefaultMaxFrameBytes, 4 KiB with the route). The page
	// itself stops the typing at 1,000 characters.
	MaxLineBytes = 3072
)

// ErrBadRequest means a WebSocket message from the page that is not a
// classic request: a JSON object with "type":"msg" and a string "msg".
var ErrBadRequest = errors.New("web: not a request")

// pageRequest is one request from the page.
type pageRequest struct {
	msg string
	// keys is set for a keystroke-mode request ("type":"keys"): msg holds
	// the keys typed, at most keystroke.MaxRequestBytes.
	keys bool
	// colour is set when the request says whether the page shows colour
	// ("color" or "colour": true or false).
	colour *bool
	// terminal is the page's terminal, when the request says it
	// ("terminal": an object as termprofile.Profile.AppendJSON writes).
	terminal *termprofile.Profile
}

// parseRequest reads one WebSocket message from the page: a JSON object
// {"type":"msg","msg":STRING}, optionally with "color": BOOL; or a
// keystroke-mode request, {"type":"keys","msg":KEYS}.
func parseRequest(data []byte) (pageRequest, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return pageRequest{}, fmt.Errorf("%w: not a JSON object", ErrBadRequest)
	}
	if !utf8.Valid(data) {
		return pageRequest{}, fmt.Errorf("%w: not UTF-8", ErrBadRequest)
	}
	var req struct {
		Type   *string `json:"type"`
		Msg    *string `json:"msg"`
		Color  *bool   `json:"color"`
		Colour *bool   `json:"colour"`
		// Terminal is read on its own (pageTerminal): a bad one is
		// dropped, not the line.
		Terminal json.RawMessage `json:"terminal"`
	}
	if err := json.Unmarshal(data, &req); err != nil {
		return pageRequest{}, fmt.Errorf("%w: bad JSON", ErrBadRequest)
	}
	keys := req.Type != nil && *req.Type == message.TypeKeys
	switch {
	case req.Type == nil || *req.Type != "msg" && !keys:
		return pageRequest{}, fmt.Errorf("%w: type must be \"msg\" or \"keys\"", ErrBadRequest)
	case keys && req.Msg != nil && (len(*req.Msg) > keystroke.MaxRequestBytes || keystroke.JSONLen(*req.Msg) > keystroke.MaxRequestBytes):
		return pageRequest{}, fmt.Errorf("%w: keys longer than %d bytes", ErrBadRequest, keystroke.MaxRequestBytes)
	case req.Msg == nil:
		return pageRequest{}, fmt.Errorf("%w: no msg string", ErrBadRequest)
	case len(*req.Msg) > MaxLineBytes || encodedLen(*req.Msg) > MaxLineBytes:
		return pageRequest{}, fmt.Errorf("%w: msg longer than %d bytes", ErrBadRequest, MaxLineBytes)
	}
	out := pageRequest{msg: *req.Msg, keys: keys, colour: req.Color, terminal: pageTerminal(req.Terminal)}
	if req.Colour != nil {
		out.colour = req.Colour
	}
	return out, nil
}

// requestOverhead is the length of a classic request for route "",
// less its msg: ` {"type":"msg","msg":` MSG `}` and the NUL.
const requestOverhead = len(` {"type":"msg","msg":}`) + 1

// encodedLen is the length of msg written as a JSON string in a classic
// request.
func encodedLen(msg string) int {
	return len(classic.AppendRequest(nil, "", msg)) - requestOverhead
}

// pageTerminal reads the "terminal" member of a request from the page:
// {"type":…,"width":…,"height":…,"encoding":…,"ansi":…}; nil if there is
// none or it is not such an object. What a profile may not hold is
// dropped (termprofile.Profile.Clean).
func pageTerminal(raw json.RawMessage) *termprofile.Profile {
	if len(raw) == 0 {
		return nil
	}
	var t struct {
		Type     string `json:"type"`
		Width    int    `json:"width"`
		Height   int    `json:"height"`
		Encoding string `json:"encoding"`
		ANSI     *bool  `json:"ansi"`
		Keys     bool   `json:"keys"`
	}
	if json.Unmarshal(raw, &t) != nil {
		return nil
	}
	p := termprofile.Profile{Type: t.Type, Width: t.Width, Height: t.Height, Encoding: termprofile.Encoding(t.Encoding),
		NoANSI: t.ANSI != nil && !*t.ANSI, Keys: t.Keys}.Clean()
	return &p
}

// appendClassic appends the classic request for r on route to dst: the
// bytes a classic client would send for it, with the page's terminal.
func (r pageRequest) appendClassic(dst []byte, route string) []byte {
	if r.keys {
		dst = classic.WithANSI(classic.AppendKeys(dst, route, r.msg))
	} else if r.msg == "connect" && r.colour != nil && !*r.colour {
		dst = classic.AppendConnect(dst, route, false)
	} else {
		// The page is a terminal: it shows ANSI art. Said with every line,
		// so a session rebuilt from a journal that starts after the
		// connect still knows.
		dst = classic.WithANSI(classic.AppendRequest(dst, route, r.msg))
	}
	if r.terminal != nil {
		dst = classic.AppendMember(dst, "terminal", r.terminal.AppendJSON(nil))
	}
	return dst
}

// encodeMessage is the WebSocket text of a BBS message: its JSON, written
// by the one encoder of messages (message.Message.AppendJSON). Colour and
// cursor sequences pass; control strings (a window title, a clipboard
// write: OSC, DCS, APC, …) and C1 controls are removed
// (termtext.StripStrings) before it is encoded.
func encodeMessage(m message.Message) ([]byte, error) {
	m.Msg = termtext.StripStrings(m.Msg)
	m.PChar = termtext.StripStrings(m.PChar)
	return m.AppendJSON(nil), nil
}
