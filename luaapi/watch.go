package luaapi

import (
	"errors"

	lua "github.com/yuin/gopher-lua"
)

// Watcher is what the watch module asks of the host: the sysop's session
// (its conn) watching another caller, whose screens the host copies to
// the sysop's client as they are sent, and chatting with them.
type Watcher interface {
	// Watch starts copying callerID's screens, prompts and typed lines to
	// the sysop's conn (sender, sysopID); the caller is told.
	Watch(sender, sysopID, callerID string) error
	// Unwatch ends sysopID's watch; the caller is told.
	Unwatch(sysopID string) error
	// Chat begins (on) or ends the chat of sysopID with the caller it
	// watches: while it lasts, the caller's lines go to the sysop, not to
	// their script.
	Chat(sysopID string, on bool) error
	// Say sends the sysop's chat line to the caller.
	Say(sysopID, text string) error
}

// Watch is the watch module: the sysop watches a caller's session live
// and breaks in to chat. Every function needs the sysop level (IsSysop).
type Watch struct {
	Host Watcher
	// IsSysop reports whether the caller running on L is the sysop.
	IsSysop func(L *lua.LState) bool
	// Recorder, if set, journals the module's calls: a session rebuilt
	// after a restart does not start its watch again (the host forgot it).
	Recorder Recorder
}

// errNoWatch is the failure of every function on a host that cannot watch.
var errNoWatch = errors.New("this host cannot watch callers")

// Loader opens the watch module.
func (w *Watch) Loader(L *lua.LState) int {
	L.Push(hostCalls{
		"start":    writes(w.start),
		"stop":     writes(w.stop),
		"chat":     writes(w.chat),
		"end_chat": writes(w.endChat),
		"say":      writes(w.say),
	}.table(L, w.Recorder, "watch"))
	return 1
}

// act runs fn for the sysop; it returns true, or nil and why not.
func (w *Watch) act(L *lua.LState, fn func() error) int {
	switch {
	case w.IsSysop == nil || !w.IsSysop(L):
		return fail(L, errSysopOnly)
	case w.Host == nil:
		return fail(L, errNoWatch)
	}
	if err := fn(); err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

// watch.start(conn, conn_id) -> true, or nil and why: the caller's
// screens are copied to conn's client until watch.stop(conn).
func (w *Watch) start(L *lua.LState) int {
	c := checkConn(L, 1)
	target := L.CheckString(2)
	return w.act(L, func() error { return w.Host.Watch(c.Sender, c.ID, target) })
}

// watch.stop(conn) -> true, or nil and why.
func (w *Watch) stop(L *lua.LState) int {
	c := checkConn(L, 1)
	return w.act(L, func() error { return w.Host.Unwatch(c.ID) })
}

// watch.chat(conn) -> true, or nil and why: the caller watched gets the
// sysop's lines (watch.say) and their lines go to the sysop.
func (w *Watch) chat(L *lua.LState) int {
	c := checkConn(L, 1)
	return w.act(L, func() error { return w.Host.Chat(c.ID, true) })
}

// watch.end_chat(conn) -> true, or nil and why: the caller is back at
// their prompt.
func (w *Watch) endChat(L *lua.LState) int {
	c := checkConn(L, 1)
	return w.act(L, func() error { return w.Host.Chat(c.ID, false) })
}

// watch.say(conn, text) -> true, or nil and why.
func (w *Watch) say(L *lua.LState) int {
	c := checkConn(L, 1)
	text := L.CheckString(2)
	return w.act(L, func() error { return w.Host.Say(c.ID, text) })
}
