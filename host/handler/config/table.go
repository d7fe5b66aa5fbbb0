package config

import (
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// Limits on a table setting.
const (
	// MaxTableDepth is how deeply a table setting's tables may nest.
	MaxTableDepth = 8
	// MaxTableEntries is the most entries a table setting may hold, all
	// its tables counted.
	MaxTableEntries = 10000
)

// Table turns a table setting into plain Go values: a table whose keys
// are 1..n becomes []any, any other a map[string]any (keys must be
// strings); strings, numbers (float64) and booleans stay as they are.
// Functions and other values are refused.
func Table(t *lua.LTable) (map[string]any, error) {
	budget := MaxTableEntries
	v, err := tableValue(t, 0, &budget)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("want a table of named fields, not a list")
	}
	return m, nil
}

// tableValue converts v at depth, spending budget on entries.
func tableValue(v lua.LValue, depth int, budget *int) (any, error) {
	switch v := v.(type) {
	case lua.LString:
		return string(v), nil
	case lua.LNumber:
		return float64(v), nil
	case lua.LBool:
		return bool(v), nil
	case *lua.LTable:
		if depth >= MaxTableDepth {
			return nil, fmt.Errorf("tables nested deeper than %d", MaxTableDepth)
		}
		n := v.Len()
		list := make([]any, 0, n)
		m := make(map[string]any)
		var err error
		v.ForEach(func(k, val lua.LValue) {
			if err != nil {
				return
			}
			if *budget--; *budget < 0 {
				err = fmt.Errorf("more than %d entries", MaxTableEntries)
				return
			}
			switch k := k.(type) {
			case lua.LString:
				m[string(k)], err = tableValue(val, depth+1, budget)
			case lua.LNumber:
				if int(k) < 1 || int(k) > n || float64(int(k)) != float64(k) {
					err = fmt.Errorf("key %v: a list's keys run 1..n", k)
				}
			default:
				err = fmt.Errorf("a %s key is not allowed", k.Type())
			}
		})
		if err != nil {
			return nil, err
		}
		if n > 0 {
			if len(m) > 0 {
				return nil, fmt.Errorf("a table is either a list or named fields, not both")
			}
			for i := 1; i <= n; i++ {
				gv, err := tableValue(v.RawGetInt(i), depth+1, budget)
				if err != nil {
					return nil, err
				}
				list = append(list, gv)
			}
			return list, nil
		}
		return m, nil
	case *lua.LNilType:
		return nil, nil
	}
	return nil, fmt.Errorf("a %s is not a setting", v.Type())
}
