package m2proto

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// Captured from Debian's Mongrel2 1.12.2 (see shared/PROTOCOL.md).
const (
	capturedConnect = `ceo-bbs-handler 1 @bbs 124:{"PATH":"@bbs","x-forwarded-for":"127.0.0.1","METHOD":"JSON","PATTERN":"@bbs","URL_SCHEME":"http","REMOTE_ADDR":"127.0.0.1"},30:{"type":"msg","msg":"connect"},`
	capturedLeave   = `ceo-bbs-handler 1 @* 17:{"METHOD":"JSON"},21:{"type":"disconnect"},`
	// Mongrel2's disconnect notice with protocol='tnetstring' (src/handler.c).
	tnetLeave = `ceo-bbs-handler 1 @* 16:6:METHOD,4:JSON,}21:{"type":"disconnect"},`
)

func TestParseRequestCaptured(t *testing.T) {
	tests := []struct {
		name       string
		msg        string
		format     HeaderFormat
		want       Request
		disconnect bool
	}{
		{
			name:   "connect",
			msg:    capturedConnect,
			format: JSONHeaders,
			want: Request{
				Sender: "ceo-bbs-handler", ConnID: "1", Path: "@bbs",
				Headers: []Header{
					{"PATH", "@bbs"}, {"x-forwarded-for", "127.0.0.1"}, {"METHOD", "JSON"},
					{"PATTERN", "@bbs"}, {"URL_SCHEME", "http"}, {"REMOTE_ADDR", "127.0.0.1"},
				},
				Body: []byte(`{"type":"msg","msg":"connect"}`),
			},
		},
		{
			name:   "disconnect",
			msg:    capturedLeave,
			format: JSONHeaders,
			want: Request{
				Sender: "ceo-bbs-handler", ConnID: "1", Path: "@*",
				Headers: []Header{{"METHOD", "JSON"}},
				Body:    []byte(`{"type":"disconnect"}`),
			},
			disconnect: true,
		},
		{
			name:   "tnetstring disconnect",
			msg:    tnetLeave,
			format: TNetstringHeaders,
			want: Request{
				Sender: "ceo-bbs-handler", ConnID: "1", Path: "@*",
				Headers: []Header{{"METHOD", "JSON"}},
				Body:    []byte(`{"type":"disconnect"}`),
			},
			disconnect: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRequest([]byte(tt.msg))
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			if !sameRequest(got, &tt.want) {
				t.Fatalf("ParseRequest =\n%+v\nwant\n%+v", got, tt.want)
			}
			if !got.IsJSON() || got.IsHTTP() {
				t.Errorf("IsJSON = %v, IsHTTP = %v; want true, false", got.IsJSON(), got.IsHTTP())
			}
			if got.IsDisconnect() != tt.disconnect {
				t.Errorf("IsDisconnect = %v, want %v", got.IsDisconnect(), tt.disconnect)
			}
			if back := AppendRequest(nil, got, tt.format); string(back) != tt.msg {
				t.Errorf("AppendRequest =\n%q\nwant the captured bytes\n%q", back, tt.msg)
			}
		})
	}
}

func sameRequest(a, b *Request) bool {
	if a.Sender != b.Sender || a.ConnID != b.ConnID || a.Path != b.Path || !bytes.Equal(a.Body, b.Body) {
		return false
	}
	if len(a.Headers) != len(b.Headers) {
		return false
	}
	for i := range a.Headers {
		if a.Headers[i] != b.Headers[i] {
			return false
		}
	}
	return true
}

func TestParseRequestHeaderValues(t *testing.T) {
	tests := []struct {
		name    string
		headers string // JSON text, or with tnet the payload of the dict
		tnet    bool
		want    []Header
	}{
		{"empty JSON object", `{}`, false, []Header{}},
		{"JSON whitespace", ` { "a" : "b" ,"c":"d" } `, false, []Header{{"a", "b"}, {"c", "d"}}},
		{"JSON escapes", `{"q":"a\"b\\c\/d\n\u00e9\ud83d\ude00"}`, false, []Header{{"q", "a\"b\\c/d\né😀"}}},
		{"JSON lone surrogate", `{"q":"\ud800"}`, false, []Header{{"q", "\uFFFD"}}},
		{"JSON raw control byte kept", "{\"q\":\"\t\"}", false, []Header{{"q", "\t"}}},
		{"JSON invalid UTF-8 kept", "{\"q\":\"\xff\"}", false, []Header{{"q", "\xff"}}},
		{"JSON number as text", `{"n":12,"f":-1.5e3}`, false, []Header{{"n", "12"}, {"f", "-1.5e3"}}},
		{"JSON literals as text", `{"t":true,"f":false,"z":null}`, false, []Header{{"t", "true"}, {"f", "false"}, {"z", "null"}}},
		{"JSON repeated header list", `{"cookie":["a","b\"c"]}`, false, []Header{{"cookie", `["a","b\"c"]`}}},
		{"JSON nested object", `{"o":{"k":[1,{}]}}`, false, []Header{{"o", `{"k":[1,{}]}`}}},
		{"JSON duplicate names kept in order", `{"a":"1","a":"2"}`, false, []Header{{"a", "1"}, {"a", "2"}}},
		{"tnet empty dict", ``, true, []Header{}},
		{"tnet number", `1:n,2:12#`, true, []Header{{"n", "12"}}},
		{"tnet repeated header list", `6:cookie,10:1:a,3:b"c,]`, true, []Header{{"cookie", `["a","b\"c"]`}}},
		{"tnet nested dict and literals", `1:d,28:1:x,0:~1:y,4:true!1:z,3:1.5^}`, true, []Header{{"d", `{"x":null,"y":true,"z":1.5}`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			headers := jsonHeaders(tt.headers)
			if tt.tnet {
				headers = string(wrapTNet([]byte(tt.headers), 0, '}'))
			}
			msg := "s 7 /p " + headers + "0:,"
			got, err := ParseRequest([]byte(msg))
			if err != nil {
				t.Fatalf("ParseRequest(%q): %v", msg, err)
			}
			want := Request{Sender: "s", ConnID: "7", Path: "/p", Headers: tt.want, Body: []byte{}}
			if !sameRequest(got, &want) {
				t.Fatalf("headers = %q, want %q", got.Headers, tt.want)
			}
			if got.Headers == nil {
				t.Errorf("Headers is nil, want an empty slice")
			}
		})
	}
}

func TestParseRequestErrors(t *testing.T) {
	huge := "s 1 /p 2:{}," + "2097152:" + strings.Repeat("x", 2<<20) + ","
	deep := "s 1 /p " + jsonHeaders(`{"a":`+strings.Repeat("[", MaxNestingDepth+1)+strings.Repeat("]", MaxNestingDepth+1)+`}`) + "0:,"
	var many strings.Builder
	many.WriteString("{")
	for i := 0; i <= MaxHeaders; i++ {
		if i > 0 {
			many.WriteString(",")
		}
		many.WriteString(`"h":"v"`)
	}
	many.WriteString("}")
	tooMany := "s 1 /p " + jsonHeaders(many.String()) + "0:,"

	tests := []struct {
		name   string
		msg    string
		kind   error
		offset int
		reason string
	}{
		{"empty", "", ErrMalformed, 0, "missing space after sender"},
		{"missing spaces", "sender", ErrMalformed, 6, "missing space after sender"},
		{"empty sender", " 1 /p 2:{},0:,", ErrMalformed, 0, "empty sender"},
		{"missing path", "s 1", ErrMalformed, 3, "missing space after conn id"},
		{"double space", "s  1 /p 2:{},0:,", ErrMalformed, 2, "empty conn id"},
		{"conn id not numeric", "s x1 /p 2:{},0:,", ErrMalformed, 2, "not a decimal number"},
		{"conn id too long", "s 123456789012345678901 /p 2:{},0:,", ErrTooLarge, 2, "longer than 20 digits"},
		{"missing headers", "s 1 /p ", ErrMalformed, 7, "missing length"},
		{"bad length", "s 1 /p x:{},0:,", ErrMalformed, 7, "want a length digit"},
		{"length without colon", "s 1 /p 2{},0:,", ErrMalformed, 8, "want ':'"},
		{"length overflow", "s 1 /p 99999999999:{},0:,", ErrMalformed, 7, "more than 9 digits"},
		{"truncated headers", "s 1 /p 20:{},0:,", ErrMalformed, 7, "truncated"},
		{"truncated body", "s 1 /p 2:{},10:abc", ErrMalformed, 12, "truncated"},
		{"missing body", "s 1 /p 2:{},", ErrMalformed, 12, "missing length"},
		{"body wrong terminator", "s 1 /p 2:{},3:abc}", ErrMalformed, 17, "body must end with ','"},
		{"headers wrong type", "s 1 /p 1:5#0:,", ErrMalformed, 10, "headers must be"},
		{"trailing garbage", "s 1 /p 2:{},0:,x", ErrMalformed, 15, "trailing data after the body"},
		{"too large", huge, ErrTooLarge, MaxMessageBytes, "exceeds"},
		{"invalid header JSON", "s 1 /p 8:{\"a\":\"b},0:,", ErrMalformed, 14, "ends inside a string"},
		{"JSON missing colon", `s 1 /p 9:{"a" "b"},0:,`, ErrMalformed, 14, "want ':'"},
		{"JSON bad escape", `s 1 /p 10:{"a":"\x"},0:,`, ErrMalformed, 16, "bad escape"},
		{"JSON bad number", `s 1 /p 8:{"a":01},0:,`, ErrMalformed, 15, "want ',' or '}'"},
		{"JSON trailing data", `s 1 /p 10:{"a":"b"}x,0:,`, ErrMalformed, 19, "trailing data after the headers"},
		{"non-object headers", `s 1 /p 5:"abc",0:,`, ErrMalformed, 9, "not a JSON object"},
		{"array headers", `s 1 /p 2:[],0:,`, ErrMalformed, 9, "not a JSON object"},
		{"too deep", deep, ErrTooLarge, 0, "nests deeper"},
		{"too many headers", tooMany, ErrTooLarge, 0, "more than 1280 headers"},
		{"tnet key not string", "s 1 /p 8:1:1#1:a,}0:,", ErrMalformed, 12, "header name must be a string"},
		{"tnet key without value", "s 1 /p 4:1:a,}0:,", ErrMalformed, 13, "has no value"},
		{"tnet bad bool", "s 1 /p 10:1:a,3:yes!}0:,", ErrMalformed, 16, "boolean"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRequest([]byte(tt.msg))
			if err == nil {
				t.Fatalf("ParseRequest succeeded with %+v, want an error", r)
			}
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *ProtocolError", err, err)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("error %v is not %v", err, tt.kind)
			}
			if tt.offset != 0 && pe.Offset != tt.offset {
				t.Errorf("offset = %d, want %d (%v)", pe.Offset, tt.offset, err)
			}
			if !strings.Contains(err.Error(), tt.reason) || !strings.HasPrefix(err.Error(), "m2proto: request: ") {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
		})
	}
}

// jsonHeaders wraps a JSON text as a tnetstring string.
func jsonHeaders(js string) string {
	return string(appendTNetString(nil, js))
}

func TestRequestRoundTrip(t *testing.T) {
	r := &Request{
		Sender: "f8144414-ad7a", ConnID: "4294967295", Path: "/chat/room",
		Headers: []Header{
			{"METHOD", "POST"}, {`we"ird\name`, "tab\there \"quoted\" back\\slash"},
			{"empty", ""}, {"bin", "\x00\xff\n"}, {"METHOD", "dup"},
		},
		Body: []byte("a body with spaces, commas: and }"),
	}
	for _, f := range []HeaderFormat{JSONHeaders, TNetstringHeaders} {
		msg := AppendRequest([]byte("prefix"), r, f)
		if !bytes.HasPrefix(msg, []byte("prefix")) {
			t.Fatalf("AppendRequest lost dst")
		}
		got, err := ParseRequest(msg[len("prefix"):])
		if err != nil {
			t.Fatalf("format %d: ParseRequest(%q): %v", f, msg, err)
		}
		if !sameRequest(got, r) {
			t.Fatalf("format %d: round trip =\n%+v\nwant\n%+v", f, got, r)
		}
		if got.Method() != "POST" || !got.IsHTTP() || got.IsJSON() || got.IsDisconnect() {
			t.Errorf("Method %q IsHTTP %v IsJSON %v IsDisconnect %v", got.Method(), got.IsHTTP(), got.IsJSON(), got.IsDisconnect())
		}
	}
}

func TestRequestKinds(t *testing.T) {
	tests := []struct {
		method, body                 string
		isHTTP, isJSON, isDisconnect bool
	}{
		{"GET", "", true, false, false},
		{"HEAD", "", true, false, false},
		{"OPTIONS", "", true, false, false},
		{"PATCH", "", true, false, false},
		{"PROPFIND", "", true, false, false},
		{"JSON", `{"type":"msg","msg":"hi"}`, false, true, false},
		{"JSON", `{"type":"disconnect"}`, false, true, true},
		{"JSON", `{"msg":"disconnect"}`, false, true, false},
		{"JSON", `{"TYPE":"disconnect"}`, false, true, false},
		{"JSON", `["disconnect"]`, false, true, false},
		{"JSON", `{"type":"disconnect"`, false, true, false},
		{"GET", `{"type":"disconnect"}`, true, false, false},
		{"XML", "<a/>", false, false, false},
		{"WEBSOCKET", "", false, false, false},
		{"WEBSOCKET_HANDSHAKE", "", false, false, false},
		{"get", "", false, false, false},
		{"", "", false, false, false},
	}
	for _, tt := range tests {
		r := &Request{Headers: []Header{{"METHOD", tt.method}}, Body: []byte(tt.body)}
		if r.IsHTTP() != tt.isHTTP || r.IsJSON() != tt.isJSON || r.IsDisconnect() != tt.isDisconnect {
			t.Errorf("METHOD %q body %q: IsHTTP %v IsJSON %v IsDisconnect %v, want %v %v %v",
				tt.method, tt.body, r.IsHTTP(), r.IsJSON(), r.IsDisconnect(), tt.isHTTP, tt.isJSON, tt.isDisconnect)
		}
	}
	if (&Request{}).Header("METHOD") != "" {
		t.Errorf("Header on a request without headers is not empty")
	}
}

func BenchmarkParseRequest(b *testing.B) {
	msg := []byte(capturedConnect)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseRequest(msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendRequest(b *testing.B) {
	r, err := ParseRequest([]byte(capturedConnect))
	if err != nil {
		b.Fatal(err)
	}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendRequest(buf[:0], r, JSONHeaders)
	}
}
