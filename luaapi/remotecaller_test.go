package luaapi

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/doorserver"
)

// TestRemoteCaller: db.remote_caller gives a remote board's caller their
// name, board, user and entry and logs them in under board:user; anyone
// else gets nil and is not logged in.
func TestRemoteCaller(t *testing.T) {
	for _, c := range []struct {
		name   string
		remote RemoteCaller
		want   string
	}{
		{"remote", RemoteCaller{Name: "alpha:bob", Board: "alpha", User: "bob", Entry: "guess"}, "alpha:bob alpha bob guess"},
		{"local", RemoteCaller{}, "nil"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var logins []string
			L := lua.NewState()
			defer L.Close()
			d := &DB{
				Remote:  func(*lua.LState) RemoteCaller { return c.remote },
				OnLogin: func(_ *lua.LState, name string) { logins = append(logins, name) },
			}
			L.PreloadModule("db", d.Loader)
			err := L.DoString(`
				local c = require('db').remote_caller(conn)
				if c then got = c.name .. ' ' .. c.board .. ' ' .. c.user .. ' ' .. c.entry else got = 'nil' end`)
			if err != nil {
				t.Fatal(err)
			}
			if got := L.GetGlobal("got").String(); got != c.want {
				t.Errorf("db.remote_caller gave %q, want %q", got, c.want)
			}
			if c.remote.Name != "" && (len(logins) != 1 || logins[0] != c.remote.Name) {
				t.Errorf("logins %q, want %q", logins, c.remote.Name)
			}
			if c.remote.Name == "" && len(logins) != 0 {
				t.Errorf("a local caller was logged in as %q", logins)
			}
		})
	}
}

// TestDoorServersList: door.servers names the servers of the settings
// and their titles (the name when there is none), nothing of their
// addresses or secrets.
func TestDoorServersList(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	d := &Door{Servers: []doorserver.Server{
		{Name: "alpha", Title: "Alpha's doors", Address: "192.0.2.1:513", Secret: "pw"},
		{Name: "tel", Protocol: "telnet", Address: "192.0.2.2:23"},
	}}
	L.PreloadModule("door", d.Loader)
	err := L.DoString(`
		local out = {}
		for _, s in ipairs(require('door').servers()) do
			for k, v in pairs(s) do out[#out + 1] = k .. '=' .. v end
		end
		table.sort(out)
		got = table.concat(out, ' ')`)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := L.GetGlobal("got").String(), "name=alpha name=tel title=Alpha's doors title=tel"; got != want {
		t.Errorf("door.servers() = %q, want %q", got, want)
	}
}

// fakeServerRunner records the calls door.server hands over.
type fakeServerRunner struct {
	calls []doorserver.Caller
}

func (f *fakeServerRunner) RunDoorServer(L *lua.LState, server doorserver.Server, caller doorserver.Caller, req lua.LValue) int {
	f.calls = append(f.calls, caller)
	L.Push(req)
	L.Push(lua.LTrue)
	return 2
}

// TestDoorServerCall: door.server hands a logged-in caller's call to the
// runner with their name, terminal and the door code; an unknown server,
// a bad door code, nobody logged in or no runner is an answer, not an
// error.
func TestDoorServerCall(t *testing.T) {
	runner := &fakeServerRunner{}
	user := ""
	L := lua.NewState()
	defer L.Close()
	d := &Door{
		Servers:      []doorserver.Server{{Name: "alpha", Address: "192.0.2.1:513", Terminal: "xtrn={door}"}},
		User:         func(*lua.LState) string { return user },
		ServerRunner: runner,
	}
	L.PreloadModule("door", d.Loader)
	conn := NewConn("7", "sender-1", &recordingReplier{})
	conn.Terminal.Type = "ansi-bbs"
	L.SetGlobal("conn", NewConnValue(L, conn))
	call := func(args string) string {
		t.Helper()
		if err := L.DoString(`local r, ok, why = require('door').server(conn, 'REQ', ` + args + `)
			got = tostring(r) .. ' ' .. tostring(ok) .. ' ' .. tostring(why)`); err != nil {
			t.Fatal(err)
		}
		return L.GetGlobal("got").String()
	}
	if got := call(`'alpha', 'lord'`); got != "REQ nil log in first" {
		t.Errorf("before login: %q", got)
	}
	user = "ann"
	if got := call(`'alpha', 'lord'`); got != "REQ true nil" || len(runner.calls) != 1 ||
		runner.calls[0] != (doorserver.Caller{User: "ann", Terminal: "ansi-bbs", Door: "lord"}) {
		t.Errorf("a call: %q, runner saw %+v", got, runner.calls)
	}
	if got := call(`'beta'`); !strings.Contains(got, `REQ nil no door server is called "beta"`) {
		t.Errorf("an unknown server: %q", got)
	}
	if got := call(`'alpha', 'lo rd'`); !strings.HasPrefix(got, "REQ nil ") || !strings.Contains(got, "door code") {
		t.Errorf("a bad door code: %q", got)
	}
	d.ServerRunner = nil
	if got := call(`'alpha'`); got != "REQ nil door servers cannot be reached from here" {
		t.Errorf("no runner: %q", got)
	}
	if len(runner.calls) != 1 {
		t.Errorf("the runner saw %d calls, want 1", len(runner.calls))
	}
}
