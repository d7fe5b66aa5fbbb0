package dispatch

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// The host's HTTP pages are net/http handlers (http.go); a Mongrel2 HTTP
// request reaches them as an *http.Request (newHTTPRequest), and their
// answer goes back as one Mongrel2 reply (replyWriter).

// connIDKey is the context key of the conn id of the Mongrel2 request an
// *http.Request was made from.
type connIDKey struct{}

// connIDOf is the conn id newHTTPRequest put in ctx, or "".
func connIDOf(ctx context.Context) string {
	id, _ := ctx.Value(connIDKey{}).(string)
	return id
}

// newHTTPRequest adapts req, an HTTP request Mongrel2 or the built-in
// front end passed to the handler, to net/http's form, with ctx (which
// carries req's conn id, connIDOf). Method, path, query and the caller's
// address come from the headers the front end adds itself, named in upper
// case (METHOD, PATH, QUERY, REMOTE_ADDR); Header holds only the caller's
// own headers, which the front end lower-cases, so that a caller sending
// "Remote_Addr" cannot pose as the front end. Host is the caller's "host"
// header. The path is taken as it came, not unescaped (the host's pages
// have plain names).
func newHTTPRequest(ctx context.Context, req *m2proto.Request) *http.Request {
	p := req.Header("PATH")
	if p == "" {
		p = req.Path
	}
	r := &http.Request{
		Method:        req.Method(),
		URL:           &url.URL{Path: p, RawQuery: req.Header("QUERY")},
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        make(http.Header, len(req.Headers)),
		Body:          io.NopCloser(bytes.NewReader(req.Body)),
		ContentLength: int64(len(req.Body)),
		Host:          req.Header("host"),
		RemoteAddr:    req.Header("REMOTE_ADDR"),
		RequestURI:    p,
	}
	if q := r.URL.RawQuery; q != "" {
		r.RequestURI += "?" + q
	}
	for _, hd := range req.Headers {
		if hd.Name != "host" && callerHeader(hd.Name) {
			r.Header.Add(hd.Name, hd.Value)
		}
	}
	return r.WithContext(context.WithValue(ctx, connIDKey{}, req.ConnID))
}

// callerHeader reports whether a header named name came from the caller:
// the front end lower-cases those and names its own in upper case.
func callerHeader(name string) bool { return strings.ToUpper(name) != name }

// routable reports whether p is a path as http.ServeMux routes it: rooted,
// with no "." or ".." element and no doubled slash. The mux redirects any
// other to its clean form; the host answers 404 instead (no page of the
// host has another name).
func routable(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	clean := path.Clean(p)
	if clean != "/" && strings.HasSuffix(p, "/") {
		clean += "/"
	}
	return clean == p
}

// replyWriter is the http.ResponseWriter of a Mongrel2 HTTP request: it
// keeps the status, headers and body a handler writes, for serveHTTP to
// send as one reply once the handler returns. The body is held in memory;
// the host's pages are small.
type replyWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
	// stream, if a page set it, answers instead of the above: serveHTTP
	// runs it after the handler returns, and its pieces go out as they
	// come (watch_http.go).
	stream streamFunc
	// download, if a page set it, is a file sent instead of the above
	// (files_http.go).
	download *download
}

// newReplyWriter returns an empty replyWriter.
func newReplyWriter() *replyWriter { return &replyWriter{header: http.Header{}} }

// Header returns the headers of the answer; only Content-Type is sent.
func (w *replyWriter) Header() http.Header { return w.header }

// WriteHeader sets the status code; only the first call counts.
func (w *replyWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

// Write appends p to the body, with status 200 if none was set.
func (w *replyWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// reply is the answer as Mongrel2 sends it to the caller: an HTTP/1.1
// response.
func (w *replyWriter) reply() []byte {
	w.WriteHeader(http.StatusOK)
	return m2proto.AppendHTTPResponse(nil, w.code, w.header.Get("Content-Type"), w.body.Bytes())
}
