package luaapi

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// benchShared calls the Lua function src returns b.N times, over a real
// SQLite store (no journal).
func benchShared(b *testing.B, src string) {
	db := openSharedStore(b)
	L := lua.NewState()
	defer L.Close()
	if err := New(Deps{Screens: screenMap{}, Store: db}).Open(L); err != nil {
		b.Fatal(err)
	}
	if err := L.DoString(src); err != nil {
		b.Fatal(err)
	}
	fn := L.Get(-1)
	b.ResetTimer()
	for range b.N {
		L.Push(fn)
		if err := L.PCall(0, 0, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSharedGet is one shared.get of a value that is set.
func BenchmarkSharedGet(b *testing.B) {
	benchShared(b, `local shared = require 'shared'
		assert(shared.set('room', 'topic', 'hello'))
		return function() shared.get('room', 'topic') end`)
}

// BenchmarkSharedIncr is one shared.incr: a write transaction.
func BenchmarkSharedIncr(b *testing.B) {
	benchShared(b, `local shared = require 'shared'
		return function() assert(shared.incr('room', 'visits')) end`)
}
