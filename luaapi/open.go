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
	// Recorder, if set, journals the host calls of the db, callers,
	// users, door, board and mail modules, and os.time, os.date, os.clock
	// and math.random, for sessions that survive a restart.
	Recorder Recorder
	// Faults, if set, is told of store faults scripts' calls meet.
	Faults FaultReporter
	// Checkpoint, if set, is session.checkpoint: the caller on L stands
	// where the script's resume function would bring user (see
	// host/session).
	Checkpoint func(L *lua.LState, user string)
}

// Open prepares L for BBS scripts: the conn type, Lua 5.1 compatibility,
// print to the log, and the built-in modules (ui, db, menu, and callers,
// users, door, board and mail when the host provides them) loadable with
// require.
func Open(L *lua.LState, env Env) error {
	registerConnType(L)
	setFaultReporter(L, env.Faults)
	if err := OpenCompat(L); err != nil {
		return fmt.Errorf("open compat: %w", err)
	}
	OpenPrint(L, env.Log)
	if env.Recorder != nil {
		journalStandardLibrary(L, env.Recorder)
		if env.Door != nil {
			env.Door.Recorder = env.Recorder
		}
	}
	modules := []Module{
		{Name: "ui", Loader: env.UI.Loader},
		{Name: "db", Loader: env.DB.Loader},
		{Name: "menu", Loader: MenuLoader},
		{Name: "session", Loader: sessionLoader(env.Checkpoint)},
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
	if env.Recorder != nil {
		for i, m := range modules {
			if journaledModules[m.Name] {
				modules[i].Loader = journalLoader(env.Recorder, m.Name, m.Loader)
			}
		}
	}
	InstallModules(L, modules)
	// Last, once every Go-side change to the string library is made.
	LockStringLibrary(L)
	return nil
}
