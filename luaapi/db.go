package luaapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/shared/termtext"
)

// DB is the db module: the original BBS's database calls over a
// store.Basic. Each function returns its value, or nil and an error message,
// so both assert(db.x()) and local v, err = db.x() work.
type DB struct {
	Store store.Basic
	// OnLogin, if set, is told of each successful db.auth_user and
	// db.register_user, with the state the script runs on: the host uses
	// it to know who each caller is.
	OnLogin func(L *lua.LState, name string)
	// Accounts, if set, makes db.auth_user refuse banned callers and log
	// each successful login (for last callers).
	Accounts store.Accounts
	// Throttle, if set, pauses password guessing (per name and address,
	// and per address) and bounds registrations per address; Peer gives
	// the address of the caller running on L.
	Throttle LoginThrottle
	Peer     func(L *lua.LState) string
	// OnSecret, if set, is told of the password each db.auth_user and
	// db.register_user is given, so the host can keep it out of its logs.
	OnSecret func(L *lua.LState, secret string)
	// Log, if set, gives the logger of the caller running on L: each
	// wrong password is logged there (the throttle bounds how many).
	Log LoggerLookup
	// MinPassword is the fewest characters a new password may have (0:
	// any).
	MinPassword int
	// Reserved are names no one may register, compared by
	// store.LooksLike (so look-alikes such as "sys0p", "SysOp.", a
	// Cyrillic "ѕysop", "adrnin", "sysoop" or "Sysop1" are reserved too);
	// DefaultReservedNames() when nil.
	Reserved []string
	// Recorder, if set, journals the module's calls (New sets it from
	// Deps.Recorder).
	Recorder Recorder
	// Preauth, if set, is the account the host says the caller on L
	// logged in as by an SSH key ("" for none): db.preauthenticated.
	Preauth func(L *lua.LState) string
	// Remote, if set, describes the caller on L if they are a remote
	// board's caller (db.remote_caller, remotecaller.go).
	Remote func(L *lua.LState) RemoteCaller
	// Offload, if set, runs the password hashes of db.auth_user and
	// db.register_user away from the Lua state's goroutine while the
	// caller waits (see Offloader), when Store implements
	// store.Passwords.
	Offload Offloader
}

// LoginThrottle slows down password guessing and mass registration;
// *throttle.Logins implements it. Refusals wrap store.ErrThrottled.
type LoginThrottle interface {
	// BeginLogin counts an attempt at name from peer, or refuses it.
	BeginLogin(ctx context.Context, name, peer string) error
	// LoginSucceeded forgets the attempts at name from peer.
	LoginSucceeded(ctx context.Context, name, peer string) error
	// BeginRegistration counts a registration from peer, or refuses it;
	// undo takes it back.
	BeginRegistration(ctx context.Context, peer string) (undo func(context.Context) error, err error)
}

// DefaultReservedNames returns the names no one may register when
// DB.Reserved is nil: they would pass for the board's own voice. It is a
// function, not a variable, so that no caller can change the default for
// every other.
func DefaultReservedNames() []string {
	return []string{"sysop", "root", "admin", "administrator", "system", "guest", "all", "everyone", "nobody", "m2bbs",
		"new", "bbs", "moderator", "operator", "staff", "support", "anonymous", "server", "host"}
}

// Loader opens the db module. Its function table marks each call
// a read or a write (see Recorder).
func (d *DB) Loader(L *lua.LState) int {
	L.Push(hostCalls{
		"user_exists":   reads(d.userExists),
		"auth_user":     writes(d.authUser),
		"register_user": writes(d.registerUser),
		"post_message":  storeWrites(d.postMessage),
		"message_count": reads(d.messageCount),
		"message_read":  reads(d.messageRead),
		"send_to":       storeWrites(d.sendTo),
		"inbox_count":   reads(d.inboxCount),
		"read_inbox":    storeWrites(d.readInbox),
		"reconnect":     writes(d.reconnect),
		// preauthenticated: sshkeys.go
		"preauthenticated": reads(d.preauthenticated), // its login is journaled as auth_user's
		"remote_caller":    reads(d.remoteCaller),     // remotecaller.go; likewise
	}.table(L, d.Recorder, "db"))
	return 1
}

// storeCall runs fn, one call into the store, and reports a store fault
// (see asStoreFault). fn's context carries L's values but is never
// cancelled: given a context that can be, go-sqlite3 runs each statement
// on a goroutine of its own to be able to interrupt it, and database/sql
// watches each transaction with another, which cost more than the
// statements of a prompt themselves. The store bounds its own calls
// instead: SQLite gives up waiting for a lock after the store's busy
// timeout (store.DefaultBusyTimeout), and its statements are bounded.
func storeCall(L *lua.LState, fn func(ctx context.Context) error) error {
	parent := L.Context()
	if parent == nil {
		parent = context.Background()
	}
	return asStoreFault(L, parent, fn(context.WithoutCancel(parent)))
}

// callStore runs fn as storeCall does and returns its value.
func callStore[T any](L *lua.LState, fn func(ctx context.Context) (T, error)) (T, error) {
	var v T
	err := storeCall(L, func(ctx context.Context) (err error) {
		v, err = fn(ctx)
		return err
	})
	return v, err
}

// listTable converts items for Lua, each with conv, into a list.
func listTable[T any](L *lua.LState, items []T, conv func(L *lua.LState, item T) *lua.LTable) *lua.LTable {
	t := L.CreateTable(len(items), 0)
	for _, item := range items {
		t.Append(conv(L, item))
	}
	return t
}

// fail pushes the expected-failure convention: nil, "message". The
// store's "store: " prefix is dropped: scripts may show the text to callers.
func fail(L *lua.LState, err error) int {
	L.Push(lua.LNil)
	L.Push(lua.LString(failText(err)))
	return 2
}

// failText is err as fail shows it to scripts.
func failText(err error) string {
	return strings.TrimPrefix(err.Error(), "store: ")
}

// failAs is fail, with notFound standing for an error wrapping
// store.ErrNotFound (the store's message names the query, not the thing).
func failAs(L *lua.LState, err, notFound error) int {
	if errors.Is(err, store.ErrNotFound) {
		err = notFound
	}
	return fail(L, err)
}

// checkEither reads the optional string argument n, which must be first
// (the default) or second, and reports whether it is second.
func checkEither(L *lua.LState, n int, first, second string) bool {
	switch L.OptString(n, first) {
	case first:
		return false
	case second:
		return true
	}
	L.ArgError(n, fmt.Sprintf("'%s' or '%s' expected", first, second))
	return false
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
	clean := make([]string, len(lines))
	for i, l := range lines {
		clean[i] = CallerLine(l) // text from a caller: shown as typed
	}
	return "From: " + termtext.CleanLine(from) + "\n" + strings.Join(clean, "\n")
}

// db.user_exists(name) -> bool
func (d *DB) userExists(L *lua.LState) int {
	name := L.CheckString(1)
	ok, err := callStore(L, func(ctx context.Context) (bool, error) {
		return d.Store.UserExists(ctx, name)
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LBool(ok))
	return 1
}

// db.auth_user(name, password) -> bool; nil, "message" while attempts
// from the caller's address pause after repeated failures, or for a
// banned account. The bcrypt check runs through Offload when it can.
func (d *DB) authUser(L *lua.LState) int {
	name, password := L.CheckString(1), L.CheckString(2)
	d.secret(L, password)
	peer := d.peer(L)
	if d.Throttle != nil {
		if err := storeCall(L, func(ctx context.Context) error { return d.Throttle.BeginLogin(ctx, name, peer) }); err != nil {
			return failThrottled(L, "too many failed logins", err)
		}
	}
	split, ok := d.Store.(store.Passwords)
	if !ok {
		ok, err := callStore(L, func(ctx context.Context) (bool, error) {
			return d.Store.AuthUser(ctx, name, password)
		})
		return pushValues(L, d.authDone(L, name, peer, ok, err))
	}
	hash, err := callStore(L, func(ctx context.Context) ([]byte, error) {
		return split.PasswordHash(ctx, name, password)
	})
	if err != nil {
		return fail(L, err)
	}
	var match bool
	return d.answerAfter(L, hash != nil, func() {
		match, err = split.ComparePassword(name, hash, password)
	}, func(L *lua.LState) []lua.LValue {
		return d.authDone(L, name, peer, match, err)
	})
}

// authDone is db.auth_user once the password is checked: ok says whether
// it matched, err why it could not be checked.
func (d *DB) authDone(L *lua.LState, name, peer string, ok bool, err error) []lua.LValue {
	if err != nil {
		return failValues(err)
	}
	if !ok {
		if d.Log != nil {
			d.Log(L).Info("login failed: wrong password", "name", clipName(name), "peer", peer)
		}
		return []lua.LValue{lua.LFalse}
	}
	if d.Throttle != nil {
		// A failure to forget only leaves the owner's own count up: the
		// login goes on, and the log says why the count stays.
		if err := storeCall(L, func(ctx context.Context) error { return d.Throttle.LoginSucceeded(ctx, name, peer) }); err != nil && d.Log != nil {
			d.Log(L).Warn("login throttle: could not forget the failed attempts", "name", clipName(name), "peer", peer, "err", err)
		}
	}
	if d.Accounts != nil {
		account, err := callStore(L, func(ctx context.Context) (store.Account, error) {
			return d.Accounts.Account(ctx, name)
		})
		if err != nil {
			return failValues(err)
		}
		if account.Banned {
			return failValues(errors.New("this account is banned"))
		}
		name = account.Name // as registered, not as typed ("ＺＥＤ\u2009")
	}
	d.loggedIn(L, name)
	return []lua.LValue{lua.LTrue}
}

// secret tells OnSecret of a password.
func (d *DB) secret(L *lua.LState, password string) {
	if d.OnSecret != nil {
		d.OnSecret(L, password)
	}
}

// clipName shortens a name as typed for the log.
func clipName(name string) string {
	if len(name) > store.MaxNameLen*2 {
		return name[:store.MaxNameLen*2] + "..."
	}
	return name
}

// peer is the address of the caller on L ("" when unknown).
func (d *DB) peer(L *lua.LState) string {
	if d.Peer == nil {
		return ""
	}
	return d.Peer(L)
}

// failThrottled pushes nil, "what: try again in N seconds" for a refusal
// of the throttle, else the error.
func failThrottled(L *lua.LState, what string, err error) int {
	var te *store.ThrottledError
	if errors.As(err, &te) {
		return fail(L, fmt.Errorf("%s: try again in %s", what, waitText(te.Wait)))
	}
	return fail(L, err)
}

// waitText says a wait in whole seconds (or minutes past two), rounded up.
func waitText(d time.Duration) string {
	if d > 2*time.Minute {
		return fmt.Sprintf("%d minutes", int((d+time.Minute-1)/time.Minute))
	}
	n := max(int((d+time.Second-1)/time.Second), 1)
	if n == 1 {
		return "1 second"
	}
	return fmt.Sprintf("%d seconds", n)
}

// loggedIn tells the host who the caller is and logs the call.
func (d *DB) loggedIn(L *lua.LState, name string) {
	if d.Accounts != nil {
		// The caller is logged in even if their call cannot be recorded
		// (a full disk): a fault is reported by storeCall, anything
		// else here.
		err := storeCall(L, func(ctx context.Context) error { return d.Accounts.RecordCall(ctx, name) })
		if err != nil && !errors.Is(err, store.ErrFault) {
			reportFault(L, fmt.Errorf("record call: %w", err))
		}
	}
	if d.OnLogin != nil {
		d.OnLogin(L, name)
	}
}

// passwordLength counts the characters of password that are not spaces:
// eight spaces are no password.
func passwordLength(password string) int {
	n := 0
	for _, r := range password {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// db.register_user(name, password) -> true; nil, "message" for a name
// taken, reserved or not allowed, a password too short or too long, or
// too many registrations from the caller's address.
func (d *DB) registerUser(L *lua.LState) int {
	name, password := L.CheckString(1), L.CheckString(2)
	d.secret(L, password)
	if d.reserved(name) {
		return fail(L, fmt.Errorf("the name %q is reserved", store.CleanName(name)))
	}
	if n := passwordLength(password); n < d.MinPassword {
		return fail(L, fmt.Errorf("a password needs at least %d characters, spaces not counted", d.MinPassword))
	}
	undo := func(context.Context) error { return nil }
	if d.Throttle != nil {
		err := storeCall(L, func(ctx context.Context) (err error) {
			undo, err = d.Throttle.BeginRegistration(ctx, d.peer(L))
			return err
		})
		if err != nil {
			return failThrottled(L, "too many new accounts from your address", err)
		}
	}
	split, ok := d.Store.(store.Passwords)
	if !ok {
		err := storeCall(L, func(ctx context.Context) error {
			return d.Store.RegisterUser(ctx, name, password)
		})
		return pushValues(L, d.registerDone(L, name, err, undo))
	}
	if err := storeCall(L, func(ctx context.Context) error {
		return split.CheckRegistration(ctx, name, password)
	}); err != nil {
		return pushValues(L, d.registerDone(L, name, err, undo))
	}
	var (
		hash []byte
		err  error
	)
	return d.answerAfter(L, true, func() {
		hash, err = split.HashPassword(password)
	}, func(L *lua.LState) []lua.LValue {
		if err == nil {
			err = storeCall(L, func(ctx context.Context) error {
				return split.RegisterHashed(ctx, name, hash)
			})
		}
		return d.registerDone(L, name, err, undo)
	})
}

// registerDone is db.register_user once the account is stored, or err
// said why not (the registration is then given back to the throttle).
func (d *DB) registerDone(L *lua.LState, name string, err error, undo func(context.Context) error) []lua.LValue {
	if err != nil {
		_ = storeCall(L, undo)
		return failValues(err)
	}
	d.loggedIn(L, store.CleanName(name)) // as registered, not as typed (see authDone)
	return []lua.LValue{lua.LTrue}
}

// reserved reports whether name is, or looks like, a reserved name.
func (d *DB) reserved(name string) bool {
	reserved := d.Reserved
	if reserved == nil {
		reserved = DefaultReservedNames()
	}
	for _, r := range reserved {
		if store.LooksLike(name, r) {
			return true
		}
	}
	return false
}

// db.post_message(user, lines) -> message id
func (d *DB) postMessage(L *lua.LState) int {
	user, lines := L.CheckString(1), checkLines(L, 2)
	m, err := callStore(L, func(ctx context.Context) (store.Message, error) {
		return d.Store.PostMessage(ctx, user, lines)
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LNumber(m.ID))
	return 1
}

// db.message_count() -> n
func (d *DB) messageCount(L *lua.LState) int {
	n, err := callStore(L, d.Store.MessageCount)
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LNumber(n))
	return 1
}

// db.message_read(i) -> text of the message at 0-based index i (0 = oldest)
func (d *DB) messageRead(L *lua.LState) int {
	i := L.CheckInt(1)
	m, err := callStore(L, func(ctx context.Context) (store.Message, error) {
		return d.Store.MessageAt(ctx, i)
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LString(FormatPost(m.Author, m.Lines)))
	return 1
}

// db.send_to(to, from, lines) -> true
func (d *DB) sendTo(L *lua.LState) int {
	to, from, lines := L.CheckString(1), L.CheckString(2), checkLines(L, 3)
	if err := storeCall(L, func(ctx context.Context) error {
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
	n, err := callStore(L, func(ctx context.Context) (int, error) {
		return d.Store.UnreadMailCount(ctx, user)
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LNumber(n))
	return 1
}

// errNoUnreadMail replaces the store's not-found error for db.read_inbox.
var errNoUnreadMail = errors.New("no unread mail")

// db.read_inbox(user) -> text of the oldest unread private message, now
// marked read; nil, "no unread mail" when there is none.
func (d *DB) readInbox(L *lua.LState) int {
	user := L.CheckString(1)
	m, err := callStore(L, func(ctx context.Context) (store.Mail, error) {
		return d.Store.ReadNextMail(ctx, user)
	})
	if err != nil {
		return failAs(L, err, errNoUnreadMail)
	}
	L.Push(lua.LString(FormatPost(m.From, m.Lines)))
	return 1
}

// db.reconnect() -> true: close and reopen the database.
func (d *DB) reconnect(L *lua.LState) int {
	if err := storeCall(L, d.Store.Reconnect); err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}
