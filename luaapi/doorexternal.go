package luaapi

import (
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/nativedoor"
	"github.com/m2bbs/m2bbs/host/handler/nativedoor/dropfile"
	"github.com/m2bbs/m2bbs/host/shared/termprofile"
)

// ExternalDoor is a native door a script declared with door.external{…}.
type ExternalDoor struct {
	Spec nativedoor.Spec
	// Description is the door's line on a menu.
	Description string
	// Charset is the door's terminal's: CP437 (a DOS door, the default)
	// or UTF-8.
	Charset termprofile.Encoding
	// MaxNode, if set, is the highest node the door runs on (its data
	// files or licence may cover fewer nodes than the board has).
	MaxNode int
}

// ExternalDoors runs native doors (the session table is one).
//
// RunExternal is called by the Go function running on L, a door's run
// called with req; it pushes what run returns (req, then true, why, exit
// code; or req, nil, why) and returns their count, or returns L.Yield()
// and later resumes the coroutine with those values.
type ExternalDoors interface {
	RunExternal(L *lua.LState, door ExternalDoor, req lua.LValue) int
}

// Limits of door.external's declaration.
const (
	// MaxDoorTimeMinutes bounds time_limit.
	MaxDoorTimeMinutes = int(nativedoor.MaxTimeLimit / time.Minute)
	// MaxDoorMemoryMB bounds memory_mb.
	MaxDoorMemoryMB = 16 << 10
)

// door.external{name=, command={…}, …} -> a door entry {name=,
// description=, external=true, run=function(conn, req)}: see
// docs/doors.md. A bad declaration raises an error (the sysop's
// mistake, found when the script loads).
func (d *Door) external(L *lua.LState) int {
	tbl := L.CheckTable(1)
	door, err := parseExternal(tbl)
	if err != nil {
		L.ArgError(1, err.Error())
	}
	holder := L.NewUserData()
	holder.Value = &door
	entry := L.CreateTable(0, 4)
	entry.RawSetString("name", lua.LString(door.Spec.Name))
	entry.RawSetString("description", lua.LString(door.Description))
	entry.RawSetString("external", lua.LTrue)
	entry.RawSetString("run", L.NewClosure(d.runExternal, holder))
	L.Push(entry)
	return 1
}

// door.node() -> the caller's node number on their phone line, or nil.
func (d *Door) node(L *lua.LState) int {
	if d.Node != nil {
		if n := d.Node(L); n > 0 {
			L.Push(lua.LNumber(n))
			return 1
		}
	}
	L.Push(lua.LNil)
	return 1
}

// run(conn, req [, game]) -> req, true, why, exit code; or req, nil, why.
func (d *Door) runExternal(L *lua.LState) int {
	checkConn(L, 1)
	req := L.Get(2)
	door := L.Get(lua.UpvalueIndex(1)).(*lua.LUserData).Value.(*ExternalDoor)
	if d.External == nil {
		L.Push(req)
		L.Push(lua.LNil)
		L.Push(lua.LString("doors cannot run here"))
		return 3
	}
	return d.External.RunExternal(L, *door, req)
}

// parseExternal reads door.external's table.
func parseExternal(t *lua.LTable) (ExternalDoor, error) {
	var door ExternalDoor
	p := fieldReader{t: t}
	door.Spec.Name = p.str("name", true)
	door.Description = p.str("description", false)
	door.Spec.Command = p.strs("command", true)
	door.Spec.Dir = p.str("dir", false)
	for _, k := range p.strs("dropfile", false) {
		kind, err := dropfile.ParseKind(k)
		if err != nil {
			p.fail(err)
		}
		door.Spec.DropFiles = append(door.Spec.DropFiles, kind)
	}
	door.Spec.IO = nativedoor.IO(p.str("io", false))
	door.Spec.TimeLimit = time.Duration(p.minutes("time_limit", MaxDoorTimeMinutes))
	door.Spec.MemoryLimit = uint64(p.num("memory_mb", 0, MaxDoorMemoryMB)) << 20
	door.Spec.OutputRate = p.num("output_rate", 0, 1<<30)
	door.MaxNode = p.num("node", 0, 1<<16)
	door.Spec.Env = p.env("env")
	switch cs := p.str("charset", false); cs {
	case "", "cp437":
		door.Charset = termprofile.CP437
	case "utf-8", "utf8":
		door.Charset = termprofile.UTF8
	default:
		p.fail(fmt.Errorf("charset %q: want cp437 or utf-8", cs))
	}
	if p.err != nil {
		return door, p.err
	}
	if err := door.Spec.Check(); err != nil {
		return door, fmt.Errorf("door %s: %w", door.Spec.Name, err)
	}
	return door, nil
}

// fieldReader reads a declaration's fields, keeping the first error.
type fieldReader struct {
	t   *lua.LTable
	err error
}

func (p *fieldReader) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// str is field name, a string ("" if absent and not required).
func (p *fieldReader) str(name string, required bool) string {
	switch v := p.t.RawGetString(name).(type) {
	case lua.LString:
		return string(v)
	case *lua.LNilType:
		if required {
			p.fail(fmt.Errorf("%s is required", name))
		}
	default:
		p.fail(fmt.Errorf("%s must be a string, not a %s", name, v.Type()))
	}
	return ""
}

// strs is field name, a list of strings or one string.
func (p *fieldReader) strs(name string, required bool) []string {
	switch v := p.t.RawGetString(name).(type) {
	case lua.LString:
		return []string{string(v)}
	case *lua.LTable:
		var out []string
		for i := 1; i <= v.Len(); i++ {
			s, ok := v.RawGetInt(i).(lua.LString)
			if !ok {
				p.fail(fmt.Errorf("%s[%d] must be a string", name, i))
				return nil
			}
			out = append(out, string(s))
		}
		if required && len(out) == 0 {
			p.fail(fmt.Errorf("%s is empty", name))
		}
		return out
	case *lua.LNilType:
		if required {
			p.fail(fmt.Errorf("%s is required", name))
		}
	default:
		p.fail(fmt.Errorf("%s must be a list of strings, not a %s", name, v.Type()))
	}
	return nil
}

// num is field name, a whole number in lo..hi (0 if absent).
func (p *fieldReader) num(name string, lo, hi int) int {
	switch v := p.t.RawGetString(name).(type) {
	case lua.LNumber:
		n := int(v)
		if lua.LNumber(n) != v || n < lo || n > hi {
			p.fail(fmt.Errorf("%s must be a whole number from %d to %d", name, lo, hi))
		}
		return n
	case *lua.LNilType:
	default:
		p.fail(fmt.Errorf("%s must be a number, not a %s", name, v.Type()))
	}
	return 0
}

// minutes is field name, a number of minutes above 0 and at most hi
// (fractions allowed, to the second), as a duration; 0 if absent.
func (p *fieldReader) minutes(name string, hi int) time.Duration {
	switch v := p.t.RawGetString(name).(type) {
	case lua.LNumber:
		d := time.Duration(float64(v) * float64(time.Minute)).Round(time.Second)
		if d < time.Second || float64(v) > float64(hi) {
			p.fail(fmt.Errorf("%s must be a number of minutes, at least a second and at most %d", name, hi))
		}
		return d
	case *lua.LNilType:
	default:
		p.fail(fmt.Errorf("%s must be a number, not a %s", name, v.Type()))
	}
	return 0
}

// env is field name, a table of NAME = value.
func (p *fieldReader) env(name string) []string {
	v, ok := p.t.RawGetString(name).(*lua.LTable)
	if !ok {
		if p.t.RawGetString(name) != lua.LNil {
			p.fail(fmt.Errorf("%s must be a table of NAME = 'value'", name))
		}
		return nil
	}
	var out []string
	v.ForEach(func(k, val lua.LValue) {
		ks, kok := k.(lua.LString)
		vs, vok := val.(lua.LString)
		if !kok || !vok {
			p.fail(fmt.Errorf("%s must be a table of NAME = 'value'", name))
			return
		}
		out = append(out, string(ks)+"="+string(vs))
	})
	return out
}
