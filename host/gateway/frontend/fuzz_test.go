package frontend

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

// Real caller bytes, as sent to Mongrel2 1.12 during the measurements.
var fuzzSeeds = []string{
	`@bbs {"type":"msg","msg":"connect"}` + "\x00",
	`@bbs {"type":"msg","msg":"x"}` + "\x00" + `@bbs {"type":"msg","msg":"y"}` + "\x00",
	`@bbs {"a":1} ` + "\x00" + `@bbs {"b":2}` + "\x00",
	"@bbs {\"a\":\"\x00\"}\x00",
	`@bbs.1 {"type":"ping"}` + "\x00",
	"<policy-file-request/>\x00",
	"<msg x=\"1\"/>\x00<msg>hi</msg>\x00",
	curlHead,
	"GET /status/a/b?q=1#frag HTTP/1.0\n\n",
	"POST /status HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
	"GET /status HTTP/1.1\r\nX-A: 1\r\nX-A: 2\r\nx-a: 3\r\nCookie: a=\"b\\c\"\r\n\r\n",
	"GET http://host/status HTTP/1.1\r\nHost: localhost\r\n\r\n",
	"hello\r\n",
	`@bbs [1,2]` + "\x00",
}

// frameTrace describes the frames in data, parsed in one piece, up to the
// first error, the end of the data, or the first HTTP body.
func frameTrace(data []byte, max int) ([]string, string) {
	var out []string
	for {
		f, n, err := ParseFrame(data, max)
		if err != nil {
			return out, errorKind(err)
		}
		if n == 0 {
			return out, "end"
		}
		if n > len(data) {
			panic(fmt.Sprintf("n = %d > %d", n, len(data)))
		}
		out = append(out, describeFrame(&f))
		data = data[n:]
		if f.Kind == KindHTTP && f.ContentLength() != 0 {
			return out, "body"
		}
	}
}

// readerTrace is frameTrace through a FrameReader fed in pieces.
func readerTrace(r io.Reader, max int) ([]string, string) {
	fr := NewFrameReader(r, max)
	var out []string
	for {
		f, err := fr.Next()
		if err == io.EOF {
			return out, "end"
		}
		if err != nil {
			return out, errorKind(err)
		}
		if fr.Buffered() > max {
			panic(fmt.Sprintf("buffered %d > %d", fr.Buffered(), max))
		}
		out = append(out, describeFrame(&f))
		if f.Kind == KindHTTP && f.ContentLength() != 0 {
			return out, "body"
		}
	}
}

func describeFrame(f *Frame) string {
	return fmt.Sprintf("%v %q %q %q %q %q %v %q %v %q", f.Kind, f.Path, f.Body, f.Method, f.URI, f.Query, f.HasQuery, f.Fragment, f.HasFragment, f.Headers)
}

func errorKind(err error) string {
	var fe *FrameError
	switch {
	case !errors.As(err, &fe):
		return "unexpected " + err.Error()
	case errors.Is(err, ErrFrameTooLarge):
		return "too large"
	case errors.Is(err, ErrBadFrame):
		return "bad"
	}
	return "unknown kind " + err.Error()
}

// FuzzFrame checks that ParseFrame never panics or reads past its input,
// and that a FrameReader fed the same bytes cut at arbitrary points (as
// TCP cuts them) finds the same frames and the same error.
func FuzzFrame(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add([]byte(s), []byte{byte(i), 3, 1, 200}, uint16(DefaultMaxFrameBytes))
		f.Add([]byte(s), []byte{1}, uint16(16))
	}
	f.Fuzz(func(t *testing.T, data, cuts []byte, max uint16) {
		limit := int(max%DefaultMaxFrameBytes) + 8
		frames, end := frameTrace(data, limit)
		for _, fr := range frames {
			if strings.Contains(fr, "unexpected") {
				t.Fatal(fr)
			}
		}
		if strings.HasPrefix(end, "unexpected") || strings.HasPrefix(end, "unknown") {
			t.Fatal(end)
		}

		var chunks [][]byte
		rest := data
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if len(cuts) > 0 {
				n = min(int(cuts[i%len(cuts)])+1, len(rest))
			}
			chunks = append(chunks, bytes.Clone(rest[:n]))
			rest = rest[n:]
		}
		gotFrames, gotEnd := readerTrace(&chunkReader{chunks: chunks}, limit)
		if !reflect.DeepEqual(gotFrames, frames) || gotEnd != end {
			t.Fatalf("split input gives\n%q, %s\nwhole input gives\n%q, %s", gotFrames, gotEnd, frames, end)
		}
	})
}
