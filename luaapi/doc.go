// Package luaapi exposes the m2bbs host to Lua scripts.
//
// Each Lua module lives in a file of its own and is opened by a Loader:
//
//   - conn (conn.go): the caller's connection, a userdata with reply_json,
//     reply, deliver_json, deliver and close, as in Mongrel2's Lua library.
//   - ui (ui.go): display, ask, screen, prompt and exit, the conversation
//     helpers of the original BBS; ask yields the caller's coroutine.
//     read_lines (uiread.go) reads a message line after line; trim,
//     split, words, integer, clean and plain (uitext.go) read what
//     callers type in time linear in its length.
//   - db (db.go): the original BBS's database calls (users, public
//     messages, private mail) over a store.Basic, with login throttling.
//   - board (board.go) and mail (mail.go): message areas with threads and
//     last-read pointers; a mailbox that keeps mail.
//   - users (users.go): accounts, security levels, bans, last callers and
//     the one-liners wall; callers (callers.go): who is online, paging.
//   - door (door.go): what door games need: saved data per door and
//     caller, leaderboards, random numbers, the date.
//   - menu (menu.go, lua/menu.lua): menus declared as data, in Lua.
//   - shared (shared.go, lua/shared_ask.lua): live state every caller
//     sees, on every worker and phone line: tables of small values in the
//     store, and channels whose events wake callers waiting in shared.ask.
//   - session (journal.go): session.checkpoint(conn, req, user) lets the
//     host start a caller's journal over from a point the script names.
//   - mongrel2 and engine (startup.go): the 2010 board's start-up block
//     runs unchanged; engine.run installs the entry function, and a
//     scripts-folder engine.lua that is a Mongrel2 receive loop gives way
//     to the built-in one. loadfile and dofile look relative paths up in
//     the scripts folder first (scriptfiles.go).
//   - print and Lua 5.1 compatibility fixes (compat.go), error and
//     assert with Lua 5.1's positions (errorlevel.go); colour codes
//     (colour.go). Syntax errors of every chunk compiled are placed at
//     the line of the mistake by package luasyntax.
//   - limits: built-ins bounded in what one call may build (bounded.go),
//     `..` compiled into a bounded call (concat.go), a read-only string
//     library (readonly.go), store faults told to scripts as plain
//     messages (faults.go).
//
// [New] wires every module from one [Deps] (the store, the screens, the
// clock, the session table's answers about the caller on a state), and
// [API.Open] installs them in a Lua state in a fixed order (open.go).
// The host calls of the journaled modules are listed in each module's
// function table, each marked as a read or a write, which is what a
// [Recorder] needs to journal them (journal.go).
//
// Modules receive their dependencies as interfaces (Replier, Screens,
// store.Store, a logger lookup) so tests pass fakes. Misuse of an API raises
// a Lua error; an expected failure returns nil and a message, so both
// assert(db.x()) and local v, err = db.x() work in scripts.
//
// A *lua.LState and everything created from it is used by one goroutine at
// a time; nothing in this package starts goroutines.
package luaapi
