package m2proto

import (
	"testing"
)

func TestAppendRequestValues(t *testing.T) {
	headers := []HeaderValues{
		{Name: "PATH", Values: []string{"/p"}},
		{Name: "cookie", Values: []string{"a", `b"c`}},
		{Name: "METHOD", Values: []string{"GET"}},
	}
	for _, tc := range []struct {
		format HeaderFormat
		want   string
	}{
		{JSONHeaders, `s 7 /p 50:{"PATH":"/p","cookie":["a","b\"c"],"METHOD":"GET"},3:abc,`},
		{TNetstringHeaders, `s 7 /p 50:4:PATH,2:/p,6:cookie,10:1:a,3:b"c,]6:METHOD,3:GET,}3:abc,`},
	} {
		got := AppendRequestValues(nil, "s", "7", "/p", headers, []byte("abc"), tc.format)
		if string(got) != tc.want {
			t.Errorf("format %d:\n got %s\nwant %s", tc.format, got, tc.want)
			continue
		}
		r, err := ParseRequest(got)
		if err != nil {
			t.Fatalf("format %d: %v", tc.format, err)
		}
		if r.Header("cookie") != `["a","b\"c"]` || r.Header("METHOD") != "GET" || string(r.Body) != "abc" {
			t.Errorf("format %d: parsed back as %+v", tc.format, r)
		}
	}
}

// TestAppendRequestValuesOfSingleValuesIsAppendRequest: without repeated
// headers both encoders write the same bytes.
func TestAppendRequestValuesOfSingleValuesIsAppendRequest(t *testing.T) {
	r, err := ParseRequest([]byte(capturedConnect))
	if err != nil {
		t.Fatal(err)
	}
	values := make([]HeaderValues, len(r.Headers))
	for i, h := range r.Headers {
		values[i] = HeaderValues{Name: h.Name, Values: []string{h.Value}}
	}
	for _, format := range []HeaderFormat{JSONHeaders, TNetstringHeaders} {
		got := AppendRequestValues(nil, r.Sender, r.ConnID, r.Path, values, r.Body, format)
		if want := AppendRequest(nil, r, format); string(got) != string(want) {
			t.Errorf("format %d:\n got %q\nwant %q", format, got, want)
		}
	}
}

func FuzzAppendRequestValues(f *testing.F) {
	f.Add("x-forwarded-for", "a", "b\"\\c", uint8(2), []byte("body"))
	f.Add("", "", "", uint8(0), []byte{})
	f.Fuzz(func(t *testing.T, name, v1, v2 string, n uint8, body []byte) {
		values := []string{v1, v2, v1, v2, v1}[:n%6]
		headers := []HeaderValues{{Name: "METHOD", Values: []string{"JSON"}}, {Name: name, Values: values}}
		for _, format := range []HeaderFormat{JSONHeaders, TNetstringHeaders} {
			enc := AppendRequestValues(nil, "s", "1", "@p", headers, body, format)
			r, err := ParseRequest(enc)
			if err != nil {
				t.Fatalf("format %d: %q does not parse: %v", format, enc, err)
			}
			if len(r.Headers) != 2 || r.Headers[1].Name != name || string(r.Body) != string(body) {
				t.Fatalf("format %d: %q parsed as %+v", format, enc, r)
			}
			want := string(appendJSONValues(nil, values))
			if len(values) == 1 {
				want = values[0]
			}
			if r.Headers[1].Value != want {
				t.Fatalf("format %d: value %q, want %q", format, r.Headers[1].Value, want)
			}
		}
	})
}
