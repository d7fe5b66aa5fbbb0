package luaapi

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/termprofile"
	"github.com/m2bbs/m2bbs/host/shared/termtext"
)

// Replier delivers to callers through the front end (Mongrel2 or the
// built-in one). sender is the handler ident the request came with.
type Replier interface {
	// Reply delivers bytes as they are (a script's conn:reply); an empty
	// body closes the callers' connections.
	Reply(sender string, connIDs []string, body []byte) error
	// SendMessage delivers one message, which the edge frames for each
	// caller as their client expects.
	SendMessage(sender string, connIDs []string, m message.Message) error
}

// connTypeName names the conn userdata's metatable in the Lua registry.
const connTypeName = "m2bbs.conn"

// Conn is one caller's connection as a script sees it: the conn object
// passed to the session's entry function. It replies to its own caller by
// default and can deliver to other callers by conn id.
type Conn struct {
	// ID is the caller's Mongrel2 conn id.
	ID string
	// Sender is the handler ident Mongrel2 tagged the caller's requests with.
	Sender string
	// Colour says the caller's client shows colour: ui.* turn pipe codes
	// into ANSI escapes for it, or strip codes and escapes when false.
	Colour bool
	// ANSI says the caller's terminal shows ANSI art: a gateway that
	// renders for a terminal (telnet, the browser page) says so with
	// "ansi": true on every line; the classic client does not (see
	// ShowsArt).
	ANSI bool
	// Terminal is the caller's terminal as their gateway describes it
	// (SetTerminal; conn:terminal()).
	Terminal termprofile.Profile
	// tellEncoding is an encoding conn:set_encoding chose that the
	// caller's edge has not been told yet: the next message says it.
	tellEncoding termprofile.Encoding

	replier Replier
	sent    int
	exited  bool
	closed  bool
	// lastPrompt is the last prompt sent to the caller, and lastText a
	// label for the last message (see Send).
	lastPrompt message.Message
	hasPrompt  bool
	lastText   string
	// promptLabel is the label of the last prompt; promptSecret says it
	// asked for a secret (ui.secret: the answer is a password).
	promptLabel  string
	promptSecret bool
	// keysMode says the caller's gateway is in keystroke mode: a keys
	// message was sent since the last prompt or exit (keys.go);
	// interrupted says another message was shown since the last keys
	// message (a time warning): the editor redraws.
	keysMode, interrupted bool
	// binMode says the caller's gateway is in binary stream mode (a file
	// transfer runs: binary.go).
	binMode bool
}

// MaxStatusText bounds the text kept per caller for the status page.
const MaxStatusText = 80

// NewConn returns a Conn for the caller connID whose requests arrive tagged
// with sender; replies go out through replier.
func NewConn(connID, sender string, replier Replier) *Conn {
	return &Conn{ID: connID, Sender: sender, Colour: true, replier: replier}
}

// Reset forgets what was sent to the caller (counts, last prompt, exit),
// for a session that starts over on the same connection.
func (c *Conn) Reset() {
	c.sent, c.exited, c.closed, c.lastPrompt, c.lastText, c.promptLabel = 0, false, false, message.Message{}, "", ""
	c.promptSecret, c.hasPrompt, c.keysMode, c.interrupted = false, false, false, false
	c.binMode = false
}

// PromptLabel names the last prompt sent to the caller: its screen's name
// in brackets, or the last line of its text.
func (c *Conn) PromptLabel() string { return c.promptLabel }

// PromptSecret reports whether the last prompt sent to the caller asked
// for a secret (its message is Secret, as ui.secret's are): the
// answer is a password, which the host keeps out of journals and logs.
func (c *Conn) PromptSecret() bool { return c.promptSecret }

// Sent reports how many messages this conn has sent to its own caller.
func (c *Conn) Sent() int { return c.sent }

// Exited reports whether an exit message has been sent to the caller.
func (c *Conn) Exited() bool { return c.exited }

// Closed reports whether the script hung up on the caller.
func (c *Conn) Closed() bool { return c.closed }

// LastPrompt is the last prompt sent to the caller (nil if none), for
// asking again after input that was refused.
func (c *Conn) LastPrompt() *message.Message {
	if !c.hasPrompt {
		return nil
	}
	return &c.lastPrompt
}

// LastText says what the caller was last shown: a screen's name or the
// last line of a message.
func (c *Conn) LastText() string { return c.lastText }

// ShareTexts replaces the texts the conn keeps of what its caller was
// last shown (the last prompt, its label, the status page's line) by what
// share returns for each: an equal string many conns can hold one copy
// of. The host does it for callers it keeps idle in memory, most of whom
// look at the same menu.
func (c *Conn) ShareTexts(share func(string) string) {
	p := &c.lastPrompt
	p.Type, p.Msg, p.PChar, p.Encoding = share(p.Type), share(p.Msg), share(p.PChar), share(p.Encoding)
	c.lastText, c.promptLabel = share(c.lastText), share(c.promptLabel)
}

// Message kinds the classic client understands.
const (
	KindScreen = message.TypeScreen
	KindPrompt = message.TypePrompt
	KindExit   = message.TypeExit
)

// Send sends one message to a caller; the host frames it for their
// client. label says what the caller is looking at, for the status page:
// a screen's name, or the message's text.
func (c *Conn) Send(sender, connID string, m message.Message, label string) error {
	if connID == c.ID && c.binMode && m.Type == KindScreen {
		return nil // it would end the transfer at the caller's gateway: binary.go
	}
	if connID == c.ID && c.tellEncoding != "" {
		m.Encoding, c.tellEncoding = string(c.tellEncoding), ""
	}
	if err := c.replier.SendMessage(sender, []string{connID}, m); err != nil {
		return err
	}
	if connID != c.ID {
		return nil
	}
	c.sent++
	c.followKeysMode(m.Type)
	switch m.Type {
	case KindExit:
		c.exited = true
	case KindPrompt:
		c.lastPrompt, c.hasPrompt = m, true
		c.promptLabel = statusLabel(label)
		c.promptSecret = m.Secret
	case message.TypeKeys:
		// Keystroke mode is a prompt of its own: what the caller types
		// next answers it, never a secret prompt before it, and a replay
		// that reaches another place than the journal says diverges.
		c.promptLabel = statusLabel(label)
		c.promptSecret = false
	}
	if label = statusLabel(label); label != "" {
		c.lastText = label
	}
	return nil
}

// statusLabel shortens a message's text to its last non-blank line (where
// a prompt's question usually stands), at most MaxStatusText bytes, with
// no escape sequence or control character (it is shown on the sysop's
// terminal by m2bbs status).
func statusLabel(text string) string {
	text = strings.TrimRight(text, " \t\r\n")
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = text[i+1:]
	}
	text = strings.TrimSpace(termtext.CleanLine(text))
	if len(text) > MaxStatusText {
		cut := MaxStatusText
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut-- // never half a character
		}
		text = text[:cut]
	}
	return text
}

// Resend sends a message again (a prompt the caller must answer anew).
func (c *Conn) Resend(m *message.Message) error {
	return c.replier.SendMessage(c.Sender, []string{c.ID}, *m)
}

// Hangup closes the caller's connection.
func (c *Conn) Hangup() error {
	c.closed = true
	return c.replier.Reply(c.Sender, []string{c.ID}, nil)
}

var connMethods = map[string]lua.LGFunction{
	"reply_json":   connReplyJSON,
	"reply":        connReply,
	"deliver_json": connDeliverJSON,
	"deliver":      connDeliver,
	"close":        connClose,
	"id":           connID,
	"recv_json":    connRecv("recv_json"),
	"recv":         connRecv("recv"),
	"terminal":     connTerminal,
	"set_encoding": connSetEncoding,
}

// registerConnType creates the conn metatable in the registry (not in the
// script's globals).
func registerConnType(L *lua.LState) {
	mt := L.NewTypeMetatable(connTypeName)
	L.SetField(mt, "__index", L.SetFuncs(L.NewTable(), connMethods))
	L.SetField(mt, "__tostring", L.NewFunction(func(L *lua.LState) int {
		L.Push(lua.LString("conn " + checkConn(L, 1).ID))
		return 1
	}))
	L.SetField(mt, "__metatable", lua.LString("conn"))
}

// NewConnValue wraps c as the conn userdata scripts receive.
func NewConnValue(L *lua.LState, c *Conn) *lua.LUserData {
	ud := L.NewUserData()
	ud.Value = c
	ud.Metatable = L.GetTypeMetatable(connTypeName)
	return ud
}

// checkConn returns the Conn at stack index n or raises an argument error.
func checkConn(L *lua.LState, n int) *Conn {
	if ud, ok := L.Get(n).(*lua.LUserData); ok {
		if c, ok := ud.Value.(*Conn); ok {
			return c
		}
	}
	L.ArgError(n, "conn expected")
	return nil
}

// target resolves where a reply goes: the request table at index n (its
// conn_id and sender, as in Mongrel2's Lua library) or, when the script
// passes nil, the conn's own caller.
func target(L *lua.LState, c *Conn, n int) (sender, connID string) {
	sender, connID = c.Sender, c.ID
	req, ok := L.Get(n).(*lua.LTable)
	if !ok {
		if L.Get(n) != lua.LNil {
			L.ArgError(n, "request table or nil expected")
		}
		return sender, connID
	}
	switch id := req.RawGetString("conn_id").(type) {
	case lua.LString:
		connID = string(id)
	case lua.LNumber:
		connID = id.String()
	}
	if s, ok := req.RawGetString("sender").(lua.LString); ok && s != "" {
		sender = string(s)
	}
	return sender, connID
}

// checkMessage reads the table at index n as a message, raising an
// argument error if it is a list or holds what JSON cannot, and returns it
// with its msg as a label. Members other than a string msg, a non-empty
// type and pchar and a true secret are kept in the message's Extra,
// encoded as AppendJSON would, so that the caller gets what the script
// wrote (a table without msg gets "msg":"", as every message has it).
func checkMessage(L *lua.LState, n int) (m message.Message, label string) {
	tbl := L.CheckTable(n)
	if size := tbl.Len(); size > 0 && isSequence(tbl, size) {
		L.ArgError(n, "message table expected, got a list")
	}
	var err error
	tbl.ForEach(func(k, v lua.LValue) {
		if err != nil {
			return
		}
		var key string
		switch k := k.(type) {
		case lua.LString:
			key = string(k)
		case lua.LNumber:
			key = k.String()
		default:
			err = fmt.Errorf("cannot encode a table key of type %s as JSON", k.Type())
			return
		}
		if messageField(&m, key, v) {
			return
		}
		var value []byte
		if value, err = appendJSON(nil, v, 1); err == nil {
			m.Extra = append(m.Extra, message.Member{Key: key, Value: value})
		}
	})
	if err != nil {
		L.ArgError(n, err.Error())
	}
	sort.Slice(m.Extra, func(i, j int) bool { return m.Extra[i].Key < m.Extra[j].Key })
	return m, lua.LVAsString(tbl.RawGetString("msg"))
}

// messageField sets the field of m that key names, if v is a value the
// field holds and writes back as it is, and reports whether it did.
func messageField(m *message.Message, key string, v lua.LValue) bool {
	s, isString := v.(lua.LString)
	isString = isString && s != ""
	switch {
	case key == "type" && isString:
		m.Type = string(s)
	case key == "msg" && v.Type() == lua.LTString:
		m.Msg = string(s)
	case key == "pchar" && isString:
		m.PChar = string(s)
	case key == "secret" && v == lua.LTrue:
		m.Secret = true
	default:
		return false
	}
	return true
}

// conn:reply_json(req, table): send a message to the request's caller.
func connReplyJSON(L *lua.LState) int {
	c := checkConn(L, 1)
	sender, id := target(L, c, 2)
	m, text := checkMessage(L, 3)
	if m.Type == KindPrompt && !m.Secret && L.CheckTable(3).RawGetString("secret") == lua.LNil && asksForPassword(m.Msg) {
		m.Secret = true
	}
	if err := c.Send(sender, id, m, text); err != nil {
		L.RaiseError("conn:reply_json: %v", err)
	}
	return 0
}

// asksForPassword reports whether a prompt asks for a password: whether
// its last non-blank line, where the question stands, says "password",
// "passphrase" or "passwd", in any case (a menu that offers to change a
// password on an earlier line is not asking for one). A script that builds
// its own prompts and never says secret = true, as the 2010 board's ui.lua
// does, still gets its callers' passwords kept out of the journal, the log
// and the terminal's echo; secret = false in a message says a prompt that
// mentions a password is not asking for one.
func asksForPassword(text string) bool {
	text = strings.TrimRight(text, " \t\r\n")
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = text[i+1:]
	}
	lower := strings.ToLower(text)
	for _, word := range []string{"password", "passphrase", "passwd"} {
		if strings.Contains(lower, word) {
			return true
		}
	}
	return false
}

// conn:reply(req, string): send raw bytes to the request's caller.
func connReply(L *lua.LState) int {
	c := checkConn(L, 1)
	sender, id := target(L, c, 2)
	body := L.CheckString(3)
	if body == "" {
		L.ArgError(3, "empty reply (use conn:close to hang up)")
	}
	if err := c.replier.Reply(sender, []string{id}, []byte(body)); err != nil {
		L.RaiseError("conn:reply: %v", err)
	}
	if id == c.ID {
		c.sent++
	}
	return 0
}

// checkConnIDs reads a conn id or a list of conn ids at index n.
func checkConnIDs(L *lua.LState, n int) []string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return []string{string(v)}
	case lua.LNumber:
		return []string{v.String()}
	case *lua.LTable:
		ids := make([]string, 0, v.Len())
		for i := 1; i <= v.Len(); i++ {
			switch id := v.RawGetInt(i).(type) {
			case lua.LString:
				ids = append(ids, string(id))
			case lua.LNumber:
				ids = append(ids, id.String())
			default:
				L.ArgError(n, fmt.Sprintf("conn id #%d is a %s", i, id.Type()))
			}
		}
		return ids
	}
	L.ArgError(n, "conn id or list of conn ids expected")
	return nil
}

// conn:deliver_json(conn_ids, table): send a message to other callers.
// Returns the number of callers addressed.
func connDeliverJSON(L *lua.LState) int {
	c := checkConn(L, 1)
	ids := checkConnIDs(L, 2)
	m, _ := checkMessage(L, 3)
	if len(ids) > 0 {
		if err := c.replier.SendMessage(c.Sender, ids, m); err != nil {
			L.RaiseError("conn:deliver_json: %v", err)
		}
	}
	L.Push(lua.LNumber(len(ids)))
	return 1
}

// conn:deliver(conn_ids, string): send raw bytes to other callers.
func connDeliver(L *lua.LState) int {
	c := checkConn(L, 1)
	ids := checkConnIDs(L, 2)
	body := L.CheckString(3)
	if body == "" {
		L.ArgError(3, "empty body (use conn:close to hang up)")
	}
	if len(ids) > 0 {
		if err := c.replier.Reply(c.Sender, ids, []byte(body)); err != nil {
			L.RaiseError("conn:deliver: %v", err)
		}
	}
	L.Push(lua.LNumber(len(ids)))
	return 1
}

// conn:close(req): hang up on the request's caller (nil: this conn's).
func connClose(L *lua.LState) int {
	c := checkConn(L, 1)
	sender, id := target(L, c, 2)
	if id == c.ID {
		c.closed = true
	}
	if err := c.replier.Reply(sender, []string{id}, nil); err != nil {
		L.RaiseError("conn:close: %v", err)
	}
	return 0
}

// conn:id(): the caller's conn id.
func connID(L *lua.LState) int {
	L.Push(lua.LString(checkConn(L, 1).ID))
	return 1
}
