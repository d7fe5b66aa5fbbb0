package luaapi

import (
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
	"golang.org/x/crypto/ssh"
)

// TestSSHKeysModule: a logged-in caller adds a key (pasted with a comment
// and spaces), lists it, cannot add it twice, removes it; bad lines and
// callers who have not logged in get nil and a message.
func TestSSHKeysModule(t *testing.T) {
	L, db := newBoardState(t)
	user := ""
	L.PreloadModule("sshkeys", (&SSHKeys{Store: db, Current: func(*lua.LState) string { return user }}).Loader)
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	sshPub, _ := ssh.NewPublicKey(pub)
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))
	fingerprint := ssh.FingerprintSHA256(sshPub)
	L.SetGlobal("LINE", lua.LString("  "+line+" ann@home \n"))
	L.SetGlobal("FP", lua.LString(fingerprint))

	runLuaOK(t, L, `
		local sshkeys = require 'sshkeys'
		local none, why = sshkeys.add(LINE)
		assert(none == nil and why == 'log in first', why)
	`)
	user = "ann"
	runLuaOK(t, L, `
		local sshkeys = require 'sshkeys'
		local k = assert(sshkeys.add(LINE))
		assert(k.type == 'ssh-ed25519' and k.fingerprint == FP and k.line:sub(-9) == ' ann@home', k.line)
		local none, why = sshkeys.add(LINE)
		assert(none == nil and why:find('already registered'), why)
		none, why = sshkeys.add('ssh-dss AAAAB3NzaC1kc3MAAACBAP')
		assert(none == nil and why:find('not a public key line'), why)
		none, why = sshkeys.add('command="sh" ' .. LINE)
		assert(none == nil and why:find('without options'), why)
		local list = assert(sshkeys.list())
		assert(#list == 1 and list[1].fingerprint == FP and type(list[1].added) == 'number')
		assert(sshkeys.remove(FP) == true)
		none, why = sshkeys.remove(FP)
		assert(none == nil and why == 'you have no key with that fingerprint', why)
		assert(#assert(sshkeys.list()) == 0)
	`)
}
