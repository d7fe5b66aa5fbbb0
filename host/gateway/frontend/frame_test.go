package frontend

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestParseFrame(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want Frame // Kind 0: incomplete
		n    int   // bytes taken; 0 means len(in)
		err  error
	}{
		{name: "classic connect", in: `@bbs {"type":"msg","msg":"connect"}` + "\x00",
			want: Frame{Kind: KindJSON, Path: "@bbs", Body: []byte(`{"type":"msg","msg":"connect"}`)}},
		{name: "NUL inside", in: "@bbs {\"a\":\"\x00\"}\x00",
			want: Frame{Kind: KindJSON, Path: "@bbs", Body: []byte("{\"a\":\"\x00\"}")}},
		{name: "ends at first }NUL", in: `@bbs {"a":"}` + "\x00" + `"}` + "\x00",
			want: Frame{Kind: KindJSON, Path: "@bbs", Body: []byte(`{"a":"}`)}, n: 13},
		{name: "second frame left", in: `@bbs {}` + "\x00" + `@bbs {}` + "\x00",
			want: Frame{Kind: KindJSON, Path: "@bbs", Body: []byte(`{}`)}, n: 8},
		{name: "empty route", in: "@ {}\x00", want: Frame{Kind: KindJSON, Path: "@", Body: []byte("{}")}},
		{name: "route with path", in: "@bbs/a:b%41 {}\x00", want: Frame{Kind: KindJSON, Path: "@bbs/a:b%41", Body: []byte("{}")}},
		{name: "json incomplete", in: `@bbs {"a":1}`},
		{name: "json incomplete after NUL", in: "@bbs {\x00"},
		{name: "json array", in: `@bbs [1]` + "\x00", err: ErrBadFrame},
		{name: "json string", in: `@bbs "s"` + "\x00", err: ErrBadFrame},
		{name: "no space", in: `@bbs{}` + "\x00", err: ErrBadFrame},
		{name: "two spaces", in: `@bbs  {}` + "\x00", err: ErrBadFrame},
		{name: "colon in first segment", in: `@a:b {}` + "\x00", err: ErrBadFrame},
		{name: "bad escape", in: `@bbs%4 {}` + "\x00", err: ErrBadFrame},
		{name: "bad route byte early", in: `@bb"`, err: ErrBadFrame},

		{name: "policy", in: "<policy-file-request/>\x00",
			want: Frame{Kind: KindPolicy, Path: "<policy-file-request", Body: []byte("<policy-file-request/>")}},
		{name: "policy variant", in: "<policy-file-request>x>\x00",
			want: Frame{Kind: KindPolicy, Path: "<policy-file-request", Body: []byte("<policy-file-request>x>")}},
		{name: "xml", in: "<msg>hi</msg>\x00", want: Frame{Kind: KindXML, Path: "<msg", Body: []byte("<msg>hi</msg>")}},
		{name: "xml attrs", in: "<msg x=\"1\"/>\x00", want: Frame{Kind: KindXML, Path: "<msg", Body: []byte("<msg x=\"1\"/>")}},
		{name: "xml needs a closing >", in: "<m>\x00"},
		{name: "xml bare tag", in: "<msg\x00", err: ErrBadFrame},
		{name: "xml no tag", in: "< a>\x00", err: ErrBadFrame},

		{name: "http get", in: "GET /status HTTP/1.1\r\nHost: localhost\r\nUser-Agent: t\r\n\r\n",
			want: Frame{Kind: KindHTTP, Path: "/status", Method: "GET", URI: "/status", Version: "HTTP/1.1",
				Headers: []HeaderField{{"host", "localhost"}, {"user-agent", "t"}}}},
		{name: "http query fragment", in: "GET /status/a?q=1#top HTTP/1.0\n\n",
			want: Frame{Kind: KindHTTP, Path: "/status/a", Method: "GET", URI: "/status/a?q=1", Version: "HTTP/1.0",
				Query: "q=1", HasQuery: true, Fragment: "top", HasFragment: true, Headers: []HeaderField{}}},
		{name: "http absolute uri", in: "GET http://h:1/s?x HTTP/1.1\r\n\r\n",
			want: Frame{Kind: KindHTTP, Path: "//h:1/s", Method: "GET", URI: "//h:1/s?x", Version: "HTTP/1.1",
				Query: "x", HasQuery: true, Headers: []HeaderField{}}},
		{name: "http header values", in: "POST /s HTTP/1.1\r\nX-Empty:\r\nX-Sp:   \r\nX-Trail: a  \r\nX-Tab:\tb\r\nX-Ctl: a\x01b\r\n\r\nbody",
			want: Frame{Kind: KindHTTP, Path: "/s", Method: "POST", URI: "/s", Version: "HTTP/1.1",
				Headers: []HeaderField{{"x-empty", ""}, {"x-sp", ""}, {"x-trail", "a  "}, {"x-tab", "b"}, {"x-ctl", "a\x01b"}}},
			n: len("POST /s HTTP/1.1\r\nX-Empty:\r\nX-Sp:   \r\nX-Trail: a  \r\nX-Tab:\tb\r\nX-Ctl: a\x01b\r\n\r\n")},
		{name: "http incomplete", in: "GET /status HTTP/1.1\r\nHost: x\r\n"},
		{name: "http lower-case method", in: "get / HTTP/1.1\r\n\r\n", err: ErrBadFrame},
		{name: "http long method", in: strings.Repeat("A", 21) + " / HTTP/1.1\r\n\r\n", err: ErrBadFrame},
		{name: "http version", in: "GET / HTTP/1.2\r\n\r\n", err: ErrBadFrame},
		{name: "http space in path", in: "GET /a b HTTP/1.1\r\n\r\n", err: ErrBadFrame},
		{name: "http quote in query", in: "GET /a?\"b\" HTTP/1.1\r\n\r\n", err: ErrBadFrame},
		{name: "http folded header", in: "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", err: ErrBadFrame},
		{name: "http bad header name", in: "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", err: ErrBadFrame},
		{name: "http lone CR", in: "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", err: ErrBadFrame},

		{name: "garbage", in: "hello", err: ErrBadFrame},
		{name: "NUL", in: "\x00", err: ErrBadFrame},
		{name: "empty", in: ""},
		{name: "too large", in: `@bbs {"a":"` + strings.Repeat("x", DefaultMaxFrameBytes), err: ErrFrameTooLarge},
		{name: "largest", in: jsonFrameOfSize(DefaultMaxFrameBytes),
			want: Frame{Kind: KindJSON, Path: "@bbs", Body: []byte(jsonFrameOfSize(DefaultMaxFrameBytes)[5 : DefaultMaxFrameBytes-1])}},
		{name: "one too large", in: jsonFrameOfSize(DefaultMaxFrameBytes + 1), err: ErrFrameTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, n, err := ParseFrame([]byte(tc.in), DefaultMaxFrameBytes)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			wantN := tc.n
			if tc.want.Kind != 0 && wantN == 0 {
				wantN = len(tc.in)
			}
			if n != wantN {
				t.Errorf("n = %d, want %d", n, wantN)
			}
			if !reflect.DeepEqual(f, tc.want) {
				t.Errorf("frame = %+v\nwant    %+v", f, tc.want)
			}
		})
	}
}

func TestFrameContentLength(t *testing.T) {
	for _, tc := range []struct {
		headers []HeaderField
		want    int64
	}{
		{nil, 0},
		{[]HeaderField{{"content-length", "5"}}, 5},
		{[]HeaderField{{"content-length", " 12abc"}}, 12},
		{[]HeaderField{{"content-length", "abc"}}, 0},
		{[]HeaderField{{"content-length", "-5"}}, -5},
		{[]HeaderField{{"content-length", "5"}, {"content-length", "9"}}, 5},
		{[]HeaderField{{"transfer-encoding", "Chunked"}, {"content-length", "5"}}, -1},
	} {
		f := Frame{Kind: KindHTTP, Headers: tc.headers}
		if got := f.ContentLength(); got != tc.want {
			t.Errorf("ContentLength(%v) = %d, want %d", tc.headers, got, tc.want)
		}
	}
}

// chunkReader returns its input in the given pieces, one per Read.
type chunkReader struct {
	chunks [][]byte
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.chunks) > 0 && len(r.chunks[0]) == 0 {
		r.chunks = r.chunks[1:]
	}
	if len(r.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	r.chunks[0] = r.chunks[0][n:]
	return n, nil
}

// splitEvery cuts s into pieces of n bytes.
func splitEvery(s string, n int) [][]byte {
	var out [][]byte
	for len(s) > n {
		out = append(out, []byte(s[:n]))
		s = s[n:]
	}
	return append(out, []byte(s))
}

func TestFrameReaderSplits(t *testing.T) {
	stream := msgConnect + "<msg>hi</msg>\x00" + "POST /s HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc" + `@bbs {"b":2}` + "\x00"
	for _, size := range []int{1, 2, 3, 7, 64, len(stream)} {
		fr := NewFrameReader(&chunkReader{chunks: splitEvery(stream, size)}, DefaultMaxFrameBytes)
		var got []string
		for {
			f, err := fr.Next()
			if err != nil {
				if err != io.EOF {
					t.Fatalf("size %d: %v", size, err)
				}
				break
			}
			got = append(got, f.Kind.String()+" "+f.Path+" "+string(f.Body))
			if f.Kind == KindHTTP {
				body, err := fr.ReadBody(int(f.ContentLength()))
				if err != nil {
					t.Fatalf("size %d: body: %v", size, err)
				}
				got = append(got, "body "+string(body))
			}
		}
		want := []string{`json @bbs {"type":"msg","msg":"connect"}`, "xml <msg <msg>hi</msg>", "http /s ", "body abc", `json @bbs {"b":2}`}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("size %d: frames %q, want %q", size, got, want)
		}
	}
}

// timeoutReader fails its first Read with a timeout, then reads r.
type timeoutReader struct {
	r        io.Reader
	timedOut bool
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func (r *timeoutReader) Read(p []byte) (int, error) {
	if !r.timedOut {
		r.timedOut = true
		return 0, timeoutError{}
	}
	return r.r.Read(p)
}

func TestFrameReaderResumesAfterReadError(t *testing.T) {
	r := &sequence{readers: []io.Reader{
		&chunkReader{chunks: [][]byte{[]byte(`@bbs {"a"`)}},
		&timeoutReader{r: &chunkReader{chunks: [][]byte{[]byte(`:1}` + "\x00")}}},
	}}
	fr := NewFrameReader(r, DefaultMaxFrameBytes)
	if _, err := fr.Next(); !isTimeout(err) {
		t.Fatalf("first Next: err = %v, want the timeout", err)
	}
	f, err := fr.Next()
	if err != nil || string(f.Body) != `{"a":1}` {
		t.Fatalf("after the timeout: %q, %v", f.Body, err)
	}
}

// sequence reads its readers one after the other, passing errors through.
type sequence struct{ readers []io.Reader }

func (s *sequence) Read(p []byte) (int, error) {
	for len(s.readers) > 0 {
		n, err := s.readers[0].Read(p)
		if err == io.EOF {
			s.readers = s.readers[1:]
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
	return 0, io.EOF
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

func TestFrameReaderLimit(t *testing.T) {
	fr := NewFrameReader(strings.NewReader(`@bbs {"a":"`+strings.Repeat("x", 200)), 100)
	_, err := fr.Next()
	var fe *FrameError
	if !errors.As(err, &fe) || !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("err = %v, want a *FrameError wrapping ErrFrameTooLarge", err)
	}
	if _, err2 := fr.Next(); err2 != err {
		t.Errorf("second Next: %v, want the same error", err2)
	}
	if fr.Buffered() > 100 {
		t.Errorf("buffered %d bytes past the limit of 100", fr.Buffered())
	}
}

func BenchmarkParseFrame(b *testing.B) {
	for _, bc := range []struct{ name, in string }{
		{"json", msgConnect},
		{"http", curlHead},
	} {
		b.Run(bc.name, func(b *testing.B) {
			in := []byte(bc.in)
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, n, err := ParseFrame(in, DefaultMaxFrameBytes); n == 0 || err != nil {
					b.Fatal(n, err)
				}
			}
		})
	}
}
