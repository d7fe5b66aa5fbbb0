package luaapi

import (
	"context"
	"errors"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/store"
)

// DefaultDBTimeout bounds one db.* call.
const DefaultDBTimeout = 10 * time.Second

// DB is the db module: the original BBS's database calls over a
// store.Store. Each function returns its value, or nil and an error message,
// so both assert(db.x()) and local v, err = db.x() work.
type DB struct {
	Store   store.Store
	Timeout time.Duration // per call; DefaultDBTimeout when zero
	// OnLogin, if set, is told of each successful db.auth_user and
	// db.register_user, with the state the script runs on: the host uses
	// it to know who each caller is.
	OnLogin func(L *lua.LState, name string)
}

// Loader opens the db module.
func (d *DB) Loader(L *lua.LState) int {
	L.Push(L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"user_exists":   d.userExists,
		"auth_user":     d.authUser,
		"register_user": d.registerUser,
		"post_message":  d.postMessage,
		"message_count": d.messageCount,
		"message_read":  d.messageRead,
		"send_to":       d.sendTo,
		"inbox_count":   d.inboxCount,
		"read_inbox":    d.readInbox,
		"reconnect":     d.reconnect,
	}))
	return 1
}

// call runs fn with a deadline derived from the state's context.
func (d *DB) call(L *lua.LState, fn func(ctx context.Context) error) error {
	parent := L.Context()
	if parent == nil {
		parent = context.Background()
	}
	timeout := d.Timeout
	if timeout == 0 {
		timeout = DefaultDBTimeout
	}
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	return fn(ctx)
}

// fail pushes the expected-failure convention: nil, "message". The
// store's "store: " prefix is dropped: scripts may show the text to callers.
func fail(L *lua.LState, err error) int {
	L.Push(lua.LNil)
	L.Push(lua.LString(strings.TrimPrefix(err.Error(), "store: ")))
	return 2
}

// checkLines reads a message body: a list of lines or one string (split at
// newlines).
func checkLines(L *lua.LState, n int) []string {
	switch v := L.Get(n).(type) {
	case lua.LString:
		return strings.Split(string(v), "\n")
	case *lua.LTable:
		lines := make([]string, 0, v.Len())
		for i := 1; i <= v.Len(); i++ {
			s, ok := v.RawGetInt(i).(lua.LString)
			if !ok {
				if num, isNum := v.RawGetInt(i).(lua.LNumber); isNum {
					s = lua.LString(num.String())
				} else {
					L.ArgError(n, "line "+lua.LNumber(i).String()+" is not a string")
				}
			}
			lines = append(lines, string(s))
		}
		return lines
	}
	L.ArgError(n, "list of lines or string expected")
	return nil
}

// FormatPost renders a message as the original BBS did: a From line, then
// the lines.
func FormatPost(from string, lines []string) string {
	return "From: " + from + "\n" + strings.Join(lines, "\n")
}

// db.user_exists(name) -> bool
func (d *DB) userExists(L *lua.LState) int {
	name := L.CheckString(1)
	var ok bool
	err := d.call(L, func(ctx context.Context) (err error) {
		ok, err = d.Store.UserExists(ctx, name)
		return err
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LBool(ok))
	return 1
}

// db.auth_user(name, password) -> bool
func (d *DB) authUser(L *lua.LState) int {
	name, password := L.CheckString(1), L.CheckString(2)
	var ok bool
	err := d.call(L, func(ctx context.Context) (err error) {
		ok, err = d.Store.AuthUser(ctx, name, password)
		return err
	})
	if err != nil {
		return fail(L, err)
	}
	if ok && d.OnLogin != nil {
		d.OnLogin(L, name)
	}
	L.Push(lua.LBool(ok))
	return 1
}

// db.register_user(name, password) -> true
func (d *DB) registerUser(L *lua.LState) int {
	name, password := L.CheckString(1), L.CheckString(2)
	if err := d.call(L, func(ctx context.Context) error {
		return d.Store.RegisterUser(ctx, name, password)
	}); err != nil {
		return fail(L, err)
	}
	if d.OnLogin != nil {
		d.OnLogin(L, name)
	}
	L.Push(lua.LTrue)
	return 1
}

// db.post_message(user, lines) -> message id
func (d *DB) postMessage(L *lua.LState) int {
	user, lines := L.CheckString(1), checkLines(L, 2)
	var id int64
	err := d.call(L, func(ctx context.Context) error {
		m, err := d.Store.PostMessage(ctx, user, lines)
		id = m.ID
		return err
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LNumber(id))
	return 1
}

// db.message_count() -> n
func (d *DB) messageCount(L *lua.LState) int {
	var n int
	err := d.call(L, func(ctx context.Context) (err error) {
		n, err = d.Store.MessageCount(ctx)
		return err
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LNumber(n))
	return 1
}

// db.message_read(i) -> text of the message at 0-based index i (0 = oldest)
func (d *DB) messageRead(L *lua.LState) int {
	i := L.CheckInt(1)
	var text string
	err := d.call(L, func(ctx context.Context) error {
		m, err := d.Store.MessageAt(ctx, i)
		text = FormatPost(m.Author, m.Lines)
		return err
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LString(text))
	return 1
}

// db.send_to(to, from, lines) -> true
func (d *DB) sendTo(L *lua.LState) int {
	to, from, lines := L.CheckString(1), L.CheckString(2), checkLines(L, 3)
	if err := d.call(L, func(ctx context.Context) error {
		_, err := d.Store.SendMail(ctx, to, from, lines)
		return err
	}); err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

// db.inbox_count(user) -> number of unread private messages
func (d *DB) inboxCount(L *lua.LState) int {
	user := L.CheckString(1)
	var n int
	err := d.call(L, func(ctx context.Context) (err error) {
		n, err = d.Store.UnreadMailCount(ctx, user)
		return err
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LNumber(n))
	return 1
}

// db.read_inbox(user) -> text of the oldest unread private message, now
// marked read; nil, "no unread mail" when there is none.
func (d *DB) readInbox(L *lua.LState) int {
	user := L.CheckString(1)
	var text string
	err := d.call(L, func(ctx context.Context) error {
		m, err := d.Store.ReadNextMail(ctx, user)
		text = FormatPost(m.From, m.Lines)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return fail(L, errors.New("no unread mail"))
	}
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LString(text))
	return 1
}

// db.reconnect() -> true: close and reopen the database.
func (d *DB) reconnect(L *lua.LState) int {
	if err := d.call(L, d.Store.Reconnect); err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}
