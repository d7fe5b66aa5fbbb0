package luaapi

import (
	"encoding/binary"
	"unique"
	"weak"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// Requests builds the request tables of one Lua state as NewRequest does,
// except that req.headers is built when a script first reads it: headers
// are rarely read, and a parked caller's coroutine holds its last request
// for as long as the caller sits at a prompt.
//
// Until then the request table has no "headers" field of its own; a
// metatable shared by every request of the state supplies it on first
// read (req.headers, or anything that reads through __index), and from
// then on the table holds it as NewRequest's does: the same table at every
// read, changes kept. What a script can tell apart from an eagerly built
// request: rawget(req, "headers") and pairs(req) see no headers before
// the first read, and getmetatable(req) is not nil.
//
// The headers wait in a map keyed by a weak pointer to their request
// table, each set interned (unique.Make), so that a caller's requests,
// which carry the same headers, share one copy. Entries of tables the
// collector freed are swept out as the map grows. A Requests is used on
// its state's goroutine only.
type Requests struct {
	meta    *lua.LTable
	pending map[weak.Pointer[lua.LTable]]unique.Handle[string]
	// sweepAt is the size of pending at which dead entries are next
	// swept out.
	sweepAt int
}

// minSweep is the smallest size of Requests.pending that is swept.
const minSweep = 1024

// NewRequests returns a request builder for L.
func NewRequests(L *lua.LState) *Requests {
	r := &Requests{pending: make(map[weak.Pointer[lua.LTable]]unique.Handle[string]), sweepAt: minSweep}
	r.meta = L.CreateTable(0, 1)
	r.meta.RawSetString("__index", L.NewFunction(r.index))
	return r
}

// New builds the request table of r, as NewRequest does, with its headers
// built on first read.
func (rs *Requests) New(L *lua.LState, r *m2proto.Request, data lua.LValue) *lua.LTable {
	if t, ok := data.(*lua.LTable); ok {
		CleanInput(t)
	}
	req := L.CreateTable(0, 6)
	req.RawSetString("conn_id", lua.LString(r.ConnID))
	req.RawSetString("sender", lua.LString(r.Sender))
	req.RawSetString("path", lua.LString(r.Path))
	req.RawSetString("body", lua.LString(r.Body))
	req.RawSetString("data", data)
	if len(r.Headers) == 0 {
		req.RawSetString("headers", L.CreateTable(0, 0))
		return req
	}
	req.Metatable = rs.meta
	rs.pending[weak.Make(req)] = unique.Make(encodeHeaders(r.Headers))
	if len(rs.pending) >= rs.sweepAt {
		rs.sweep()
	}
	return req
}

// Pending is how many request tables wait for their headers to be read
// (or to be collected), for tests.
func (rs *Requests) Pending() int { return len(rs.pending) }

// index is the requests' __index: req.headers, built once.
func (rs *Requests) index(L *lua.LState) int {
	req := L.CheckTable(1)
	if L.Get(2) != lua.LString("headers") {
		return 0
	}
	key := weak.Make(req)
	enc, ok := rs.pending[key]
	if !ok {
		return 0 // not one of ours, or already built (and removed since)
	}
	delete(rs.pending, key)
	headers := headersTable(L, enc.Value())
	req.RawSetString("headers", headers)
	L.Push(headers)
	return 1
}

// sweep drops the entries of request tables the collector freed, and sets
// the size of the next sweep to twice what is left.
func (rs *Requests) sweep() {
	for k := range rs.pending {
		if k.Value() == nil {
			delete(rs.pending, k)
		}
	}
	rs.sweepAt = max(minSweep, 2*len(rs.pending))
}

// encodeHeaders packs headers into one string: each name and value
// preceded by its length.
func encodeHeaders(hs []m2proto.Header) string {
	n := 0
	for _, h := range hs {
		n += len(h.Name) + len(h.Value) + 2*binary.MaxVarintLen32
	}
	b := make([]byte, 0, n)
	for _, h := range hs {
		b = binary.AppendUvarint(b, uint64(len(h.Name)))
		b = append(b, h.Name...)
		b = binary.AppendUvarint(b, uint64(len(h.Value)))
		b = append(b, h.Value...)
	}
	return string(b)
}

// headersTable is the req.headers table of headers packed by
// encodeHeaders: each name to its value, a later header of the same name
// winning, as in NewRequest.
func headersTable(L *lua.LState, enc string) *lua.LTable {
	var pairs []string
	for len(enc) > 0 {
		var s string
		s, enc = nextField(enc)
		pairs = append(pairs, s)
	}
	t := L.CreateTable(0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		t.RawSetString(pairs[i], lua.LString(pairs[i+1]))
	}
	return t
}

// nextField splits the first length-prefixed field off enc.
func nextField(enc string) (field, rest string) {
	n, w := binary.Uvarint([]byte(enc[:min(len(enc), binary.MaxVarintLen64)]))
	if w <= 0 || uint64(len(enc)-w) < n {
		return "", "" // cannot happen: enc is encodeHeaders's
	}
	end := w + int(n)
	return enc[w:end], enc[end:]
}
