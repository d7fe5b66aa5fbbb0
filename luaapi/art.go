package luaapi

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/message"
)

// ArtScreens is implemented by Screens that also hold ANSI art
// (screens/NAME.ans, see host/handler/screens): ui.screen, ui.prompt,
// ui.secret and ui.exit show a screen's art, not its text, to callers who
// show it.
type ArtScreens interface {
	// Art returns the named screen's ANSI art, UTF-8 with escape codes;
	// ok is false if the screen has none.
	Art(name string) (art string, ok bool)
}

// ShowsArt says whether ANSI art is sent to the caller: their client
// shows colour and renders ANSI for a terminal (conn.ANSI, said by the
// telnet gateway and the browser page). This is the one place that
// decides; a terminal profile kept per caller can replace it.
func ShowsArt(c *Conn) bool { return c.Colour && c.ANSI }

// art returns the named screen's art for the caller c, if they show art
// and the screen has some.
func (u *UI) art(c *Conn, name string) (string, bool) {
	screens, ok := u.Screens.(ArtScreens)
	if !ok || !ShowsArt(c) {
		return "", false
	}
	return screens.Art(name)
}

// ui.art(conn, req, name): show the named screen's ANSI art to a caller
// who shows art, and nothing to others (a menu's header, see menu.lua);
// returns whether it was shown.
func (u *UI) artOnly(L *lua.LState) int {
	c := checkConn(L, 1)
	name := L.CheckString(3)
	art, ok := u.art(c, name)
	if ok {
		u.send(L, message.Screen(art), "["+name+"]")
	}
	L.Push(lua.LBool(ok))
	return 1
}
