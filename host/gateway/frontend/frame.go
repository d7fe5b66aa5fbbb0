package frontend

import (
	"errors"
	"fmt"
	"strings"
)

// This file is the caller-side wire format: what arrives on the TCP port.
// It knows nothing of sockets. The grammar is Mongrel2 1.12's
// (src/http11/http11_parser.rl), checked byte by byte so that a frame that
// can no longer be valid is refused as soon as its first wrong byte
// arrives, as Mongrel2 does.

// Default limits, Mongrel2 1.12's own (see the package documentation).
const (
	// DefaultMaxFrameBytes bounds a whole JSON or XML frame (route, space,
	// payload and NUL) and an HTTP request head: Mongrel2 parses in one
	// buffer of limits.buffer_size bytes, default 4 KiB, and answers 400
	// Bad Request to anything that does not fit.
	DefaultMaxFrameBytes = 4 * 1024

	// DefaultMaxBodyBytes bounds an HTTP request body: limits.content_length,
	// default 20 KiB. Above it Mongrel2 answers 413 (it would stream the
	// body to a file, which m2bbs's configuration does not enable).
	DefaultMaxBodyBytes = 20 * 1024

	// maxMethodLength is the longest HTTP method Mongrel2 accepts.
	maxMethodLength = 20
)

// ErrBadFrame is the kind of a *FrameError for bytes that cannot start a
// frame Mongrel2 would accept.
var ErrBadFrame = errors.New("frontend: bad frame")

// ErrFrameTooLarge is the kind of a *FrameError for a frame that does not
// end within the size limit.
var ErrFrameTooLarge = errors.New("frontend: frame too large")

// FrameError reports bad caller input: what was wrong and where.
type FrameError struct {
	// Offset is the byte offset, from the start of the frame, at which the
	// problem was found.
	Offset int
	// Reason says what was wrong, in a few lower-case words.
	Reason string
	// Kind is ErrBadFrame or ErrFrameTooLarge.
	Kind error
}

// Error returns "frontend: bad frame: REASON at offset N".
func (e *FrameError) Error() string {
	return fmt.Sprintf("%v: %s at offset %d", e.Kind, e.Reason, e.Offset)
}

// Unwrap returns the error's kind.
func (e *FrameError) Unwrap() error { return e.Kind }

func badFrame(off int, format string, args ...any) *FrameError {
	return &FrameError{Offset: off, Reason: fmt.Sprintf(format, args...), Kind: ErrBadFrame}
}

// FrameKind says what a caller sent.
type FrameKind int

// The kinds of frame.
const (
	// KindJSON is a JSON-socket message: "@route {...}\x00".
	KindJSON FrameKind = iota + 1
	// KindXML is an XML-socket message: "<tag ...>\x00".
	KindXML
	// KindPolicy is Flash's "<policy-file-request/>\x00".
	KindPolicy
	// KindHTTP is the head of an HTTP/1.0 or HTTP/1.1 request; its body, if
	// any, follows the head on the wire (see Frame.ContentLength).
	KindHTTP
)

// String names the kind.
func (k FrameKind) String() string {
	switch k {
	case KindJSON:
		return "json"
	case KindXML:
		return "xml"
	case KindPolicy:
		return "policy"
	case KindHTTP:
		return "http"
	}
	return fmt.Sprintf("FrameKind(%d)", int(k))
}

// HeaderField is one HTTP request header: the name lower-cased, the value
// as sent, without the spaces after the colon but with any trailing ones.
type HeaderField struct {
	Name, Value string
}

// Frame is one message from a caller.
type Frame struct {
	Kind FrameKind
	// Path is what Mongrel2 routes on: "@bbs" for "@bbs {...}", "<msg" for
	// "<msg>...</msg>", the URL path for HTTP ("/status" for
	// "/status?x#y").
	Path string
	// Body is a JSON or XML frame's payload: for JSON the bytes from '{' to
	// the '}' before the NUL, for XML the whole frame without the NUL. It is
	// a sub-slice of the parsed input. It is nil for HTTP: the request body
	// follows the head.
	Body []byte

	// The rest describe HTTP requests only.

	// Method, URI and Version are from the request line; URI leaves out the
	// fragment (and, for an absolute URI, the "scheme:"), as Mongrel2 does.
	Method, URI, Version string
	// Query and Fragment are the parts after '?' and '#'; HasQuery and
	// HasFragment say whether there was a '?' or '#' at all.
	Query, Fragment       string
	HasQuery, HasFragment bool
	// Headers are in arrival order.
	Headers []HeaderField
}

// Header returns the first value of the header named name (lower-case).
func (f *Frame) Header(name string) (string, bool) {
	for _, h := range f.Headers {
		if h.Name == name {
			return h.Value, true
		}
	}
	return "", false
}

// ContentLength returns the length of the body that follows an HTTP head,
// read as Mongrel2 reads it: the first Content-Length header through C's
// atoi (leading spaces, a sign, digits; 0 if none), or -1 when a
// Transfer-Encoding header says "chunked" (Mongrel2 cannot take those).
func (f *Frame) ContentLength() int64 {
	if te, ok := f.Header("transfer-encoding"); ok && strings.Contains(strings.ToLower(te), "chunked") {
		return -1
	}
	v, _ := f.Header("content-length")
	return atoi(v)
}

// atoi is C's atoi, saturating instead of overflowing.
func atoi(s string) int64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] >= '\t' && s[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var n int64
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n < 1<<40 {
			n = n*10 + int64(s[i]-'0')
		}
	}
	if neg {
		return -n
	}
	return n
}

// ParseFrame parses the frame at the start of buf. It returns the frame and
// the number of bytes it took; n == 0 with a nil error when buf holds only
// the beginning of a frame; a *FrameError wrapping ErrBadFrame as soon as
// buf cannot be the beginning of a valid frame, or ErrFrameTooLarge when a
// frame has not ended within max bytes. For KindHTTP, n covers the head
// only. The frame's Body is a sub-slice of buf.
func ParseFrame(buf []byte, max int) (Frame, int, error) {
	var sc scanner
	if len(buf) > max {
		buf = buf[:max]
	}
	n, err := sc.feed(buf)
	switch {
	case err != nil:
		return Frame{}, 0, err
	case n > 0:
		return sc.frame(buf[:n]), n, nil
	case len(buf) == max:
		return Frame{}, 0, &FrameError{Offset: max, Reason: fmt.Sprintf("no end within %d bytes", max), Kind: ErrFrameTooLarge}
	}
	return Frame{}, 0, nil
}

// scanner states.
const (
	sStart = iota
	// JSON: "@" path " " "{" any* "}" NUL
	sJSONPath
	sJSONOpen
	sJSONBody
	// XML: "<" tag ("/" | space | ">") any* ">" NUL
	sXMLTag
	sXMLBody
	// HTTP
	sMethod
	sURI
	sVersion
	sLineCR      // saw '\r', want '\n', then the headers
	sHeaderStart // at the start of a header line or the blank line
	sHeaderName
	sHeaderSpace
	sHeaderValue
	sHeaderCR
	sHeadEndCR
)

// span is a [start, end) range of offsets in the frame.
type span struct{ start, end int }

// scanner checks a frame byte by byte and remembers where its parts are.
// It is resumable: feed it a frame's bytes in pieces, each time the whole
// frame so far, and it continues where it stopped.
type scanner struct {
	state int
	pos   int // bytes consumed so far

	pathEnd  int
	pct      int  // hex digits still owed after a '%'
	colonOK  bool // a ':' may appear in the JSON path
	prev     byte
	count    int // characters of the current token
	version  int // bytes of "HTTP/1.x" matched
	method   span
	uri      span
	nameSpan span
	valStart int
	headers  [][2]span
}

const httpVersionPrefix = "HTTP/1."

// feed consumes buf[s.pos:] (buf holds the frame from its first byte). It
// returns the frame length once the frame is complete.
func (s *scanner) feed(buf []byte) (int, error) {
	for ; s.pos < len(buf); s.pos++ {
		c, i := buf[s.pos], s.pos
		switch s.state {
		case sStart:
			switch {
			case c == '@':
				s.state = sJSONPath
			case c == '<':
				s.state = sXMLTag
			case isUpper(c) || isDigit(c):
				s.state, s.count = sMethod, 1
			default:
				return 0, badFrame(i, "a frame cannot start with %q", c)
			}

		case sJSONPath:
			if c == ' ' {
				if s.pct > 0 {
					return 0, badFrame(i, "incomplete %%-escape in route")
				}
				s.pathEnd, s.state = i, sJSONOpen
				continue
			}
			if err := s.pathByte(c, i); err != nil {
				return 0, err
			}
		case sJSONOpen:
			if c != '{' {
				return 0, badFrame(i, "want '{' after the route, got %q", c)
			}
			s.state, s.prev = sJSONBody, c
		case sJSONBody:
			if c == 0 && s.prev == '}' {
				s.pos++
				return s.pos, nil
			}
			s.prev = c

		case sXMLTag:
			switch {
			case isTagByte(c):
				s.count++
			case s.count > 0 && (c == '/' || c == '>' || isSpace(c)):
				s.pathEnd, s.state, s.prev = i, sXMLBody, 0
			default:
				return 0, badFrame(i, "bad byte %q in XML tag", c)
			}
		case sXMLBody:
			if c == 0 && s.prev == '>' {
				s.pos++
				return s.pos, nil
			}
			s.prev = c

		case sMethod:
			switch {
			case c == ' ':
				s.method, s.uri.start, s.state = span{0, i}, i+1, sURI
			case (isUpper(c) || isDigit(c)) && s.count < maxMethodLength:
				s.count++
			default:
				return 0, badFrame(i, "bad HTTP method")
			}
		case sURI:
			if c == ' ' {
				s.uri.end = i
				if _, err := splitURI(string(buf[s.uri.start:i]), s.uri.start); err != nil {
					return 0, err
				}
				s.state, s.version = sVersion, 0
				continue
			}
			if !isURIByte(c) {
				return 0, badFrame(i, "bad byte %q in request URI", c)
			}
		case sVersion:
			switch {
			case s.version < len(httpVersionPrefix):
				if c != httpVersionPrefix[s.version] {
					return 0, badFrame(i, "want HTTP/1.0 or HTTP/1.1")
				}
				s.version++
			case s.version == len(httpVersionPrefix):
				if c != '0' && c != '1' {
					return 0, badFrame(i, "want HTTP/1.0 or HTTP/1.1")
				}
				s.version++
			case c == '\r':
				s.state = sLineCR
			case c == '\n':
				s.state = sHeaderStart
			default:
				return 0, badFrame(i, "want end of line after the HTTP version")
			}
		case sLineCR:
			if c != '\n' {
				return 0, badFrame(i, "want '\\n' after '\\r'")
			}
			s.state = sHeaderStart
		case sHeaderStart:
			switch {
			case c == '\r':
				s.state = sHeadEndCR
			case c == '\n':
				s.pos++
				return s.pos, nil
			case isTokenByte(c):
				s.nameSpan.start, s.state = i, sHeaderName
			default:
				return 0, badFrame(i, "bad byte %q at the start of a header", c)
			}
		case sHeaderName:
			switch {
			case c == ':':
				s.nameSpan.end, s.state = i, sHeaderSpace
			case !isTokenByte(c):
				return 0, badFrame(i, "bad byte %q in a header name", c)
			}
		case sHeaderSpace:
			switch c {
			case ' ', '\t':
			case '\r':
				s.valStart, s.state = i, sHeaderCR
			case '\n':
				s.endHeader(i, i)
			default:
				s.valStart, s.state = i, sHeaderValue
			}
		case sHeaderValue:
			switch c {
			case '\r':
				s.state = sHeaderCR
			case '\n':
				s.endHeader(s.valStart, i)
			}
		case sHeaderCR:
			if c != '\n' {
				return 0, badFrame(i, "want '\\n' after '\\r'")
			}
			s.endHeader(s.valStart, i-1)
		case sHeadEndCR:
			if c != '\n' {
				return 0, badFrame(i, "want '\\n' after '\\r'")
			}
			s.pos++
			return s.pos, nil
		}
	}
	return 0, nil
}

// endHeader records a header whose value is buf[vs:ve].
func (s *scanner) endHeader(vs, ve int) {
	if vs > ve {
		vs = ve
	}
	s.headers = append(s.headers, [2]span{s.nameSpan, {vs, ve}})
	s.state = sHeaderStart
}

// pathByte checks one byte of a JSON route: Mongrel2 takes "@" followed by
// a URI relative part (RFC 3986): unreserved, sub-delims, '@', '/',
// %-escapes, and ':' only after a '/'.
func (s *scanner) pathByte(c byte, i int) error {
	if s.pct > 0 {
		if !isHex(c) {
			return badFrame(i, "bad %%-escape in route")
		}
		s.pct--
		return nil
	}
	switch {
	case c == '%':
		s.pct = 2
	case c == '/':
		s.colonOK = true
	case c == ':':
		if !s.colonOK {
			return badFrame(i, "':' before the first '/' in route")
		}
	case isUnreserved(c) || isSubDelim(c) || c == '@':
	default:
		return badFrame(i, "bad byte %q in route", c)
	}
	return nil
}

// frame builds the Frame from the complete frame in buf.
func (s *scanner) frame(buf []byte) Frame {
	switch {
	case buf[0] == '@':
		open := s.pathEnd + 1
		return Frame{Kind: KindJSON, Path: string(buf[:s.pathEnd]), Body: buf[open : len(buf)-1 : len(buf)-1]}
	case buf[0] == '<':
		path := string(buf[:s.pathEnd])
		kind := KindXML
		if path == "<policy-file-request" {
			kind = KindPolicy
		}
		return Frame{Kind: kind, Path: path, Body: buf[: len(buf)-1 : len(buf)-1]}
	}
	f := Frame{
		Kind:    KindHTTP,
		Method:  string(buf[s.method.start:s.method.end]),
		Version: string(buf[s.uri.end+1 : s.uri.end+1+len(httpVersionPrefix)+1]),
	}
	u, _ := splitURI(string(buf[s.uri.start:s.uri.end]), s.uri.start)
	f.Path, f.URI = u.path, u.uri
	f.Query, f.HasQuery = u.query, u.hasQuery
	f.Fragment, f.HasFragment = u.fragment, u.hasFragment
	f.Headers = make([]HeaderField, len(s.headers))
	for i, h := range s.headers {
		f.Headers[i] = HeaderField{
			Name:  strings.ToLower(string(buf[h[0].start:h[0].end])),
			Value: string(buf[h[1].start:h[1].end]),
		}
	}
	return f
}

// uriParts is a request URI cut the way Mongrel2 cuts it.
type uriParts struct {
	path, uri, query, fragment string
	hasQuery, hasFragment      bool
}

// splitURI checks a request URI against RFC 3986 (an absolute URI or a
// relative reference, as Mongrel2's parser does) and cuts it up. off is
// the URI's offset in the frame, for errors.
func splitURI(raw string, off int) (uriParts, error) {
	var u uriParts
	rest := raw
	if i := strings.IndexByte(rest, '#'); i >= 0 {
		u.fragment, u.hasFragment = rest[i+1:], true
		rest = rest[:i]
		if j := badQueryByte(u.fragment); j >= 0 {
			return u, badFrame(off+i+1+j, "bad byte in URI fragment")
		}
	}
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		u.query, u.hasQuery = rest[i+1:], true
		if j := badQueryByte(u.query); j >= 0 {
			return u, badFrame(off+i+1+j, "bad byte in URI query")
		}
		u.path = rest[:i]
	} else {
		u.path = rest
	}
	pathOff := off
	// A ':' before any '/' makes it an absolute URI "scheme:hier-part";
	// Mongrel2 then reports the hier-part (and its query) as PATH and URI.
	if colon := strings.IndexByte(u.path, ':'); colon >= 0 && !strings.Contains(u.path[:colon], "/") {
		if !isScheme(u.path[:colon]) {
			return u, badFrame(off, "bad URI scheme")
		}
		u.path = u.path[colon+1:]
		pathOff += colon + 1
		rest = rest[colon+1:]
	}
	if j := badPathByte(u.path, strings.HasPrefix(u.path, "//")); j >= 0 {
		return u, badFrame(pathOff+j, "bad byte in URI path")
	}
	u.uri = rest
	return u, nil
}

// badPathByte returns the index of the first byte that is not allowed in a
// path: unreserved, sub-delims, ':', '@', '/' and %-escapes, and '[' and
// ']' after an authority's "//" (IPv6 literals); -1 if there is none.
func badPathByte(p string, authority bool) int {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%':
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return i
			}
			i += 2
		case isUnreserved(c) || isSubDelim(c) || c == ':' || c == '@' || c == '/':
		case authority && (c == '[' || c == ']'):
		default:
			return i
		}
	}
	return -1
}

// badQueryByte is badPathByte for queries and fragments, which may also
// hold '?'.
func badQueryByte(q string) int {
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '%':
			if i+2 >= len(q) || !isHex(q[i+1]) || !isHex(q[i+2]) {
				return i
			}
			i += 2
		case isUnreserved(c) || isSubDelim(c) || c == ':' || c == '@' || c == '/' || c == '?':
		default:
			return i
		}
	}
	return -1
}

func isScheme(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return isUpper(c) || c >= 'a' && c <= 'z' }
func isHex(c byte) bool   { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

// isSpace is Ragel's space class: tab, LF, VT, FF, CR and space.
func isSpace(c byte) bool { return c == ' ' || c >= '\t' && c <= '\r' }

func isUnreserved(c byte) bool {
	return isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~'
}

func isSubDelim(c byte) bool { return strings.IndexByte("!$&'()*+,;=", c) >= 0 }

// isURIByte reports whether c may appear anywhere in a request URI.
func isURIByte(c byte) bool {
	return isUnreserved(c) || isSubDelim(c) || strings.IndexByte(":/?#[]@%", c) >= 0
}

// isTagByte is an XML tag name byte as Mongrel2 takes it: [a-zA-Z0-9.-].
func isTagByte(c byte) bool { return isAlpha(c) || isDigit(c) || c == '-' || c == '.' }

// isTokenByte is an HTTP token byte: visible ASCII but no separator.
func isTokenByte(c byte) bool {
	return c > ' ' && c < 0x7f && strings.IndexByte(`()<>@,;:\"/[]?={}`, c) < 0
}
