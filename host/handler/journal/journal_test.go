package journal

import (
	"errors"
	"hash/fnv"
	"reflect"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

func TestEntryRoundTrip(t *testing.T) {
	entries := []Entry{
		{Kind: KindStart, Request: Request{Data: []byte("UUID 5 @bbs 2:{},24:{\"type\":\"msg\",\"msg\":\"x\"},"), Wire: true}},
		{Kind: KindStart, Request: EncodeRequest(&m2proto.Request{Sender: "UUID", ConnID: "5", Path: "@bbs", Body: []byte("{}")})},
		{Kind: KindCheckpoint, Request: Request{Data: []byte("m")}, User: "ann"},
		{Kind: KindCheckpoint, Request: Request{Data: []byte("m"), Wire: true}, User: "ann"},
		{Kind: KindRequest, Request: Request{Data: []byte("m2")}, Label: "[password]"},
		{Kind: KindRequest, Request: Request{Data: []byte("m2"), Wire: true}, Label: "[password]"},
		{Kind: KindCall, Name: "db.post_message", Args: 0xdeadbeef, Results: []byte{1, 't'}},
		{Kind: KindCall, Name: "board.read", Args: 1, Error: []byte("e")},
		{Kind: KindLogin, User: "bob"},
		{Kind: KindPrompt, Label: "[menu]"},
	}
	for _, e := range entries {
		got, err := Parse(e.Append(nil))
		if err != nil {
			t.Fatalf("%c: %v", e.Kind, err)
		}
		norm := func(x Entry) Entry {
			for _, f := range []*[]byte{&x.Request.Data, &x.Results, &x.Error} {
				if len(*f) == 0 {
					*f = nil
				}
			}
			return x
		}
		if !reflect.DeepEqual(norm(got), norm(e)) {
			t.Errorf("round trip of %+v gave %+v", e, got)
		}
	}
	for _, bad := range [][]byte{nil, {'Z'}, {'S'}, {'S', 9, 'a'}, append((&Entry{Kind: KindLogin, User: "x"}).Append(nil), 0)} {
		if _, err := Parse(bad); !errors.Is(err, ErrBadEntry) {
			t.Errorf("Parse(%q) = %v, want ErrBadEntry", bad, err)
		}
	}
}

func TestValuesRoundTrip(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	if err := L.DoString(`
		values = {nil, true, false, 0, -1.5, 2^53, "", "caf\xe9\0", {1, 2, {x = "y", [3.5] = false}}}
	`); err != nil {
		t.Fatal(err)
	}
	tbl := L.GetGlobal("values").(*lua.LTable)
	in := make([]lua.LValue, 9)
	for i := range in {
		in[i] = tbl.RawGetInt(i + 1)
	}
	enc, err := AppendValues(nil, in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := DecodeValues(L, enc)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("%d values back, want %d", len(out), len(in))
	}
	for i := range in {
		if DigestArgs(in[i:i+1]) != DigestArgs(out[i:i+1]) {
			t.Errorf("value %d: %v came back as %v", i, in[i], out[i])
		}
	}
	if inner := out[8].(*lua.LTable).RawGetInt(3).(*lua.LTable); inner.RawGetString("x") != lua.LString("y") || inner.RawGet(lua.LNumber(3.5)) != lua.LFalse {
		t.Errorf("nested table came back as %v", inner)
	}
}

func TestValuesRefused(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	if err := L.DoString(`loop = {} loop.self = loop`); err != nil {
		t.Fatal(err)
	}
	for _, v := range []lua.LValue{L.NewFunction(func(*lua.LState) int { return 0 }), L.NewUserData(), L.GetGlobal("loop")} {
		if _, err := AppendValues(nil, []lua.LValue{v}); !errors.Is(err, ErrNotJournalable) {
			t.Errorf("AppendValues(%s) = %v, want ErrNotJournalable", v.Type(), err)
		}
	}
}

func TestDigestArgsTellsArgumentsApart(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	a := DigestArgs([]lua.LValue{lua.LString("ann"), lua.LNumber(1)})
	if a != DigestArgs([]lua.LValue{lua.LString("ann"), lua.LNumber(1)}) {
		t.Error("same arguments, different digests")
	}
	for _, other := range [][]lua.LValue{
		{lua.LString("ann"), lua.LNumber(2)},
		{lua.LString("ann1")},
		{lua.LString("an"), lua.LString("n1")},
	} {
		if DigestArgs(other) == a {
			t.Errorf("digest of %v equals that of (ann, 1)", other)
		}
	}
}

type named string

func (n named) String() string { return string(n) }

func TestDigestArgsOfUserdataAndSharedTables(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	a, b := L.NewUserData(), L.NewUserData()
	a.Value, b.Value = named("door guess"), named("door trader")
	if DigestArgs([]lua.LValue{a}) == DigestArgs([]lua.LValue{b}) {
		t.Error("two door handles digest alike")
	}
	// 40 levels of a table holding its child twice: 2^40 paths, bounded.
	var tbl lua.LValue = lua.LString("leaf")
	for range 40 {
		next := L.NewTable()
		next.Append(tbl)
		next.Append(tbl)
		tbl = next
	}
	DigestArgs([]lua.LValue{tbl}) // returns, which is the test
}

func FuzzParse(f *testing.F) {
	f.Add((&Entry{Kind: KindRequest, Request: Request{Data: []byte("x 1 @bbs 2:{},0:,"), Wire: true}, Label: "[menu]"}).Append(nil))
	f.Add((&Entry{Kind: KindRequest, Request: EncodeRequest(&m2proto.Request{Sender: "x", ConnID: "1", Path: "@bbs"}), Label: "[menu]"}).Append(nil))
	f.Add((&Entry{Kind: KindCall, Name: "db.user_exists", Args: 7, Results: []byte{1, 't'}}).Append(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := Parse(b)
		if err != nil {
			return
		}
		again, err := Parse(e.Append(nil))
		if err != nil || again.Kind != e.Kind || string(again.Request.Data) != string(e.Request.Data) || again.Request.Wire != e.Request.Wire || again.Name != e.Name {
			t.Fatalf("re-encoding %+v gave %+v, %v", e, again, err)
		}
	})
}

func FuzzDecodeValues(f *testing.F) {
	L := lua.NewState()
	defer L.Close()
	t := L.CreateTable(2, 1)
	t.Append(lua.LString("a"))
	t.RawSetString("k", lua.LNumber(3))
	seed, _ := AppendValues(nil, []lua.LValue{lua.LNil, lua.LTrue, t})
	f.Add(seed)
	f.Fuzz(func(t *testing.T, b []byte) {
		vals, err := DecodeValues(L, b)
		if err != nil {
			return
		}
		enc, err := AppendValues(nil, vals)
		if err != nil {
			t.Fatalf("decoded values do not encode: %v", err)
		}
		if _, err := DecodeValues(L, enc); err != nil {
			t.Fatalf("re-encoded values do not decode: %v", err)
		}
	})
}

// TestDigestIsFNV1a: journals on disk hold digests; the allocation-free
// digest must give the values hash/fnv's FNV-1a gave.
func TestDigestIsFNV1a(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	tbl := L.NewTable()
	tbl.RawSetString("k", lua.LNumber(2))
	tbl.Append(lua.LString("v"))
	args := []lua.LValue{lua.LString("ann"), lua.LNumber(1.5), lua.LNil, lua.LTrue, tbl}
	h := fnv.New64a()
	budget := MaxDigestNodes
	for _, a := range args {
		h.Write(appendDigest(nil, a, 0, &budget))
	}
	if got, want := DigestArgs(args), h.Sum64(); got != want {
		t.Errorf("DigestArgs = %#x, FNV-1a of the same bytes %#x", got, want)
	}
	scratch := make([]byte, 0, 4)
	d, scratch := AppendDigestArgs(scratch, args)
	if again, _ := AppendDigestArgs(scratch, args); d != again || d != h.Sum64() {
		t.Errorf("AppendDigestArgs with reused scratch: %#x then %#x, want %#x", d, again, h.Sum64())
	}
}
