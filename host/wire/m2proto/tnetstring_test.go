package m2proto

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestParseTNetstring(t *testing.T) {
	tests := []struct {
		in   string
		want any
		rest string
	}{
		{"0:,", "", ""},
		{"5:hello,rest", "hello", "rest"},
		{"3:a:b,", "a:b", ""},
		{"2:42#", int64(42), ""},
		{"2:-7#", int64(-7), ""},
		{"19:9223372036854775807#", int64(math.MaxInt64), ""},
		{"3:1.5^", 1.5, ""},
		{"5:-2e-3^", -0.002, ""},
		{"4:true!", true, ""},
		{"5:false!", false, ""},
		{"0:~", nil, ""},
		{"0:]", []any{}, ""},
		{"11:1:a,1:1#0:~]", []any{"a", int64(1), nil}, ""},
		{"0:}", map[string]any{}, ""},
		{"16:6:METHOD,4:JSON,}", map[string]any{"METHOD": "JSON"}, ""},
		{"15:1:a,8:1:b,1:2#]}x", map[string]any{"a": []any{"b", int64(2)}}, "x"},
		{"16:1:k,1:1,1:k,1:2,}", map[string]any{"k": "2"}, ""},
	}
	for _, tt := range tests {
		got, rest, err := ParseTNetstring([]byte(tt.in))
		if err != nil {
			t.Errorf("ParseTNetstring(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) || string(rest) != tt.rest {
			t.Errorf("ParseTNetstring(%q) = %#v, %q; want %#v, %q", tt.in, got, rest, tt.want, tt.rest)
		}
	}
}

func TestParseTNetstringErrors(t *testing.T) {
	deep := strings.Repeat("[", 0)
	for range MaxNestingDepth + 1 {
		deep = string(wrapTNet([]byte(deep), 0, ']'))
	}
	tests := []struct {
		name, in, reason string
		kind             error
	}{
		{"empty", "", "missing length", ErrMalformed},
		{"no length", ":a,", "want a length digit", ErrMalformed},
		{"no colon", "1a,", "want ':'", ErrMalformed},
		{"length overflow", "1000000000:", "more than 9 digits", ErrMalformed},
		{"truncated", "5:abc", "truncated", ErrMalformed},
		{"missing tag", "3:abc", "truncated", ErrMalformed},
		{"unknown tag", "1:a?", "unknown type tag", ErrMalformed},
		{"bad int", "2:1a#", "not decimal", ErrMalformed},
		{"plus int", "2:+1#", "not decimal", ErrMalformed},
		{"empty int", "0:#", "not decimal", ErrMalformed},
		{"int overflow", "19:9223372036854775808#", "does not fit", ErrTooLarge},
		{"nan", "3:NaN^", "not decimal", ErrMalformed},
		{"inf", "4:+Inf^", "not decimal", ErrMalformed},
		{"hex float", "5:0x1p2^", "not decimal", ErrMalformed},
		{"float overflow", "5:1e999^", "out of range", ErrTooLarge},
		{"bad bool", "3:yes!", "boolean", ErrMalformed},
		{"non-empty null", "1:x~", "null must be empty", ErrMalformed},
		{"list item overruns", "5:3:ab,]", "truncated", ErrMalformed},
		{"dict key not string", "8:1:1#1:a,}", "dict key must be a string", ErrMalformed},
		{"dict odd", "4:1:a,}", "without a value", ErrMalformed},
		{"too deep", deep, "nesting deeper", ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseTNetstring([]byte(tt.in))
			var pe *ProtocolError
			if !errors.As(err, &pe) || !errors.Is(err, tt.kind) {
				t.Fatalf("ParseTNetstring(%q) error = %v, want a %v ProtocolError", tt.in, err, tt.kind)
			}
			if pe.Op != "tnetstring" || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
		})
	}
}

func TestAppendTNetstring(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{nil, "0:~"},
		{true, "4:true!"},
		{false, "5:false!"},
		{"", "0:,"},
		{"hello", "5:hello,"},
		{[]byte("hi"), "2:hi,"},
		{42, "2:42#"},
		{int64(-7), "2:-7#"},
		{uint8(255), "3:255#"},
		{uint64(math.MaxInt64), "19:9223372036854775807#"},
		{1.5, "3:1.5^"},
		{float64(100), "5:100.0^"},
		{1e21, "5:1e+21^"},
		{float32(0.5), "3:0.5^"},
		{[]string{"a", "bc"}, "9:1:a,2:bc,]"},
		{[]any{}, "0:]"},
		{[]any{"a", 1, nil}, "11:1:a,1:1#0:~]"},
		{map[string]any{"b": 2, "a": "x"}, "16:1:a,1:x,1:b,1:2#}"},
		{map[string]any{"METHOD": "JSON"}, "16:6:METHOD,4:JSON,}"},
	}
	for _, tt := range tests {
		got, err := AppendTNetstring([]byte("p"), tt.in)
		if err != nil {
			t.Errorf("AppendTNetstring(%#v): %v", tt.in, err)
			continue
		}
		if string(got) != "p"+tt.want {
			t.Errorf("AppendTNetstring(%#v) = %q, want %q", tt.in, got, "p"+tt.want)
		}
	}
}

func TestAppendTNetstringErrors(t *testing.T) {
	loop := []any{nil}
	loop[0] = loop
	for _, v := range []any{
		struct{}{},
		math.NaN(),
		math.Inf(-1),
		uint64(math.MaxUint64),
		[]any{1, make(chan int)},
		map[string]any{"k": struct{}{}},
		loop,
	} {
		got, err := AppendTNetstring([]byte("keep"), v)
		if err == nil {
			t.Errorf("AppendTNetstring(%T) succeeded with %q", v, got)
		}
		if string(got) != "keep" {
			t.Errorf("AppendTNetstring(%T) changed dst to %q on error", v, got)
		}
	}
}
