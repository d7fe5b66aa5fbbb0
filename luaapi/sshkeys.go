package luaapi

import (
	"context"
	"errors"
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/shared/authkey"
)

// SSHKeys is the sshkeys module: the logged-in caller registers, lists
// and removes the public keys they log in with over SSH.
//
//	sshkeys.add(line)          -> {type, fingerprint, line} | nil, "why"
//	sshkeys.list()             -> {{type, fingerprint, line, added}, ...}
//	sshkeys.remove(fingerprint) -> true | nil, "why"
type SSHKeys struct {
	Store store.SSHKeys
	// Current is the caller logged in on L ("" for nobody: every call
	// fails).
	Current CurrentUser
	// Recorder, if set, journals the module's calls.
	Recorder Recorder
}

// errNotLoggedIn is what a caller who has not logged in is told.
var errNotLoggedIn = errors.New("log in first")

// Loader opens the sshkeys module.
func (k *SSHKeys) Loader(L *lua.LState) int {
	L.Push(hostCalls{
		"add":    writes(k.add),
		"list":   reads(k.list),
		"remove": writes(k.remove),
	}.table(L, k.Recorder, "sshkeys"))
	return 1
}

// user is the caller logged in on L, or "".
func (k *SSHKeys) user(L *lua.LState) string {
	if k.Current == nil || k.Store == nil {
		return ""
	}
	return k.Current(L)
}

// add registers the authorized_keys line given for the caller.
func (k *SSHKeys) add(L *lua.LState) int {
	line := L.CheckString(1)
	name := k.user(L)
	if name == "" {
		return fail(L, errNotLoggedIn)
	}
	key, err := authkey.Parse(line)
	if err != nil {
		return fail(L, keyProblem(err))
	}
	err = storeCall(L, func(ctx context.Context) error {
		return k.Store.AddSSHKey(ctx, name, store.SSHKey{Type: key.Type, Fingerprint: key.Fingerprint, Line: key.Line})
	})
	if err != nil {
		return fail(L, err)
	}
	t := L.CreateTable(0, 3)
	t.RawSetString("type", lua.LString(key.Type))
	t.RawSetString("fingerprint", lua.LString(key.Fingerprint))
	t.RawSetString("line", lua.LString(key.Line))
	L.Push(t)
	return 1
}

// keyProblem says why a pasted line was refused, in words for a caller.
func keyProblem(err error) error {
	switch {
	case errors.Is(err, authkey.ErrTooLong):
		return fmt.Errorf("that line is too long (at most %d bytes)", authkey.MaxLine)
	case errors.Is(err, authkey.ErrOptions):
		return errors.New("paste the key without options (command=, from=, ...)")
	case errors.Is(err, authkey.ErrType):
		return fmt.Errorf("that kind of key is not taken: use ssh-ed25519, ecdsa-sha2-nistp256 or ssh-rsa of %d bits or more", authkey.MinRSABits)
	}
	return errors.New("that is not a public key line (paste one line of your .pub file)")
}

// list lists the caller's keys.
func (k *SSHKeys) list(L *lua.LState) int {
	name := k.user(L)
	if name == "" {
		return fail(L, errNotLoggedIn)
	}
	keys, err := callStore(L, func(ctx context.Context) ([]store.SSHKey, error) { return k.Store.ListSSHKeys(ctx, name) })
	if err != nil {
		return fail(L, err)
	}
	L.Push(listTable(L, keys, func(L *lua.LState, key store.SSHKey) *lua.LTable {
		t := L.CreateTable(0, 4)
		t.RawSetString("type", lua.LString(key.Type))
		t.RawSetString("fingerprint", lua.LString(key.Fingerprint))
		t.RawSetString("line", lua.LString(key.Line))
		t.RawSetString("added", lua.LNumber(key.AddedAt.Unix()))
		return t
	}))
	return 1
}

// remove forgets one of the caller's keys by its fingerprint.
func (k *SSHKeys) remove(L *lua.LState) int {
	fingerprint := L.CheckString(1)
	name := k.user(L)
	if name == "" {
		return fail(L, errNotLoggedIn)
	}
	if err := storeCall(L, func(ctx context.Context) error { return k.Store.RemoveSSHKey(ctx, name, fingerprint) }); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fail(L, errors.New("you have no key with that fingerprint"))
		}
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

// preauthenticated is db.preauthenticated(conn): the account the host
// says the caller on L proved a key of (an SSH key login), logged in, or
// nil; nil and a message if that account is banned now.
func (d *DB) preauthenticated(L *lua.LState) int {
	if d.Preauth == nil {
		L.Push(lua.LNil)
		return 1
	}
	name := d.Preauth(L)
	if name == "" {
		L.Push(lua.LNil)
		return 1
	}
	if d.Accounts != nil {
		account, err := callStore(L, func(ctx context.Context) (store.Account, error) { return d.Accounts.Account(ctx, name) })
		if err != nil {
			return fail(L, err)
		}
		if account.Banned {
			return fail(L, errors.New("this account is banned"))
		}
		name = account.Name
	}
	d.loggedIn(L, name)
	L.Push(lua.LString(name))
	return 1
}
