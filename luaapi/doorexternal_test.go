package luaapi

import (
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/nativedoor"
	"github.com/m2bbs/m2bbs/host/handler/nativedoor/dropfile"
	"github.com/m2bbs/m2bbs/host/shared/termprofile"
)

// fakeDoors records the door a run asked for.
type fakeDoors struct{ got ExternalDoor }

func (f *fakeDoors) RunExternal(L *lua.LState, door ExternalDoor, req lua.LValue) int {
	f.got = door
	L.Push(req)
	L.Push(lua.LTrue)
	return 2
}

// TestDoorExternal: door.external reads the sysop's declaration into a
// door entry whose run hands the door to the host.
func TestDoorExternal(t *testing.T) {
	doors := &fakeDoors{}
	L := lua.NewState()
	t.Cleanup(L.Close)
	if err := New(Deps{Screens: screenMap{}, ExternalDoors: doors}).Open(L); err != nil {
		t.Fatal(err)
	}
	err := L.DoString(`
		local door = require 'door'
		local lord = door.external{name = 'LORD', description = 'Red Dragon', command = {'/opt/lord/start.sh', '{node}'},
			dir = '/opt/lord', dropfile = 'door.sys', io = 'socket', time_limit = 0.5, memory_mb = 64,
			output_rate = 8192, node = 4, env = {LANG = 'C'}, charset = 'utf-8'}
		assert(lord.name == 'LORD' and lord.description == 'Red Dragon' and lord.external)
		local req, ok = lord.run(conn_stub, {data = {msg = 'x'}})
		assert(ok == true and req.data.msg == 'x')
	`)
	if err == nil || !strings.Contains(err.Error(), "conn expected") {
		// run checks its conn: the stub above is nil on purpose.
		t.Fatalf("run with no conn: %v", err)
	}
	err = L.DoString(`return require('door').external{name = 'LORD', command = '/opt/lord/start.sh', dropfile = {'door32.sys', 'chain.txt'}}`)
	if err != nil {
		t.Fatal(err)
	}
	entry := L.Get(-1).(*lua.LTable)
	if entry.RawGetString("run").Type() != lua.LTFunction {
		t.Fatal("no run")
	}
	L.Pop(1)
	got, err := parseExternal(mustTable(t, L, `return {name = 'LORD', command = {'/x', '{node}'}, dropfile = 'door.sys', io = 'socket',
		time_limit = 0.5, memory_mb = 64, output_rate = 8192, node = 4, env = {LANG = 'C'}, charset = 'utf-8'}`))
	if err != nil {
		t.Fatal(err)
	}
	want := nativedoor.Spec{Name: "LORD", Command: []string{"/x", "{node}"}, DropFiles: []dropfile.Kind{dropfile.DoorSys},
		IO: nativedoor.Socket, TimeLimit: 30 * time.Second, MemoryLimit: 64 << 20, OutputRate: 8192, Env: []string{"LANG=C"}}
	if got.Spec.Name != want.Name || strings.Join(got.Spec.Command, " ") != "/x {node}" || got.Spec.DropFiles[0] != want.DropFiles[0] ||
		got.Spec.IO != want.IO || got.Spec.TimeLimit != want.TimeLimit || got.Spec.MemoryLimit != want.MemoryLimit ||
		got.Spec.OutputRate != want.OutputRate || got.Spec.Env[0] != "LANG=C" || got.MaxNode != 4 || got.Charset != termprofile.UTF8 {
		t.Errorf("parsed %+v", got)
	}
}

// TestDoorExternalRefusesBadDeclarations: a mistake in a declaration is
// an error naming it, when the script loads.
func TestDoorExternalRefusesBadDeclarations(t *testing.T) {
	L := lua.NewState()
	t.Cleanup(L.Close)
	if err := New(Deps{Screens: screenMap{}}).Open(L); err != nil {
		t.Fatal(err)
	}
	for decl, want := range map[string]string{
		`{command = {'/x'}}`:                                     "name is required",
		`{name = 'x'}`:                                           "command is required",
		`{name = 'x', command = {}}`:                             "command is empty",
		`{name = 'x', command = {'/x', 3}}`:                      "command[2] must be a string",
		`{name = 'x', command = '/x', dropfile = 'pcboard.sys'}`: "unknown drop file",
		`{name = 'x', command = '/x', io = 'serial'}`:            "io \"serial\"",
		`{name = 'x', command = '/x', time_limit = 0}`:           "time_limit",
		`{name = 'x', command = '/x', time_limit = 100000}`:      "time_limit",
		`{name = 'x', command = '/x', memory_mb = -1}`:           "memory_mb",
		`{name = 'x', command = '/x', charset = 'latin1'}`:       "charset",
		`{name = 'x', command = '/x', env = {1, 2}}`:             "env",
	} {
		err := L.DoString(`require('door').external` + decl)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", decl, err, want)
		}
	}
}

// mustTable runs code returning a table.
func mustTable(t *testing.T, L *lua.LState, code string) *lua.LTable {
	t.Helper()
	if err := L.DoString(code); err != nil {
		t.Fatal(err)
	}
	tbl := L.Get(-1).(*lua.LTable)
	L.Pop(1)
	return tbl
}
