package luaapi

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// Env is what the Lua API needs from the host.
type Env struct {
	UI      *UI
	DB      *DB
	Callers *Callers // optional
	Users   *Users   // optional
	Door    *Door    // optional
	Board   *Board   // optional
	Mail    *Mail    // optional
	Log     LoggerLookup
}

// Open prepares L for BBS scripts: the conn type, Lua 5.1 compatibility,
// print to the log, and the built-in modules (ui, db, menu, and callers,
// users, door, board and mail when the host provides them) loadable with
// require.
func Open(L *lua.LState, env Env) error {
	registerConnType(L)
	if err := OpenCompat(L); err != nil {
		return fmt.Errorf("open compat: %w", err)
	}
	OpenPrint(L, env.Log)
	modules := []Module{
		{Name: "ui", Loader: env.UI.Loader},
		{Name: "db", Loader: env.DB.Loader},
		{Name: "menu", Loader: MenuLoader},
	}
	if env.Callers != nil {
		modules = append(modules, Module{Name: "callers", Loader: env.Callers.Loader})
	}
	if env.Users != nil {
		modules = append(modules, Module{Name: "users", Loader: env.Users.Loader})
	}
	if env.Door != nil {
		modules = append(modules, Module{Name: "door", Loader: env.Door.Loader})
	}
	if env.Board != nil {
		modules = append(modules, Module{Name: "board", Loader: env.Board.Loader})
	}
	if env.Mail != nil {
		modules = append(modules, Module{Name: "mail", Loader: env.Mail.Loader})
	}
	InstallModules(L, modules)
	return nil
}
