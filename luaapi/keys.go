package luaapi

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/message"
)

// Keystroke mode (docs/clients.md): a message of type "keys" carries
// terminal output the caller's gateway writes as it is, and puts the
// gateway in keystroke mode, in which each key the caller types comes
// back at once as a request of type "keys" ({type='keys', msg=KEYS}),
// resuming the caller's coroutine as a line does (and journaled like
// one). A prompt or an exit ends keystroke mode; a screen (a time
// warning, a page, a broadcast) is shown and keystroke mode goes on.
// Only a caller whose conn:terminal().keys is true can be put in it.

// KeysMode reports whether a keys message was sent to the caller since
// the last prompt or exit: their gateway is in keystroke mode, and the
// host takes their keys requests.
func (c *Conn) KeysMode() bool { return c.keysMode }

// followKeysMode follows a message of type typ sent to the caller.
func (c *Conn) followKeysMode(typ string) {
	switch typ {
	case message.TypeKeys:
		c.keysMode, c.interrupted, c.binMode = true, false, false
	case message.TypePrompt, message.TypeExit:
		c.keysMode, c.interrupted, c.binMode = false, false, false
	case message.TypeBinary:
		c.keysMode, c.interrupted, c.binMode = false, false, true
	default:
		c.interrupted = c.keysMode
	}
}

// ScreenLost says the caller's screen may not show what was last sent in
// keystroke mode (their session was replayed after a restart, and the
// host may have died before a reply left): full-screen output must be
// drawn again, as after Interrupted.
func (c *Conn) ScreenLost() { c.interrupted = c.keysMode }

// Interrupted reports, and forgets, whether a message other than keys
// was shown to the caller in keystroke mode since the last keys message:
// full-screen output must be drawn again.
func (c *Conn) Interrupted() bool {
	was := c.interrupted
	c.interrupted = false
	return was
}

// SendKeys sends out, terminal output, to the caller as a keys message,
// putting their gateway in keystroke mode (or keeping it there). label
// is what the status page shows.
func (c *Conn) SendKeys(out, label string) error {
	return c.Send(c.Sender, c.ID, message.Keys(out), label)
}

// WaitForKeys is for Go code running in a caller's coroutine (an
// editor, a door bridge): it sends out as a keys message when out is
// not empty or the caller is not in keystroke mode yet, then yields
// until the caller's next request, which Lua gets as the return value of
// the Go function that returns WaitForKeys's result. The request is
// usually of type "keys", but may be a line typed just before the mode
// began, or an event: check req.data.type. fn names the calling
// function in errors.
func WaitForKeys(L *lua.LState, c *Conn, out, label, fn string) int {
	if out != "" || !c.keysMode {
		if err := c.SendKeys(out, label); err != nil {
			L.RaiseError("%s: %v", fn, err)
		}
	}
	return waitForCaller(L, fn)
}

// ui.keys(conn, req, out): writes out (terminal output, ANSI allowed) to
// the caller in keystroke mode and waits for their next request: with
// req.data.type == 'keys', req.data.msg holds the keys typed (a CR for
// Enter, escape sequences whole). For a caller without keystroke mode
// (conn:terminal().keys false) it raises an error: check first.
func (u *UI) keys(L *lua.LState) int {
	c := checkConn(L, 1)
	out := L.OptString(3, "")
	if !c.Terminal.Keys && !c.keysMode { // a gateway that stops saying so mid-mode goes on
		L.RaiseError("ui.keys: the caller's terminal has no keystroke mode (check conn:terminal().keys)")
	}
	return WaitForKeys(L, c, out, "[keys]", "ui.keys")
}
