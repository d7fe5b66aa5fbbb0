package luaapi

import (
	"context"
	"errors"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/accessrule"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/shared/termtext"
)

// CurrentUser returns the name the caller running on L logged in with,
// or "" before they have.
type CurrentUser func(L *lua.LState) string

// Users is the users module: accounts and security levels, the sysop's
// user list, bans and levels, last callers and the one-liners wall.
// Actions that change someone else's account need the sysop level.
type Users struct {
	Accounts store.Accounts
	// Access keeps numbered levels, groups, flags, approvals and time
	// used; the functions that need it fail without it.
	Access  store.Access
	Current CurrentUser
	// Now is the clock of the level cache; time.Now when nil.
	Now func() time.Time
	// Recorder, if set, journals the module's calls (New sets it from
	// Deps.Recorder).
	Recorder Recorder

	// TimeLeft, if set, says how long the caller running on L has left
	// before their time limit ends the call (ok false: no limit).
	TimeLeft func(L *lua.LState) (left time.Duration, ok bool)

	// levels caches callers' levels for LevelCacheTTL: menus ask for the
	// level at every render. A Users belongs to one Lua state, so one
	// goroutine uses the cache, and the compiled access rules.
	levels map[string]cachedLevel
	rules  accessrule.Cache
}

// LevelCacheTTL is how long a caller's security level is taken from the
// cache: a change the sysop makes on another worker (or host) reaches a
// caller within it.
const LevelCacheTTL = 5 * time.Second

// cachedLevel is a level ("" for a banned caller), what access rules
// ask of the caller (nil when banned), and when it was read.
type cachedLevel struct {
	level   string
	subject *accessrule.Subject
	at      time.Time
}

// Loader opens the users module. Its function table marks each call
// a read or a write (see Recorder).
func (u *Users) Loader(L *lua.LState) int {
	tbl := hostCalls{
		"me":           reads(u.me),
		"info":         reads(u.info),
		"list":         reads(u.list),
		"is_sysop":     reads(u.isSysop),
		"allowed":      reads(u.allowed),
		"set_level":    writes(u.setLevel),
		"ban":          writes(u.ban),
		"unban":        writes(u.unban),
		"last_callers": reads(u.lastCallers),
		"wall":         reads(u.wall),
		"write_wall":   writes(u.writeWall),
		"set_encoding": writes(u.setEncoding),
		"set_group":    writes(u.setGroup),
		"set_flags":    writes(u.setFlags),
		"waiting":      reads(u.waiting),
		"approve":      writes(u.approve),
		"time_left":    reads(u.timeLeft),
		"check_rule":   reads(u.checkRule),
		"allowed_all":  reads(u.allowedAll),
	}.table(L, u.Recorder, "users")
	// time_left is journaled even without time limits (it is then always
	// nil): a session journaled before the sysop turned limits on or off
	// must replay the same calls on the host after.
	L.Push(tbl)
	return 1
}

// accountTable converts an account for Lua.
func accountTable(L *lua.LState, a store.Account) *lua.LTable {
	t := L.CreateTable(0, 10)
	accessFields(L, t, a)
	t.RawSetString("name", lua.LString(termtext.CleanLine(a.Name)))
	t.RawSetString("level", lua.LString(a.Level))
	t.RawSetString("banned", lua.LBool(a.Banned))
	t.RawSetString("registered", lua.LNumber(a.Registered.Unix()))
	t.RawSetString("calls", lua.LNumber(a.Calls))
	t.RawSetString("encoding", lua.LString(a.Encoding))
	if !a.LastCall.IsZero() {
		t.RawSetString("last_call", lua.LNumber(a.LastCall.Unix()))
	}
	return t
}

// callTable converts a call for the last-callers list: {user, at}.
func callTable(L *lua.LState, c store.Call) *lua.LTable {
	t := L.CreateTable(0, 2)
	t.RawSetString("user", lua.LString(termtext.CleanLine(c.User)))
	t.RawSetString("at", lua.LNumber(c.At.Unix()))
	return t
}

// onelinerTable converts a one-liner for the wall: {user, text, at}.
func onelinerTable(L *lua.LState, o store.Oneliner) *lua.LTable {
	t := L.CreateTable(0, 3)
	t.RawSetString("user", lua.LString(termtext.CleanLine(o.User)))
	t.RawSetString("text", lua.LString(CallerLine(o.Text)))
	t.RawSetString("at", lua.LNumber(o.Posted.Unix()))
	return t
}

// account looks up name's account.
func (u *Users) account(L *lua.LState, name string) (store.Account, error) {
	return callStore(L, func(ctx context.Context) (store.Account, error) {
		return u.Accounts.Account(ctx, name)
	})
}

// level is the security level of the caller running on L ("" before
// login).
func (u *Users) level(L *lua.LState) string { return u.cached(L).level }

// cached is what the level cache knows of the caller running on L (the
// zero value before login or when their account cannot be read).
func (u *Users) cached(L *lua.LState) cachedLevel {
	name := u.Current(L)
	if name == "" {
		return cachedLevel{}
	}
	now := time.Now
	if u.Now != nil {
		now = u.Now
	}
	key := strings.ToLower(name)
	if c, ok := u.levels[key]; ok && now().Sub(c.at) < LevelCacheTTL {
		return c
	}
	a, err := u.account(L, name)
	if err != nil {
		return cachedLevel{}
	}
	c := cachedLevel{level: a.Level, subject: subjectOf(a, now()), at: now()}
	if a.Banned {
		c.level, c.subject = "", nil
	}
	if u.levels == nil || len(u.levels) > 10000 {
		u.levels = make(map[string]cachedLevel)
	}
	u.levels[key] = c
	return c
}

// forget drops name's cached level after the sysop changed it here.
func (u *Users) forget(name string) { delete(u.levels, strings.ToLower(name)) }

// errSysopOnly is returned to a script acting on others for a non-sysop.
var errSysopOnly = errors.New("only the sysop may do that")

// users.me() -> the caller's own account, or nil, "not logged in"
func (u *Users) me(L *lua.LState) int {
	name := u.Current(L)
	if name == "" {
		return fail(L, errors.New("not logged in"))
	}
	a, err := u.account(L, name)
	if err != nil {
		return fail(L, err)
	}
	L.Push(accountTable(L, a))
	return 1
}

// users.info(name) -> account {name, level, banned, registered, calls, last_call}
func (u *Users) info(L *lua.LState) int {
	a, err := u.account(L, L.CheckString(1))
	if err != nil {
		return fail(L, err)
	}
	L.Push(accountTable(L, a))
	return 1
}

// users.list([offset [, limit]]) -> accounts by name
func (u *Users) list(L *lua.LState) int {
	offset, limit := L.OptInt(1, 0), L.OptInt(2, 20)
	list, err := callStore(L, func(ctx context.Context) ([]store.Account, error) {
		return u.Accounts.Accounts(ctx, offset, limit)
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(listTable(L, list, accountTable))
	return 1
}

// IsSysop reports whether the caller running on L is the sysop.
func (u *Users) IsSysop(L *lua.LState) bool { return u.level(L) == store.LevelSysop }

// users.is_sysop() -> whether the caller is the sysop
func (u *Users) isSysop(L *lua.LState) int {
	L.Push(lua.LBool(u.IsSysop(L)))
	return 1
}

// users.allowed(rule) -> whether the caller passes rule: a level name
// ('new', 'user' or 'sysop': at least that level), a level number, or an
// access rule ("level >= 20 and group('cosysop')", see
// host/handler/accessrule); nil or ” allows everyone. A rule that does
// not compile raises an error giving its column.
func (u *Users) allowed(L *lua.LState) int {
	L.Push(lua.LBool(u.Allowed(L, L.Get(1))))
	return 1
}

// sysopAction runs fn if the caller is the sysop.
func (u *Users) sysopAction(L *lua.LState, fn func(ctx context.Context) error) int {
	if u.level(L) != store.LevelSysop {
		return fail(L, errSysopOnly)
	}
	if err := storeCall(L, fn); err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

// users.set_level(name, level) -> true (sysop only): level is a name
// ('new', 'user', 'sysop') or a number from 0 to 255.
func (u *Users) setLevel(L *lua.LState) int {
	name := L.CheckString(1)
	u.forget(name)
	if n, ok := L.Get(2).(lua.LNumber); ok {
		return u.sysopAction(L, u.withAccess(func(ctx context.Context, a store.Access) error {
			return a.SetSecurity(ctx, name, int(n))
		}))
	}
	level := L.CheckString(2)
	return u.sysopAction(L, func(ctx context.Context) error { return u.Accounts.SetLevel(ctx, name, level) })
}

// users.ban(name) -> true (sysop only; the sysop cannot ban themselves)
func (u *Users) ban(L *lua.LState) int {
	name := L.CheckString(1)
	if strings.EqualFold(name, u.Current(L)) {
		return fail(L, errors.New("you cannot ban yourself"))
	}
	u.forget(name)
	return u.sysopAction(L, func(ctx context.Context) error { return u.Accounts.SetBanned(ctx, name, true) })
}

// users.unban(name) -> true (sysop only)
func (u *Users) unban(L *lua.LState) int {
	name := L.CheckString(1)
	u.forget(name)
	return u.sysopAction(L, func(ctx context.Context) error { return u.Accounts.SetBanned(ctx, name, false) })
}

// users.last_callers([n]) -> {user, at} newest first (n defaults to 10)
func (u *Users) lastCallers(L *lua.LState) int {
	n := L.OptInt(1, 10)
	calls, err := callStore(L, func(ctx context.Context) ([]store.Call, error) {
		return u.Accounts.LastCalls(ctx, n)
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(listTable(L, calls, callTable))
	return 1
}

// users.wall([n]) -> the one-liners wall, {user, text, at} newest first
func (u *Users) wall(L *lua.LState) int {
	n := L.OptInt(1, 10)
	lines, err := callStore(L, func(ctx context.Context) ([]store.Oneliner, error) {
		return u.Accounts.Oneliners(ctx, n)
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(listTable(L, lines, onelinerTable))
	return 1
}

// users.write_wall(text) -> true: the caller writes a one-liner
func (u *Users) writeWall(L *lua.LState) int {
	text := L.CheckString(1)
	name := u.Current(L)
	if name == "" {
		return fail(L, errors.New("not logged in"))
	}
	if err := storeCall(L, func(ctx context.Context) error { return u.Accounts.AddOneliner(ctx, name, text) }); err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

// users.set_encoding(enc) -> true: the caller keeps the character set of
// their terminal ("utf-8", "cp437", "ascii"; "" forgets it) in their
// account, or nil, "unknown character set: utf-8, cp437 or ascii"
func (u *Users) setEncoding(L *lua.LState) int {
	enc := L.CheckString(1)
	name := u.Current(L)
	if name == "" {
		return fail(L, errors.New("not logged in"))
	}
	err := storeCall(L, func(ctx context.Context) error { return u.Accounts.SetEncoding(ctx, name, enc) })
	if errors.Is(err, store.ErrBadEncoding) {
		return fail(L, errors.New("unknown character set: utf-8, cp437 or ascii"))
	}
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}
