package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"

	lua "github.com/yuin/gopher-lua"
)

// MaxDepth bounds how deeply tables may nest in a journaled value.
const MaxDepth = 32

// Errors of the value codec.
var (
	// ErrNotJournalable is returned for values that cannot be stored: a
	// function, userdata, a thread or a channel, or tables nested deeper
	// than MaxDepth (which includes a table that contains itself).
	ErrNotJournalable = errors.New("journal: value cannot be journaled")
	// ErrBadValues is wrapped by DecodeValues' errors.
	ErrBadValues = errors.New("journal: bad values")
)

// Value tags.
const (
	tagNil    = 'n'
	tagTrue   = 't'
	tagFalse  = 'f'
	tagNumber = 'd'
	tagString = 's'
	tagTable  = 'T'
)

// AppendValues appends the encoding of values to dst.
func AppendValues(dst []byte, values []lua.LValue) ([]byte, error) {
	dst = binary.AppendUvarint(dst, uint64(len(values)))
	for _, v := range values {
		var err error
		if dst, err = appendValue(dst, v, 0); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

func appendValue(dst []byte, v lua.LValue, depth int) ([]byte, error) {
	switch v := v.(type) {
	case *lua.LNilType:
		return append(dst, tagNil), nil
	case lua.LBool:
		if v {
			return append(dst, tagTrue), nil
		}
		return append(dst, tagFalse), nil
	case lua.LNumber:
		dst = append(dst, tagNumber)
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(float64(v))), nil
	case lua.LString:
		dst = append(dst, tagString)
		return appendField(dst, []byte(v)), nil
	case *lua.LTable:
		if depth >= MaxDepth {
			return nil, fmt.Errorf("%w: tables nested more than %d deep", ErrNotJournalable, MaxDepth)
		}
		var keys, vals []lua.LValue
		v.ForEach(func(k, val lua.LValue) {
			keys = append(keys, k)
			vals = append(vals, val)
		})
		dst = append(dst, tagTable)
		dst = binary.AppendUvarint(dst, uint64(len(keys)))
		for i := range keys {
			var err error
			if dst, err = appendValue(dst, keys[i], depth+1); err != nil {
				return nil, err
			}
			if dst, err = appendValue(dst, vals[i], depth+1); err != nil {
				return nil, err
			}
		}
		return dst, nil
	default:
		return nil, fmt.Errorf("%w: a %s", ErrNotJournalable, v.Type())
	}
}

// DecodeValues decodes what AppendValues wrote, making tables in L.
func DecodeValues(L *lua.LState, b []byte) ([]lua.LValue, error) {
	r := reader{b: b}
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		return nil, fmt.Errorf("%w: bad count", ErrBadValues)
	}
	out := make([]lua.LValue, 0, n)
	for range n {
		v := decodeValue(L, &r, 0)
		if r.err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadValues, r.err)
		}
		out = append(out, v)
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d bytes left over", ErrBadValues, len(r.b))
	}
	return out, nil
}

func decodeValue(L *lua.LState, r *reader, depth int) lua.LValue {
	if r.err != nil {
		return lua.LNil
	}
	if len(r.b) == 0 {
		r.err = errors.New("truncated")
		return lua.LNil
	}
	tag := r.b[0]
	r.b = r.b[1:]
	switch tag {
	case tagNil:
		return lua.LNil
	case tagTrue:
		return lua.LTrue
	case tagFalse:
		return lua.LFalse
	case tagNumber:
		if len(r.b) < 8 {
			r.err = errors.New("truncated number")
			return lua.LNil
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
		r.b = r.b[8:]
		return lua.LNumber(f)
	case tagString:
		return lua.LString(r.field())
	case tagTable:
		if depth >= MaxDepth {
			r.err = errors.New("tables nested too deep")
			return lua.LNil
		}
		n := r.uvarint()
		if r.err != nil {
			return lua.LNil
		}
		if n > uint64(len(r.b))/2 {
			r.err = fmt.Errorf("table of %d pairs in %d bytes", n, len(r.b))
			return lua.LNil
		}
		t := L.CreateTable(0, int(n))
		for range n {
			k := decodeValue(L, r, depth+1)
			v := decodeValue(L, r, depth+1)
			if r.err != nil {
				return lua.LNil
			}
			if k == lua.LNil {
				r.err = errors.New("nil table key")
				return lua.LNil
			}
			if f, ok := k.(lua.LNumber); ok && f != f {
				r.err = errors.New("NaN table key")
				return lua.LNil
			}
			t.RawSet(k, v)
		}
		return t
	default:
		r.err = fmt.Errorf("unknown tag %q", tag)
		return lua.LNil
	}
}

// MaxDigestNodes bounds how many values DigestArgs looks at: past it, the
// rest of the arguments count by their number only, so that tables that
// share subtables cannot make a digest take exponential time.
const MaxDigestNodes = 10_000

// DigestArgs is a digest of a host call's arguments, for telling a replay
// that calls with other arguments from one that matches its journal.
// Table keys are taken in sorted order, so the digest does not depend on
// table layout; userdata counts by its String method when its value has
// one (a door handle names its door), other values that cannot be
// journaled by their type only.
func DigestArgs(args []lua.LValue) uint64 {
	d, _ := AppendDigestArgs(nil, args)
	return d
}

// AppendDigestArgs is DigestArgs using scratch (which it returns, grown,
// for the next call) for the bytes it digests: a caller that keeps
// scratch digests without allocating.
func AppendDigestArgs(scratch []byte, args []lua.LValue) (uint64, []byte) {
	h := uint64(fnvOffset64)
	budget := MaxDigestNodes
	for _, a := range args {
		scratch = appendDigest(scratch[:0], a, 0, &budget)
		for _, c := range scratch {
			h = (h ^ uint64(c)) * fnvPrime64
		}
	}
	return h, scratch
}

// FNV-1a, 64 bits (hash/fnv's New64a, without its allocation): the digest
// journals on disk hold, so it must not change.
const (
	fnvOffset64 = 14695981039346656037
	fnvPrime64  = 1099511628211
)

func appendDigest(dst []byte, v lua.LValue, depth int, budget *int) []byte {
	if *budget <= 0 {
		return append(dst, '~')
	}
	*budget--
	switch v := v.(type) {
	case *lua.LTable:
		if depth >= MaxDepth {
			return append(dst, "deep"...)
		}
		type pair struct{ k, v []byte }
		var pairs []pair
		v.ForEach(func(k, val lua.LValue) {
			pairs = append(pairs, pair{appendDigest(nil, k, depth+1, budget), appendDigest(nil, val, depth+1, budget)})
		})
		sort.Slice(pairs, func(i, j int) bool { return string(pairs[i].k) < string(pairs[j].k) })
		dst = append(dst, '{')
		for _, p := range pairs {
			dst = appendField(dst, p.k)
			dst = appendField(dst, p.v)
		}
		return append(dst, '}')
	case *lua.LNilType, lua.LBool, lua.LNumber, lua.LString:
		out, _ := appendValue(dst, v, depth)
		return out
	case *lua.LUserData:
		dst = append(dst, "userdata:"...)
		if s, ok := v.Value.(fmt.Stringer); ok {
			dst = append(dst, s.String()...)
		}
		return dst
	default:
		return append(dst, v.Type().String()...)
	}
}
