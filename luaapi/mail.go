package luaapi

import (
	"context"
	"errors"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/shared/termtext"
)

// Mail is the mail module: private mail that is kept, read or unread,
// until its recipient deletes it, over a store.Mailbox. It works on the
// same mail as db.send_to, db.inbox_count and db.read_inbox. Functions
// return their value, or nil and a message for an expected failure (no
// such mail, no such user); wrong argument types raise an error.
type Mail struct {
	Store store.Mailbox
	// Netmail says the board is on a FidoNet network: only then may mail
	// go to "Name@zone:net/node" (see the ftn module).
	Netmail bool
	// Recorder, if set, journals the module's calls (New sets it from
	// Deps.Recorder).
	Recorder Recorder
}

// Loader opens the mail module. Its function table marks each call
// a read or a write (see Recorder).
func (m *Mail) Loader(L *lua.LState) int {
	L.Push(hostCalls{
		"send":   storeWrites(m.send),
		"list":   reads(m.list),
		"count":  reads(m.count),
		"unread": reads(m.unread),
		"read":   storeWrites(m.read),
		"delete": writes(m.delete),
	}.table(L, m.Recorder, "mail"))
	return 1
}

// errNoSuchMail replaces the store's not-found error for scripts: mail to
// someone else is reported the same way as mail that does not exist.
var errNoSuchMail = errors.New("no such mail")

// mailTable converts a mail for Lua: {id, from, to, subject, time, read,
// lines (if read)}.
func mailTable(L *lua.LState, item store.MailItem) *lua.LTable {
	t := L.CreateTable(0, 7)
	t.RawSetString("id", lua.LNumber(item.ID))
	t.RawSetString("from", lua.LString(termtext.CleanLine(item.From)))
	t.RawSetString("to", lua.LString(termtext.CleanLine(item.To)))
	t.RawSetString("subject", lua.LString(CallerLine(item.Subject)))
	t.RawSetString("time", lua.LNumber(item.Sent.Unix()))
	t.RawSetString("read", lua.LBool(item.Read))
	if item.Lines != nil {
		t.RawSetString("lines", stringList(L, item.Lines))
	}
	return t
}

// mail.send(to, from, subject, lines) -> the new mail's id
func (m *Mail) send(L *lua.LState) int {
	to, from, subject, lines := L.CheckString(1), L.CheckString(2), L.OptString(3, ""), checkLines(L, 4)
	if _, _, ftn := store.FTNDestination(to); ftn && !m.Netmail {
		return fail(L, errNoFTN)
	}
	item, err := callStore(L, func(ctx context.Context) (store.MailItem, error) {
		return m.Store.WriteMail(ctx, to, from, subject, lines)
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LNumber(item.ID))
	return 1
}

// mail.list(user [, offset [, limit]]) -> user's mail, newest first,
// without lines
func (m *Mail) list(L *lua.LState) int {
	user := L.CheckString(1)
	offset, limit := checkPage(L, 2)
	items, err := callStore(L, func(ctx context.Context) ([]store.MailItem, error) {
		return m.Store.ListMail(ctx, user, offset, limit)
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(listTable(L, items, mailTable))
	return 1
}

// mail.count(user) -> total, unread
func (m *Mail) count(L *lua.LState) int {
	user := L.CheckString(1)
	var total, unread int
	if err := storeCall(L, func(ctx context.Context) (err error) {
		total, unread, err = m.Store.MailCount(ctx, user)
		return err
	}); err != nil {
		return fail(L, err)
	}
	L.Push(lua.LNumber(total))
	L.Push(lua.LNumber(unread))
	return 2
}

// mail.unread(user) -> number of unread mails
func (m *Mail) unread(L *lua.LState) int {
	user := L.CheckString(1)
	n, err := callStore(L, func(ctx context.Context) (int, error) {
		return m.Store.UnreadMailCount(ctx, user)
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LNumber(n))
	return 1
}

// mail.read(user, id) -> the mail with its lines, now marked read
func (m *Mail) read(L *lua.LState) int {
	user, id := L.CheckString(1), checkID(L, 2)
	item, err := callStore(L, func(ctx context.Context) (store.MailItem, error) {
		return m.Store.ReadMail(ctx, user, id)
	})
	if err != nil {
		return failAs(L, err, errNoSuchMail)
	}
	L.Push(mailTable(L, item))
	return 1
}

// mail.delete(user, id) -> true; only user's own mail can be deleted
func (m *Mail) delete(L *lua.LState) int {
	user, id := L.CheckString(1), checkID(L, 2)
	err := storeCall(L, func(ctx context.Context) error {
		return m.Store.DeleteMail(ctx, user, id)
	})
	if err != nil {
		return failAs(L, err, errNoSuchMail)
	}
	L.Push(lua.LTrue)
	return 1
}
