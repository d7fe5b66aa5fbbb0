package luaapi

import (
	"errors"
	"fmt"
	"reflect"

	lua "github.com/yuin/gopher-lua"
)

// Error positions as Lua 5.1 gives them. gopher-lua's error(msg, level)
// names the position of level-1 (its stack walk starts at error's own
// frame and then skips every Go frame), so error(msg, 2), the usual way a
// library blames its caller (strict.lua's __index), names the function
// that called error instead of its caller. The error and assert installed
// here count levels as Lua 5.1's luaL_where does:
//
//   - level 1 is the function that called error, level 2 its caller, and
//     so on; level 0, or a message that is neither a string nor a number,
//     gets no position;
//   - a Go function (pcall, tostring, table.sort...) is a level of its own
//     with no position, as a C function is in Lua 5.1;
//   - a tail call is a level with no position;
//   - a level past the coroutine's first function gets no position;
//   - the Go function that runs a chunk's `..` (concat.go) is no level:
//     in Lua 5.1 `..` is an instruction that calls __concat itself.
//
// The yield-safe pcall and xpcall (compat.go) are Lua functions that run
// the protected function in a coroutine of their own: every frame of that
// machinery counts as one Go frame, the pcall, and the walk goes on in the
// coroutine that called pcall, so error(msg, 3) from a function called
// by pcall names the line that called pcall, as in Lua 5.1.

// plumbing is the set of function prototypes of the yield-safe pcall's
// chunk: their frames stand for one Go function, the pcall.
type plumbing map[*lua.FunctionProto]bool

// newPlumbing collects proto and every function prototype nested in it.
func newPlumbing(proto *lua.FunctionProto) plumbing {
	p := plumbing{}
	var add func(*lua.FunctionProto)
	add = func(fp *lua.FunctionProto) {
		p[fp] = true
		for _, nested := range fp.FunctionPrototypes {
			add(nested)
		}
	}
	add(proto)
	return p
}

// has reports whether fn is one of the pcall machinery's Lua functions.
func (p plumbing) has(fn lua.LValue) bool {
	f, ok := fn.(*lua.LFunction)
	return ok && !f.IsG && p[f.Proto]
}

// openErrorPositions installs error, assert and coroutine.wrap with Lua
// 5.1's positions.
func openErrorPositions(L *lua.LState, p plumbing) {
	openWrapPositions(L, p)
	L.SetGlobal("error", L.NewFunction(func(L *lua.LState) int {
		msg := L.Get(1)
		level := L.OptInt(2, 1)
		switch msg.(type) {
		case lua.LString, lua.LNumber:
			if level > 0 {
				msg = lua.LString(p.where(L, level) + lua.LVAsString(msg))
			}
		}
		L.Error(msg, 0)
		return 0
	}))
	L.SetGlobal("assert", L.NewFunction(func(L *lua.LState) int {
		if lua.LVAsBool(L.CheckAny(1)) {
			return L.GetTop()
		}
		msg := L.OptString(2, "assertion failed!")
		L.Error(lua.LString(p.where(L, 1)+msg), 0)
		return 0
	}))
}

// openWrapPositions replaces coroutine.wrap with one whose function, as
// Lua 5.1's, puts the position of its caller before a string error raised
// inside the coroutine.
func openWrapPositions(L *lua.LState, p plumbing) {
	co, ok := L.GetGlobal("coroutine").(*lua.LTable)
	if !ok {
		return
	}
	wrap, ok := co.RawGetString("wrap").(*lua.LFunction)
	if !ok {
		return
	}
	co.RawSetString("wrap", L.NewFunction(func(L *lua.LState) int {
		L.Push(wrap)
		L.Push(L.Get(1))
		L.Call(1, 1)
		resume := L.Get(-1)
		L.Pop(1)
		L.Push(L.NewFunction(func(L *lua.LState) int {
			n := L.GetTop()
			L.Insert(resume, 1)
			if err := L.PCall(n, lua.MultRet, nil); err != nil {
				msg := errorValue(err)
				switch msg.(type) {
				case lua.LString, lua.LNumber:
					msg = lua.LString(p.where(L, 1) + lua.LVAsString(msg))
				}
				L.Error(msg, 0)
			}
			return L.GetTop()
		}))
		return 1
	}))
}

// errorValue is the value a Lua error raised, from PCall's error.
func errorValue(err error) lua.LValue {
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) && apiErr.Object != nil {
		return apiErr.Object
	}
	return lua.LString(err.Error())
}

// frame is one level of the stack as Lua 5.1 counts them.
type frame struct {
	// pos is "source:line: ", empty for a Go function or a tail call.
	pos string
	// plumbing is set for a frame of the yield-safe pcall's machinery.
	plumbing bool
}

// maxLevel bounds the levels where walks: past it, no position (a
// stack is walked level by level, each costing up to the depth of its
// coroutine).
const maxLevel = 1000

// where is Lua 5.1's luaL_where(L, level) for the function running on L
// (level 0): the position of the function level levels up the stack, or
// "" when it has none.
func (p plumbing) where(L *lua.LState, level int) string {
	if level > maxLevel {
		return ""
	}
	n := 0
	prevPlumbing := false
	found := ""
	p.walk(L, func(f frame) bool {
		if f.plumbing && prevPlumbing {
			return true // the same Go frame, the pcall, goes on
		}
		prevPlumbing = f.plumbing
		if n == level {
			found = f.pos
			return false
		}
		n++
		return true
	})
	return found
}

// walk calls visit with each frame from the one running on L (error
// itself) to the first function of its coroutine, and on through the
// coroutines of the yield-safe pcall, until visit returns false. A Go
// function that the pcall's machinery called is reported as plumbing too.
func (p plumbing) walk(L *lua.LState, visit func(frame) bool) {
	for th := L; th != nil; th = th.Parent {
		bottomIsPlumbing := false
		for level := 0; ; {
			dbg, ok := th.GetStack(level)
			if !ok {
				break
			}
			fn, err := th.GetInfo("Slf", dbg, lua.LNil)
			if err != nil {
				return
			}
			lf := fn.(*lua.LFunction)
			isGo := lf.IsG
			if isGo && isConcat(lf) {
				level++ // a .. b is an instruction in Lua 5.1, not a call
				continue
			}
			f := p.describe(th, level, dbg, lf, th == L && level == 0)
			if !visit(f) {
				return
			}
			tail := 0
			if !isGo {
				tail = tailCalls(dbg)
			}
			for range tail {
				// The machinery's tail calls (pcall's return run(...))
				// are part of it.
				if !visit(frame{plumbing: f.plumbing}) {
					return
				}
			}
			level += 1 + tail
			bottomIsPlumbing = dbg.What == "main" && f.plumbing
		}
		if !bottomIsPlumbing {
			return
		}
	}
}

// describe is the frame of lf at level of th's stack, dbg its Debug
// filled with "Sl"; self is set for error's own frame.
func (p plumbing) describe(th *lua.LState, level int, dbg *lua.Debug, lf *lua.LFunction, self bool) frame {
	f := frame{plumbing: p.has(lf)}
	if lf.IsG && !self {
		// A Go function that the machinery called (its
		// coroutine.resume, the plain pcall) is part of it.
		if caller, ok := th.GetStack(level + 1); ok {
			callerFn, err := th.GetInfo("f", caller, lua.LNil)
			f.plumbing = err == nil && p.has(callerFn)
		}
	}
	if !lf.IsG && !f.plumbing && dbg.CurrentLine > 0 {
		f.pos = fmt.Sprintf("%s:%d: ", dbg.Source, dbg.CurrentLine)
	}
	return f
}

// isConcat reports whether the Go function fn is a chunk's bounded `..`
// (concatOp, concat.go): its frame is not a level, as `..` is an
// instruction in Lua 5.1, so a __concat metamethod's error(msg, 2) names
// the line of the `..`.
func isConcat(fn *lua.LFunction) bool {
	return fn.GFunction != nil && reflect.ValueOf(fn.GFunction).Pointer() == reflect.ValueOf(lua.LGFunction(concatOp)).Pointer()
}

// tailCalls is how many tail calls replaced the Lua function's frame dbg
// describes. gopher-lua counts them in GetStack's levels, as Lua 5.1 does,
// but its Debug does not say how many there were: this reads the count
// from the frame (gopher-lua v1.1.2's callFrame.TailCall), without
// changing anything. If a later gopher-lua renames it, tail calls count
// as none and TestErrorPositionsAreLua51s's tail call lines fail.
func tailCalls(dbg *lua.Debug) int {
	fr := reflect.ValueOf(dbg).Elem().FieldByName("frame")
	if !fr.IsValid() || fr.Kind() != reflect.Pointer || fr.IsNil() {
		return 0
	}
	n := fr.Elem().FieldByName("TailCall")
	if !n.IsValid() || !n.CanInt() {
		return 0
	}
	return int(n.Int())
}
