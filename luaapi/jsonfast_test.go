package luaapi

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// slowDecode is DecodeJSON without its fast path: encoding/json, then
// FromGo.
func slowDecode(L *lua.LState, data []byte) (lua.LValue, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return lua.LNil, err
	}
	return FromGo(L, v, 0)
}

// dump writes v with its tables' keys sorted, so two values compare as
// text.
func dump(v lua.LValue) string {
	t, ok := v.(*lua.LTable)
	if !ok {
		return fmt.Sprintf("%s:%q", v.Type(), v.String())
	}
	var parts []string
	t.ForEach(func(k, v lua.LValue) { parts = append(parts, dump(k)+"="+dump(v)) })
	sort.Strings(parts)
	return "{" + strings.Join(parts, ",") + "}"
}

func TestDecodeFastTakesCallersLines(t *testing.T) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, doc := range []string{
		`{"type":"msg","msg":"ann"}`,
		` {"type" : "msg", "msg":"", "x":null}` + "\n",
		`{"type":"msg","msg":"connect","terminal":{"type":"xterm-256color","width":80,"height":24,"encoding":"utf-8","ansi":true}}`,
		`{"type":"keys","msg":"é→"}`,
		`{"a":[1,null,-2.5e3,0,{"b":[]}],"a2":{}}`,
		`{"k":"v","k":"w"}`,
		`[]`, `"s"`, `-0`, `false`,
	} {
		got, ok := decodeFast(L, []byte(doc))
		if !ok {
			t.Errorf("%s: left to encoding/json", doc)
			continue
		}
		want, err := slowDecode(L, []byte(doc))
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		if dump(got) != dump(want) {
			t.Errorf("%s: fast %s, encoding/json %s", doc, dump(got), dump(want))
		}
	}
}

func TestDecodeFastLeavesTheRestToEncodingJSON(t *testing.T) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, doc := range []string{
		`{"msg":"a\"b"}`, `{"msg":"\u00e9"}`, "{\"msg\":\"\xff\"}", "{\"msg\":\"a\tb\"}",
		`1e400`, `01`, `1.`, `.5`, `+1`, `-`, `1e`, `NaN`, `tru`, `nul`,
		`{"a":1,}`, `[1,]`, `{"a" 1}`, `{"a":1`, `{"a":1}}`, `{1:2}`, `[1 2]`, ``, `   `,
		strings.Repeat("[", fastMaxDepth+1) + strings.Repeat("]", fastMaxDepth+1),
	} {
		if v, ok := decodeFast(L, []byte(doc)); ok {
			t.Errorf("%q: decoded fast as %s", doc, dump(v))
		}
	}
}

// FuzzDecodeFastAgrees checks that whatever decodeFast decodes, encoding/json
// and FromGo decode to the same value; and DecodeJSON fails exactly when
// they do.
func FuzzDecodeFastAgrees(f *testing.F) {
	for _, seed := range []string{
		`{"type":"msg","msg":"connect"}`, `{"type":"disconnect"}`, `[1,"two",null,true]`,
		`{"msg":"\u00e9"}`, `{"a":{"b":{"c":[]}}}`, `{"type":"msg","msg":"zed","terminal":{"width":80}}`,
		`-12.5E+3`, `{"k":"v","k":null}`, "{\"é\":\"\xe2\x82\xac\"}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		L := lua.NewState(lua.Options{SkipOpenLibs: true})
		defer L.Close()
		want, slowErr := slowDecode(L, data)
		got, ok := decodeFast(L, data)
		if ok {
			if slowErr != nil {
				t.Fatalf("%q: decoded fast as %s, encoding/json: %v", data, dump(got), slowErr)
			}
			if dump(got) != dump(want) {
				t.Fatalf("%q: fast %s, encoding/json %s", data, dump(got), dump(want))
			}
		}
		if _, err := DecodeJSON(L, data); (err == nil) != (slowErr == nil) {
			t.Fatalf("%q: DecodeJSON err %v, encoding/json %v", data, err, slowErr)
		}
	})
}

func BenchmarkDecodeJSON(b *testing.B) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, doc := range []struct{ name, json string }{
		{"line", `{"type":"msg","msg":"ann"}`},
		{"terminal", `{"type":"msg","msg":"connect","terminal":{"type":"xterm-256color","width":80,"height":24,"encoding":"utf-8","ansi":true}}`},
	} {
		data := []byte(doc.json)
		b.Run(doc.name+"/fast", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeJSON(L, data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(doc.name+"/encoding-json", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := slowDecode(L, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
