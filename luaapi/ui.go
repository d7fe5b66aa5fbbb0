package luaapi

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/message"
)

// Screens looks up screen texts by name (screens/NAME.txt).
type Screens interface {
	Screen(name string) (string, error)
}

// DefaultPromptChar is the prompt character ui.ask uses when the script
// gives none, and the one ui.prompt always uses.
const DefaultPromptChar = "> "

// UI is the ui module: the original BBS's conversation helpers. Messages
// have the shapes the classic client understands:
// {type='screen'|'prompt'|'exit', msg=..., pchar=...}; a prompt whose
// answer is not to be shown (a password) also carries secret=true.
type UI struct {
	Screens Screens
}

// Loader opens the ui module; use it with lua.LState.PreloadModule or
// Modules.
func (u *UI) Loader(L *lua.LState) int {
	mod := L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"display": u.display,
		"ask":     u.ask,
		"screen":  u.screen,
		"prompt":  u.prompt,
		"secret":  u.secret,
		"exit":    u.exit,
		"text":    u.text,
		"art":     u.artOnly,
		"keys":    u.keys,
	})
	L.SetFuncs(mod, uiTextFuncs)
	mod.RawSetString("read_lines", readLinesFunc(L, mod.RawGetString("ask")))
	mod.RawSetString("edit", editFunc(L, mod))
	L.Push(mod)
	return 1
}

// send sends one message to the caller, its text in colour or not as the
// caller's client shows; label is what the status page shows (the
// screen's name, or the text).
func (u *UI) send(L *lua.LState, m message.Message, label string) {
	c := checkConn(L, 1)
	sender, id := target(L, c, 2)
	m.Msg = RenderColour(m.Msg, c.Colour)
	if err := c.Send(sender, id, m, label); err != nil {
		L.RaiseError("ui.%s: %v", m.Type, err)
	}
}

// screenText returns the named screen for the caller (conn, argument 1)
// and its label, or raises an error naming it: the screen's ANSI art for
// a caller who shows it (ShowsArt), else its text.
func (u *UI) screenText(L *lua.LState, n int) (text, name string) {
	name = L.CheckString(n)
	if art, ok := u.art(checkConn(L, 1), name); ok {
		return art, "[" + name + "]"
	}
	text, err := u.Screens.Screen(name)
	if err != nil {
		L.RaiseError("screen %q: %v", name, err)
	}
	return text, "[" + name + "]"
}

// waitForCaller yields the caller's coroutine until their next request,
// which becomes the function's return value. Yielding from inside a Go
// function such as table.sort or string.gsub would silently corrupt the
// coroutine in gopher-lua, so that is refused with a clear error.
func waitForCaller(L *lua.LState, fn string) int {
	for level := 1; ; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		if _, err := L.GetInfo("Sn", dbg, lua.LNil); err == nil && dbg.What == "G" {
			L.RaiseError("%s cannot wait for the caller inside %s (a Go function such as table.sort or string.gsub); move the prompt outside it", fn, goFuncName(dbg))
		}
	}
	return L.Yield()
}

func goFuncName(dbg *lua.Debug) string {
	if dbg.Name != "" {
		return dbg.Name + "()"
	}
	return "a Go function"
}

// ui.display(conn, req, text): show text.
func (u *UI) display(L *lua.LState) int {
	text := L.CheckString(3)
	u.send(L, message.Screen(text), text)
	return 0
}

// ui.ask(conn, req, text, pchar): show text as a prompt, wait for the
// caller's answer and return it (the next request).
func (u *UI) ask(L *lua.LState) int {
	text := L.CheckString(3)
	pchar := L.OptString(4, DefaultPromptChar)
	m := message.Prompt(text, pchar)
	if pchar == "" {
		// Written as the script gave it: the client's own default is not
		// asked for.
		m.Extra = []message.Member{{Key: "pchar", Value: []byte(`""`)}}
	}
	u.send(L, m, text)
	return waitForCaller(L, "ui.ask")
}

// ui.screen(conn, req, name): show the named screen.
func (u *UI) screen(L *lua.LState) int {
	text, label := u.screenText(L, 3)
	u.send(L, message.Screen(text), label)
	return 0
}

// ui.prompt(conn, req, name): show the named screen as a prompt and return
// the caller's answer. A screen whose question asks for a password is
// sent as ui.secret sends it (see asksForPassword): screens are the
// sysop's text, where ui.ask's text is often what callers wrote (a post
// ending with the word password must not make its reader's answer a
// secret).
func (u *UI) prompt(L *lua.LState) int {
	text, label := u.screenText(L, 3)
	m := message.Prompt(text, DefaultPromptChar)
	m.Secret = asksForPassword(text)
	u.send(L, m, label)
	return waitForCaller(L, "ui.prompt")
}

// ui.secret(conn, req, name): like ui.prompt, for an answer the caller's
// terminal must not show (a password): the prompt carries secret=true, so
// telnet and the browser page stop echoing until the answer is sent.
func (u *UI) secret(L *lua.LState) int {
	text, label := u.screenText(L, 3)
	m := message.Prompt(text, DefaultPromptChar)
	m.Secret = true
	u.send(L, m, label)
	return waitForCaller(L, "ui.secret")
}

// ui.exit(conn, req, name): show the named screen and tell the client to
// quit.
func (u *UI) exit(L *lua.LState) int {
	text, label := u.screenText(L, 3)
	u.send(L, message.Exit(text), label)
	return 0
}

// ui.text(name): the named screen's text, or nil and an error message.
func (u *UI) text(L *lua.LState) int {
	text, err := u.Screens.Screen(L.CheckString(1))
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString(err.Error()))
		return 2
	}
	L.Push(lua.LString(text))
	return 1
}
