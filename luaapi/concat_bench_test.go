package luaapi

import (
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// BenchmarkConcat is one `'line ' .. i .. ': ' .. name` as the VM joins
// it (stock) and with bounded concatenation (bounded).
func BenchmarkConcat(b *testing.B) {
	const src = `local name, s = 'ann' for i = 1, 1000 do s = 'line ' .. i .. ': ' .. name end`
	for _, bounded := range []bool{false, true} {
		name := map[bool]string{false: "stock", true: "bounded"}[bounded]
		b.Run(name, func(b *testing.B) {
			L := lua.NewState()
			defer L.Close()
			var fn *lua.LFunction
			var err error
			if bounded {
				fn, err = LoadString(L, src, "bench")
			} else {
				fn, err = L.LoadString(src)
			}
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				L.Push(fn)
				if err := L.PCall(0, 0, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/concat")
		})
	}
}
