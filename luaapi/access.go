package luaapi

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/accessrule"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// The users module's access functions: numbered levels, groups and
// flags tested by access rules (host/handler/accessrule), new users
// waiting for the sysop's approval, and the caller's time limit.

// errNoAccessStore is returned when the store keeps no access data.
var errNoAccessStore = errors.New("this board keeps no groups, flags or approvals")

// withAccess runs fn on the store of access data, or fails without one.
func (u *Users) withAccess(fn func(ctx context.Context, a store.Access) error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if u.Access == nil {
			return errNoAccessStore
		}
		return fn(ctx, u.Access)
	}
}

// accessFields sets an account table's access fields: security, groups,
// flags, waiting.
func accessFields(L *lua.LState, t *lua.LTable, a store.Account) {
	t.RawSetString("security", lua.LNumber(a.Security))
	groups := L.CreateTable(len(a.Groups), 0)
	for _, g := range a.Groups {
		groups.Append(lua.LString(g))
	}
	t.RawSetString("groups", groups)
	t.RawSetString("flags", lua.LString(a.Flags))
	t.RawSetString("waiting", lua.LBool(a.Waiting))
}

// subjectOf is what access rules ask of account a at time now.
func subjectOf(a store.Account, now time.Time) *accessrule.Subject {
	age := 0
	if !a.Registered.IsZero() && now.After(a.Registered) {
		age = int(now.Sub(a.Registered) / (24 * time.Hour))
	}
	return &accessrule.Subject{Level: a.Security, AgeDays: age, Calls: a.Calls, Groups: a.Groups, Flags: a.Flags}
}

// Allowed reports whether the caller running on L passes rule: nil or
// "" (everyone), a level number (at least it), or an access rule's
// source (a level name is one). Nobody passes a rule before logging in,
// nor while banned. A rule that does not compile raises a Lua error
// with its column.
func (u *Users) Allowed(L *lua.LState, rule lua.LValue) bool {
	switch r := rule.(type) {
	case *lua.LNilType:
		return true
	case lua.LNumber:
		s := u.cached(L).subject
		return s != nil && float64(s.Level) >= float64(r)
	case lua.LString:
		if r == "" {
			return true
		}
		compiled, err := u.rules.Compile(string(r))
		if err != nil {
			L.RaiseError("%v", err)
		}
		s := u.cached(L).subject
		return s != nil && compiled.Allows(s)
	}
	L.TypeError(1, lua.LTString)
	return false
}

// MaxRules bounds the rules of one users.allowed_all.
const MaxRules = 1024

// users.allowed_all(rules) -> a list of booleans, one per rule of the
// list (users.allowed's rules; false or ” allows everyone): a menu asks
// for all its items at once, one journaled call per render instead of
// one per item.
func (u *Users) allowedAll(L *lua.LState) int {
	rules := L.CheckTable(1)
	n := rules.Len()
	if n > MaxRules {
		L.ArgError(1, fmt.Sprintf("at most %d rules", MaxRules))
	}
	out := L.CreateTable(n, 0)
	for i := 1; i <= n; i++ {
		rule := rules.RawGetInt(i)
		if rule == lua.LFalse {
			rule = lua.LNil
		}
		out.Append(lua.LBool(u.Allowed(L, rule)))
	}
	L.Push(out)
	return 1
}

// users.check_rule(rule) -> true, or nil, "access rule ...: column N:
// what is wrong": for scripts to check the rules they declare once, at
// load time (menu.new does).
func (u *Users) checkRule(L *lua.LState) int {
	if _, err := u.rules.Compile(L.CheckString(1)); err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

// users.set_group(name, group, member) -> true (sysop only): member true
// adds name to group, false takes them out.
func (u *Users) setGroup(L *lua.LState) int {
	name, group, member := L.CheckString(1), L.CheckString(2), L.OptBool(3, true)
	u.forget(name)
	return u.sysopAction(L, u.withAccess(func(ctx context.Context, a store.Access) error {
		return a.SetGroup(ctx, name, group, member)
	}))
}

// users.set_flags(name, flags) -> true (sysop only): flags are letters
// A to Z ("" clears them).
func (u *Users) setFlags(L *lua.LState) int {
	name, flags := L.CheckString(1), L.CheckString(2)
	u.forget(name)
	return u.sysopAction(L, u.withAccess(func(ctx context.Context, a store.Access) error {
		return a.SetFlags(ctx, name, flags)
	}))
}

// users.waiting([n]) -> accounts waiting for approval, oldest first
// (sysop only; n defaults to 20).
func (u *Users) waiting(L *lua.LState) int {
	n := L.OptInt(1, 20)
	if u.level(L) != store.LevelSysop {
		return fail(L, errSysopOnly)
	}
	var list []store.Account
	err := storeCall(L, u.withAccess(func(ctx context.Context, a store.Access) (err error) {
		list, err = a.Waiting(ctx, n)
		return err
	}))
	if err != nil {
		return fail(L, err)
	}
	L.Push(listTable(L, list, accountTable))
	return 1
}

// users.approve(name) -> true (sysop only): name stops waiting and is
// raised to the user level if below it.
func (u *Users) approve(L *lua.LState) int {
	name := L.CheckString(1)
	u.forget(name)
	return u.sysopAction(L, u.withAccess(func(ctx context.Context, a store.Access) error {
		return a.Approve(ctx, name)
	}))
}

// users.time_left() -> seconds the caller has left before their time
// limit ends the call, or nil when they have no limit.
func (u *Users) timeLeft(L *lua.LState) int {
	if u.TimeLeft == nil {
		L.Push(lua.LNil)
		return 1
	}
	left, ok := u.TimeLeft(L)
	if !ok {
		L.Push(lua.LNil)
		return 1
	}
	L.Push(lua.LNumber(math.Max(0, math.Floor(left.Seconds()))))
	return 1
}
