package luaapi

import (
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// gopher-lua's string.format hands its arguments to fmt.Sprintf, and
// each Lua value formats itself through a second fmt.Fprintf whose
// format it rebuilds by asking fmt.State about all 128 possible flags:
// ('--- %d of %d ---'):format(i, n), the message readers' title, cost
// about 2 µs. fastFormat writes the formats scripts use most, %d of a
// number and %s of a string or a number with no flag, width or
// precision, itself, with the same result, and leaves every other format
// to gopher-lua (FuzzFastFormatAgrees compares the two).

// fastFormat returns string.format(format, ...) for the arguments on L's
// stack from index 2, or ok false when the format is not one it writes:
// a '%' followed by anything but 'd' or 's', a %d whose argument is not a
// number, a %s whose argument is neither a string nor a number, or fewer
// arguments than specifications (gopher-lua writes "%!d(MISSING)").
func fastFormat(L *lua.LState, format string) (string, bool) {
	if strings.IndexByte(format, '%') < 0 {
		return format, true
	}
	var b strings.Builder
	b.Grow(len(format) + 16)
	arg, top := 2, L.GetTop()
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(format) || arg > top {
			return "", false
		}
		i++
		v := L.Get(arg)
		arg++
		switch format[i] {
		case 'd':
			n, ok := v.(lua.LNumber)
			if !ok {
				return "", false
			}
			var digits [24]byte
			b.Write(strconv.AppendInt(digits[:0], int64(n), 10))
		case 's':
			switch v := v.(type) {
			case lua.LString:
				b.WriteString(string(v))
			case lua.LNumber:
				b.WriteString(v.String())
			default:
				return "", false
			}
		default:
			return "", false
		}
	}
	return b.String(), true
}
