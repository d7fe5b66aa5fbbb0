package luaapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/message"
)

// MaxJSONDepth bounds the nesting of tables converted to or from JSON; it
// also stops cycles.
const MaxJSONDepth = 64

// ErrJSONDepth is returned for values nested deeper than MaxJSONDepth.
var ErrJSONDepth = errors.New("nested too deep (or a cycle)")

// AppendJSON appends the JSON encoding of a Lua value to dst.
//
// A table whose keys are exactly 1..n (n > 0) becomes an array; any other
// table an object with its keys as strings, sorted so the output is stable.
// An empty table becomes {}. Functions, userdata, threads, NaN and
// infinities cannot be encoded and return an error.
func AppendJSON(dst []byte, v lua.LValue) ([]byte, error) {
	return appendJSON(dst, v, 0)
}

func appendJSON(dst []byte, v lua.LValue, depth int) ([]byte, error) {
	if depth > MaxJSONDepth {
		return dst, ErrJSONDepth
	}
	switch v := v.(type) {
	case *lua.LNilType:
		return append(dst, "null"...), nil
	case lua.LBool:
		return strconv.AppendBool(dst, bool(v)), nil
	case lua.LNumber:
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return dst, fmt.Errorf("cannot encode number %v as JSON", f)
		}
		if f == math.Trunc(f) && math.Abs(f) < 1e15 {
			return strconv.AppendInt(dst, int64(f), 10), nil
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 64), nil
	case lua.LString:
		return message.AppendString(dst, string(v)), nil
	case *lua.LTable:
		return appendJSONTable(dst, v, depth)
	default:
		return dst, fmt.Errorf("cannot encode a %s as JSON", v.Type())
	}
}

func appendJSONTable(dst []byte, t *lua.LTable, depth int) ([]byte, error) {
	n := t.Len()
	if n > 0 && isSequence(t, n) {
		dst = append(dst, '[')
		for i := 1; i <= n; i++ {
			if i > 1 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSON(dst, t.RawGetInt(i), depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	}
	type field struct {
		key   string
		value lua.LValue
	}
	var fields []field
	var keyErr error
	t.ForEach(func(k, v lua.LValue) {
		switch k := k.(type) {
		case lua.LString:
			fields = append(fields, field{string(k), v})
		case lua.LNumber:
			fields = append(fields, field{k.String(), v})
		default:
			keyErr = fmt.Errorf("cannot encode a table key of type %s as JSON", k.Type())
		}
	})
	if keyErr != nil {
		return dst, keyErr
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i].key < fields[j].key })
	dst = append(dst, '{')
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = message.AppendString(dst, f.key)
		dst = append(dst, ':')
		var err error
		if dst, err = appendJSON(dst, f.value, depth+1); err != nil {
			return dst, err
		}
	}
	return append(dst, '}'), nil
}

// isSequence reports whether t has exactly the keys 1..n.
func isSequence(t *lua.LTable, n int) bool {
	count := 0
	seq := true
	t.ForEach(func(k, _ lua.LValue) {
		count++
		if num, ok := k.(lua.LNumber); !ok || float64(num) != math.Trunc(float64(num)) || num < 1 || int(num) > n {
			seq = false
		}
	})
	return seq && count == n
}

// DecodeJSON parses a JSON document into a Lua value: objects and arrays
// become tables, null becomes nil. The documents callers send are decoded
// straight into tables (jsonfast.go); others through encoding/json.
func DecodeJSON(L *lua.LState, data []byte) (lua.LValue, error) {
	if v, ok := decodeFast(L, data); ok {
		return v, nil
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return lua.LNil, fmt.Errorf("decode json: %w", err)
	}
	return FromGo(L, v, 0)
}

// FromGo converts a value produced by encoding/json (maps, slices, strings,
// float64, bool, nil) into a Lua value.
func FromGo(L *lua.LState, v any, depth int) (lua.LValue, error) {
	if depth > MaxJSONDepth {
		return lua.LNil, ErrJSONDepth
	}
	switch v := v.(type) {
	case nil:
		return lua.LNil, nil
	case bool:
		return lua.LBool(v), nil
	case float64:
		return lua.LNumber(v), nil
	case json.Number:
		f, err := v.Float64()
		return lua.LNumber(f), err
	case string:
		return lua.LString(v), nil
	case []any:
		t := L.CreateTable(len(v), 0)
		for _, item := range v {
			lv, err := FromGo(L, item, depth+1)
			if err != nil {
				return lua.LNil, err
			}
			t.Append(lv)
		}
		return t, nil
	case map[string]any:
		t := L.CreateTable(0, len(v))
		for k, item := range v {
			lv, err := FromGo(L, item, depth+1)
			if err != nil {
				return lua.LNil, err
			}
			t.RawSetString(k, lv)
		}
		return t, nil
	default:
		return lua.LNil, fmt.Errorf("cannot convert %T to Lua", v)
	}
}
