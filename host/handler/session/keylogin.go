package session

import (
	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/shared/keylogin"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
	"github.com/m2bbs/m2bbs/luaapi"
)

// takeKeyLogin handles the SSH gateway's word that its caller proved a
// public key of an account (host/shared/keylogin): a "connect" carrying
// an assertion signed with the key of Config.KeyLogins, fresh and never
// seen before. The key lives only in this process's memory, so the MAC is
// the proof; the caller's address is not (the built-in front end passes
// on the SSH caller's own address, wherever they call from). It returns the
// account's name, which db.preauthenticated then gives the script, or ""
// for a caller who did not log in by key.
//
// An assertion anywhere else (another line than "connect", a wrong MAC, stale or replayed, or on a host that takes no key
// logins) is refused and logged: the caller goes on as one who did not
// log in, to the board's own prompts. The fields are removed from every
// request (its data table, body and the journal's copy), so a script, a
// log or a journal never sees them; a session rebuilt from its journal
// needs no assertion, as the journal holds what db.preauthenticated said.
func (t *Table) takeKeyLogin(req *m2proto.Request, msg *lua.LTable, line string) string {
	return t.takeAssertion(req, msg, line, keylogin.KeyLoginWire, t.cfg.KeyLogins, "key login")
}

// takeAssertion removes the members of wire from msg (and req's body),
// and if there were any, verifies them with v as a gateway's assertion on
// a "connect": it returns the name vouched for, or "" (logged, as what).
func (t *Table) takeAssertion(req *m2proto.Request, msg *lua.LTable, line string, wire keylogin.Wire, v *keylogin.Verifier, what string) string {
	var a keylogin.Assertion
	present := false
	for _, field := range wire.Fields() {
		val := msg.RawGetString(field)
		if val == lua.LNil {
			continue
		}
		present = true
		msg.RawSetString(field, lua.LNil)
		switch field {
		case wire.Name:
			a.Name = lua.LVAsString(val)
		case wire.At:
			if n, ok := val.(lua.LNumber); ok {
				a.At = int64(n)
			}
		case wire.Nonce:
			a.Nonce = lua.LVAsString(val)
		case wire.MAC:
			a.MAC = lua.LVAsString(val)
		}
	}
	if !present {
		return ""
	}
	if body, err := luaapi.AppendJSON(nil, msg); err == nil {
		req.Body = body
	}
	remote := req.Header("REMOTE_ADDR")
	refuse := func(why string, err error) string {
		t.noisy.Warn(what+" refused", "conn_id", req.ConnID, "remote", remote, "name", clipName(a.Name), "why", why, "err", err)
		return ""
	}
	if line != "connect" {
		return refuse("not on a connect", nil)
	}
	name, err := v.Verify(a, t.now())
	if err != nil {
		return refuse("assertion not valid", err)
	}
	return name
}

// preauthOf is the account the caller on L proved an SSH key of, as
// takeKeyLogin verified it at the start of their call ("" for none).
func (t *Table) preauthOf(L *lua.LState) string {
	if s := t.sessionOn(L); s != nil {
		return s.preauth
	}
	return ""
}

// clipName shortens a name for the log.
func clipName(name string) string {
	if len(name) > 64 {
		return name[:64] + "..."
	}
	return name
}
