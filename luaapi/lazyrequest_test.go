package luaapi

import (
	"runtime"
	"strconv"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// lazyRequest is a request as Mongrel2 sends a caller's line, with a
// header repeated (the later value wins, as in NewRequest).
func lazyRequest() *m2proto.Request {
	return &m2proto.Request{
		Sender: "s-1", ConnID: "7", Path: "@bbs",
		Headers: []m2proto.Header{
			{Name: "PATH", Value: "@bbs"}, {Name: "METHOD", Value: "JSON"},
			{Name: "REMOTE_ADDR", Value: "192.0.2.7"}, {Name: "x-dup", Value: "first"},
			{Name: "", Value: "empty name"}, {Name: "x-dup", Value: "last\x00\xff"},
		},
		Body: []byte(`{"type":"msg","msg":"hi"}`),
	}
}

// TestLazyHeadersReadAsEager checks that a script reading req.headers of a
// lazily built request sees what NewRequest's request shows: every field,
// the same headers table at each read, and its changes kept.
func TestLazyHeadersReadAsEager(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	rs := NewRequests(L)
	r := lazyRequest()
	L.SetGlobal("eager", NewRequest(L, r, L.CreateTable(0, 0)))
	L.SetGlobal("lazy", rs.New(L, r, L.CreateTable(0, 0)))
	if rs.Pending() != 1 {
		t.Fatalf("Pending = %d before a read, want 1", rs.Pending())
	}
	err := L.DoString(`
		local function fields(req)
			local out = {}
			for _, k in ipairs({'conn_id', 'sender', 'path', 'body'}) do out[#out + 1] = k .. '=' .. req[k] end
			local names = {}
			for k, v in pairs(req.headers) do names[#names + 1] = k .. ':' .. v end
			table.sort(names)
			return table.concat(out, ' ') .. ' | ' .. table.concat(names, ' ') .. ' | ' .. type(req.data)
		end
		assert(fields(lazy) == fields(eager), fields(lazy) .. ' ~= ' .. fields(eager))
		assert(lazy.headers == lazy.headers, 'a new headers table at each read')
		lazy.headers.METHOD = 'changed'
		assert(lazy.headers.METHOD == 'changed', 'a change to the headers was lost')
		assert(rawget(lazy, 'headers') == lazy.headers, 'headers not kept in the request')
		assert(lazy.nothing == nil)
	`)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Pending() != 0 {
		t.Errorf("Pending = %d after the headers were read, want 0", rs.Pending())
	}
}

// TestLazyHeadersWithoutHeaders checks a request that came with none: its
// headers table is there, empty.
func TestLazyHeadersWithoutHeaders(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	rs := NewRequests(L)
	r := lazyRequest()
	r.Headers = nil
	L.SetGlobal("req", rs.New(L, r, lua.LNil))
	if err := L.DoString(`assert(type(req.headers) == 'table' and next(req.headers) == nil)`); err != nil {
		t.Fatal(err)
	}
	if rs.Pending() != 0 {
		t.Errorf("Pending = %d, want 0", rs.Pending())
	}
}

// TestLazyHeadersForgetCollectedRequests checks that the headers of
// requests nobody holds any more do not pile up.
func TestLazyHeadersForgetCollectedRequests(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	rs := NewRequests(L)
	r := lazyRequest()
	held := L.CreateTable(0, 0)
	L.SetGlobal("held", held)
	for i := range 10 * minSweep {
		req := rs.New(L, r, lua.LNil)
		if i%100 == 0 {
			held.RawSetString(strconv.Itoa(i), req)
		}
		if i%minSweep == 0 {
			runtime.GC()
		}
	}
	if n := rs.Pending(); n > 3*minSweep {
		t.Errorf("Pending = %d after %d requests, 100 of them held: the rest were not swept out", n, 10*minSweep)
	}
	if err := L.DoString(`for _, req in pairs(held) do assert(req.headers.x_dup == nil and req.headers['x-dup'] == 'last\0\255') end`); err != nil {
		t.Fatal(err)
	}
}
