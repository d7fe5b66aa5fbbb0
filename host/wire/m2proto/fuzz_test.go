package m2proto

import (
	"errors"
	"reflect"
	"slices"
	"testing"
)

// Each message arrives whole in one ZeroMQ frame, so unlike a stream parser
// these targets need not split their input: every input is one message.

// requestSeeds are valid requests: the captured ones and a few that reach
// the rarer header encodings. TestFuzzSeedsParse keeps them valid.
var requestSeeds = []string{
	capturedConnect,
	capturedLeave,
	tnetLeave,
	`s 7 /p 23:{"cookie":["a","b\"c"]},0:,`,
	`s 7 /p 38:{"q":"a\"b\\c\/d\n\u00e9\ud83d\ude00"},0:,`,
	`s 7 /p 36:1:d,28:1:x,0:~1:y,4:true!1:z,3:1.5^}}0:,`,
	"s 1 /p 2:{},3:abc,",
}

func TestFuzzSeedsParse(t *testing.T) {
	for _, seed := range requestSeeds {
		if _, err := ParseRequest([]byte(seed)); err != nil {
			t.Errorf("seed %q: %v", seed, err)
		}
	}
}

func FuzzParseRequest(f *testing.F) {
	for _, seed := range requestSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		r, err := ParseRequest(msg)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *ProtocolError", err, err)
			}
			return
		}
		for _, format := range []HeaderFormat{JSONHeaders, TNetstringHeaders} {
			enc := AppendRequest(nil, r, format)
			if len(enc) > MaxMessageBytes {
				continue // re-encoding may grow past the limit
			}
			r2, err := ParseRequest(enc)
			if err != nil {
				t.Fatalf("format %d: re-encoded %q does not parse: %v", format, enc, err)
			}
			if !sameRequest(r, r2) {
				t.Fatalf("format %d: round trip changed the request:\n%+v\n%+v", format, r, r2)
			}
			if again := AppendRequest(nil, r2, format); string(again) != string(enc) {
				t.Fatalf("format %d: encoding is not stable: %q then %q", format, enc, again)
			}
		}
	})
}

func FuzzParseReply(f *testing.F) {
	for _, seed := range []string{
		capturedReply,
		"h 8:1 22 333, x",
		"h 2:42, ",
		"a-B-9 4:1 2 , \x00body",
		"h 3:X 1, x",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		sender, ids, body, err := ParseReply(msg)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *ProtocolError", err, err)
			}
			return
		}
		enc := AppendReply(nil, sender, ids, body)
		s2, ids2, body2, err := ParseReply(enc)
		if err != nil {
			t.Fatalf("re-encoded %q does not parse: %v", enc, err)
		}
		if s2 != sender || !slices.Equal(ids2, ids) || string(body2) != string(body) {
			t.Fatalf("round trip changed the reply: %q %q %q -> %q %q %q", sender, ids, body, s2, ids2, body2)
		}
	})
}

func FuzzTNetstring(f *testing.F) {
	for _, seed := range []string{
		"16:6:METHOD,4:JSON,}",
		"15:1:a,8:1:b,1:2#]}x",
		"11:1:a,1:1#0:~]",
		"5:-2e-3^",
		"4:true!",
		"19:9223372036854775807#",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, rest, err := ParseTNetstring(b)
		if err != nil {
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *ProtocolError", err, err)
			}
			return
		}
		if len(rest) > len(b) || string(b[len(b)-len(rest):]) != string(rest) {
			t.Fatalf("rest %q is not a suffix of the input", rest)
		}
		enc, err := AppendTNetstring(nil, v)
		if err != nil {
			t.Fatalf("cannot re-encode %#v: %v", v, err)
		}
		v2, rest2, err := ParseTNetstring(enc)
		if err != nil || len(rest2) != 0 {
			t.Fatalf("re-encoded %q: rest %q, err %v", enc, rest2, err)
		}
		if !reflect.DeepEqual(v, v2) {
			t.Fatalf("round trip changed the value: %#v -> %#v", v, v2)
		}
	})
}
