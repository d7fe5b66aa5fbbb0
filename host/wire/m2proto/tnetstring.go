package m2proto

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// MaxNestingDepth is how deeply tnetstring lists and dicts, and the JSON
// arrays and objects inside header values, may nest. Mongrel2 itself never
// nests deeper than 2 (a dict of headers holding a list of repeated values).
const MaxNestingDepth = 32

// maxLengthDigits is the longest length prefix accepted: the tnetstring
// specification allows at most 9 digits, which also keeps every length far
// below the int range.
const maxLengthDigits = 9

// Tnetstring type tags, the byte that ends each element.
const (
	tagString = ','
	tagInt    = '#'
	tagFloat  = '^'
	tagBool   = '!'
	tagNull   = '~'
	tagList   = ']'
	tagDict   = '}'
)

// tnetElem is one element split from the wire: its payload is b[start:end]
// and the element ends with tag at b[end].
type tnetElem struct {
	start, end int
	tag        byte
}

// next is the offset just after the element's tag.
func (e tnetElem) next() int { return e.end + 1 }

// splitTNet reads the element that begins at b[off]. The element must end
// within b; offsets in errors are offsets into b.
func splitTNet(op string, b []byte, off int) (tnetElem, error) {
	i := off
	n := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if i-off == maxLengthDigits {
			return tnetElem{}, malformed(op, off, "length has more than %d digits", maxLengthDigits)
		}
		n = n*10 + int(b[i]-'0')
		i++
	}
	if i == off {
		if i == len(b) {
			return tnetElem{}, malformed(op, i, "truncated: missing length")
		}
		return tnetElem{}, malformed(op, i, "want a length digit, got %q", b[i])
	}
	if i == len(b) {
		return tnetElem{}, malformed(op, i, "truncated: missing ':' after length")
	}
	if b[i] != ':' {
		return tnetElem{}, malformed(op, i, "want ':' after length, got %q", b[i])
	}
	start := i + 1
	if n >= len(b)-start {
		return tnetElem{}, malformed(op, off, "truncated: length %d but %d bytes left", n, len(b)-start)
	}
	return tnetElem{start: start, end: start + n, tag: b[start+n]}, nil
}

// ParseTNetstring decodes the tnetstring at the start of b and returns it with
// the bytes that follow it. The Go types are: string for ',' (the bytes as
// they are, no UTF-8 check), int64 for '#', float64 for '^' (decimal notation
// only: no NaN or infinities), bool for '!', nil for '~', []any for ']' and
// map[string]any for '}' (dict keys must be strings; a repeated key keeps its
// last value). Lists and dicts nest at most [MaxNestingDepth] deep. Errors are
// *[ProtocolError] with Op "tnetstring".
func ParseTNetstring(b []byte) (v any, rest []byte, err error) {
	e, err := splitTNet("tnetstring", b, 0)
	if err != nil {
		return nil, b, err
	}
	v, err = decodeTNet(b, e, 0)
	if err != nil {
		return nil, b, err
	}
	return v, b[e.next():], nil
}

func decodeTNet(b []byte, e tnetElem, depth int) (any, error) {
	const op = "tnetstring"
	payload := b[e.start:e.end]
	switch e.tag {
	case tagString:
		return string(payload), nil
	case tagInt:
		return parseTNetInt(op, payload, e.start)
	case tagFloat:
		return parseTNetFloat(op, payload, e.start)
	case tagBool:
		return parseTNetBool(op, payload, e.start)
	case tagNull:
		if len(payload) != 0 {
			return nil, malformed(op, e.start, "null must be empty")
		}
		return nil, nil
	case tagList:
		if depth >= MaxNestingDepth {
			return nil, tooLarge(op, e.start, "nesting deeper than %d", MaxNestingDepth)
		}
		list := []any{}
		for off := e.start; off < e.end; {
			item, err := splitTNet(op, b[:e.end], off)
			if err != nil {
				return nil, err
			}
			v, err := decodeTNet(b, item, depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
			off = item.next()
		}
		return list, nil
	case tagDict:
		if depth >= MaxNestingDepth {
			return nil, tooLarge(op, e.start, "nesting deeper than %d", MaxNestingDepth)
		}
		dict := map[string]any{}
		for off := e.start; off < e.end; {
			key, err := splitTNet(op, b[:e.end], off)
			if err != nil {
				return nil, err
			}
			if key.tag != tagString {
				return nil, malformed(op, key.end, "dict key must be a string, got type %q", key.tag)
			}
			if key.next() == e.end {
				return nil, malformed(op, key.next(), "dict key without a value")
			}
			val, err := splitTNet(op, b[:e.end], key.next())
			if err != nil {
				return nil, err
			}
			v, err := decodeTNet(b, val, depth+1)
			if err != nil {
				return nil, err
			}
			dict[string(b[key.start:key.end])] = v
			off = val.next()
		}
		return dict, nil
	default:
		return nil, malformed(op, e.end, "unknown type tag %q", e.tag)
	}
}

// isDecimalInt reports whether p is an optional '-' followed by digits.
func isDecimalInt(p []byte) bool {
	if len(p) > 0 && p[0] == '-' {
		p = p[1:]
	}
	return len(p) > 0 && allDigits(p)
}

func allDigits(p []byte) bool {
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isDecimalFloat reports whether p is -?DIGITS(.DIGITS)?([eE][+-]?DIGITS)?.
func isDecimalFloat(p []byte) bool {
	digits := func(i int) int {
		j := i
		for j < len(p) && p[j] >= '0' && p[j] <= '9' {
			j++
		}
		return j
	}
	i := 0
	if i < len(p) && p[i] == '-' {
		i++
	}
	j := digits(i)
	if j == i {
		return false
	}
	i = j
	if i < len(p) && p[i] == '.' {
		j = digits(i + 1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(p) && (p[i] == 'e' || p[i] == 'E') {
		i++
		if i < len(p) && (p[i] == '+' || p[i] == '-') {
			i++
		}
		j = digits(i)
		if j == i {
			return false
		}
		i = j
	}
	return i == len(p)
}

func parseTNetInt(op string, p []byte, off int) (int64, error) {
	if !isDecimalInt(p) {
		return 0, malformed(op, off, "integer %q is not decimal", p)
	}
	n, err := strconv.ParseInt(string(p), 10, 64)
	if err != nil {
		return 0, tooLarge(op, off, "integer %q does not fit 64 bits", p)
	}
	return n, nil
}

func parseTNetFloat(op string, p []byte, off int) (float64, error) {
	if !isDecimalFloat(p) {
		return 0, malformed(op, off, "float %q is not decimal", p)
	}
	f, err := strconv.ParseFloat(string(p), 64)
	if err != nil {
		return 0, tooLarge(op, off, "float %q out of range", p)
	}
	return f, nil
}

func parseTNetBool(op string, p []byte, off int) (bool, error) {
	switch string(p) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, malformed(op, off, "boolean must be true or false, got %q", p)
}

// AppendTNetstring appends the tnetstring encoding of v to dst. It accepts
// nil, bool, the integer types (uint64 up to math.MaxInt64), float32 and
// float64 (not NaN or infinite), string, []byte, []string, []any and
// map[string]any (keys written in sorted order, so the output is
// deterministic), nested at most [MaxNestingDepth] deep. On error dst is
// returned unchanged.
func AppendTNetstring(dst []byte, v any) ([]byte, error) {
	out, err := appendTNet(dst, v, 0)
	if err != nil {
		return dst, err
	}
	return out, nil
}

func appendTNet(dst []byte, v any, depth int) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(dst, "0:~"...), nil
	case bool:
		if x {
			return append(dst, "4:true!"...), nil
		}
		return append(dst, "5:false!"...), nil
	case string:
		return appendTNetString(dst, x), nil
	case []byte:
		return appendTNetString(dst, x), nil
	case int:
		return appendTNetInt(dst, int64(x)), nil
	case int8:
		return appendTNetInt(dst, int64(x)), nil
	case int16:
		return appendTNetInt(dst, int64(x)), nil
	case int32:
		return appendTNetInt(dst, int64(x)), nil
	case int64:
		return appendTNetInt(dst, x), nil
	case uint:
		return appendTNetUint(dst, uint64(x))
	case uint8:
		return appendTNetInt(dst, int64(x)), nil
	case uint16:
		return appendTNetInt(dst, int64(x)), nil
	case uint32:
		return appendTNetInt(dst, int64(x)), nil
	case uint64:
		return appendTNetUint(dst, x)
	case float32:
		return appendTNetFloat(dst, float64(x))
	case float64:
		return appendTNetFloat(dst, x)
	case []string:
		return appendTNetContainer(dst, tagList, depth, func(dst []byte) ([]byte, error) {
			for _, s := range x {
				dst = appendTNetString(dst, s)
			}
			return dst, nil
		})
	case []any:
		return appendTNetContainer(dst, tagList, depth, func(dst []byte) ([]byte, error) {
			var err error
			for _, item := range x {
				if dst, err = appendTNet(dst, item, depth+1); err != nil {
					return dst, err
				}
			}
			return dst, nil
		})
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return appendTNetContainer(dst, tagDict, depth, func(dst []byte) ([]byte, error) {
			var err error
			for _, k := range keys {
				dst = appendTNetString(dst, k)
				if dst, err = appendTNet(dst, x[k], depth+1); err != nil {
					return dst, err
				}
			}
			return dst, nil
		})
	default:
		return dst, fmt.Errorf("m2proto: tnetstring: cannot encode %T", v)
	}
}

func appendTNetString[S string | []byte](dst []byte, s S) []byte {
	dst = strconv.AppendInt(dst, int64(len(s)), 10)
	dst = append(dst, ':')
	dst = append(dst, s...)
	return append(dst, tagString)
}

func appendTNetInt(dst []byte, n int64) []byte {
	var buf [20]byte
	digits := strconv.AppendInt(buf[:0], n, 10)
	dst = strconv.AppendInt(dst, int64(len(digits)), 10)
	dst = append(dst, ':')
	dst = append(dst, digits...)
	return append(dst, tagInt)
}

func appendTNetUint(dst []byte, n uint64) ([]byte, error) {
	if n > math.MaxInt64 {
		return dst, fmt.Errorf("m2proto: tnetstring: integer %d does not fit int64", n)
	}
	return appendTNetInt(dst, int64(n)), nil
}

func appendTNetFloat(dst []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return dst, fmt.Errorf("m2proto: tnetstring: cannot encode float %v", f)
	}
	var buf [32]byte
	text := strconv.AppendFloat(buf[:0], f, 'g', -1, 64)
	if !bytes.ContainsAny(text, ".e") {
		text = append(text, ".0"...)
	}
	dst = strconv.AppendInt(dst, int64(len(text)), 10)
	dst = append(dst, ':')
	dst = append(dst, text...)
	return append(dst, tagFloat), nil
}

// appendTNetContainer writes a list or dict whose payload is produced by
// body, then slides the payload right to make room for its length prefix.
func appendTNetContainer(dst []byte, tag byte, depth int, body func([]byte) ([]byte, error)) ([]byte, error) {
	if depth >= MaxNestingDepth {
		return dst, fmt.Errorf("m2proto: tnetstring: nesting deeper than %d", MaxNestingDepth)
	}
	start := len(dst)
	dst, err := body(dst)
	if err != nil {
		return dst[:start], err
	}
	return wrapTNet(dst, start, tag), nil
}

// wrapTNet turns dst[start:] into the payload of a tnetstring element: it
// inserts the "LEN:" prefix before it and appends tag.
func wrapTNet(dst []byte, start int, tag byte) []byte {
	var buf [20]byte
	prefix := strconv.AppendInt(buf[:0], int64(len(dst)-start), 10)
	prefix = append(prefix, ':')
	n := len(dst) - start
	dst = append(dst, prefix...)
	copy(dst[start+len(prefix):], dst[start:start+n])
	copy(dst[start:], prefix)
	return append(dst, tag)
}
