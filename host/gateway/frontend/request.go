package frontend

import (
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// This file builds the messages the front end pushes to a handler, byte for
// byte as Mongrel2 1.12 builds them (src/request.c, Request_to_payload and
// Request_to_tnetstring; src/handler.c, Handler_notify_leave).
//
// Mongrel2 keeps a request's headers in a hash table (kazlib's hash.c with
// an FNV-1a hash of the lower-cased name, 64 chains to start with, new
// entries at the head of their chain, the table doubling once it holds 128
// names) and writes them in the table's scan order. headerTable replays
// that, so the handler sees the same order.

// Mongrel2's header limits (src/request.c).
const (
	// maxHeaderNames is limits.header_count: further names are dropped.
	maxHeaderNames = 128 * 10
	// maxHeaderValues is MAX_DUPE_HEADERS: a repeated header keeps its
	// first five values.
	maxHeaderValues = 5
	// initialChains is kazlib's INIT_SIZE.
	initialChains = 64
)

// The disconnect notice's parts (src/handler.c).
const (
	disconnectPath = "@*"
	disconnectBody = `{"type":"disconnect"}`
)

type hashNode struct {
	key    string
	hkey   uint32
	values []string
	next   *hashNode
}

// headerTable is Mongrel2's per-connection header hash. Its size carries
// over from one request to the next on a connection, as in Mongrel2 (the
// table is emptied, never shrunk).
type headerTable struct {
	chains []*hashNode
	count  int
}

func newHeaderTable(nchains int) *headerTable {
	if nchains < initialChains {
		nchains = initialChains
	}
	return &headerTable{chains: make([]*hashNode, nchains)}
}

func fnv1a(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

func (t *headerTable) lookup(key string) *hashNode {
	h := fnv1a(key)
	for n := t.chains[h&uint32(len(t.chains)-1)]; n != nil; n = n.next {
		if n.hkey == h && n.key == key {
			return n
		}
	}
	return nil
}

// add appends a caller's header value (Request_set with replace=0).
// Once the table holds maxHeaderNames names every further header is
// dropped, repeated ones too.
func (t *headerTable) add(key, value string) {
	if t.count >= maxHeaderNames {
		return
	}
	if n := t.lookup(key); n != nil {
		if len(n.values) < maxHeaderValues {
			n.values = append(n.values, value)
		}
		return
	}
	t.insert(key, value)
}

// set replaces a header's values (Request_set with replace=1), as Mongrel2
// does for x-forwarded-for.
func (t *headerTable) set(key, value string) {
	if n := t.lookup(key); n != nil {
		n.values = []string{value}
		return
	}
	t.insert(key, value)
}

func (t *headerTable) insert(key, value string) {
	if t.count >= 2*len(t.chains) {
		t.grow()
	}
	h := fnv1a(key)
	c := h & uint32(len(t.chains)-1)
	t.chains[c] = &hashNode{key: key, hkey: h, values: []string{value}, next: t.chains[c]}
	t.count++
}

// grow doubles the table as kazlib's grow_table does: each chain splits in
// two by the newly exposed hash bit, each half reversed.
func (t *headerTable) grow() {
	n := len(t.chains)
	grown := make([]*hashNode, 2*n)
	bit := uint32(n)
	for c := 0; c < n; c++ {
		var low, high *hashNode
		for p := t.chains[c]; p != nil; {
			next := p.next
			if p.hkey&bit != 0 {
				p.next, high = high, p
			} else {
				p.next, low = low, p
			}
			p = next
		}
		grown[c], grown[c+n] = low, high
	}
	t.chains = grown
}

// scan returns the nodes in Mongrel2's output order.
func (t *headerTable) scan() []*hashNode {
	out := make([]*hashNode, 0, t.count)
	for _, n := range t.chains {
		for ; n != nil; n = n.next {
			out = append(out, n)
		}
	}
	return out
}

// requestInfo is what goes into one handler message besides the caller's
// headers.
type requestInfo struct {
	connID  string
	path    string
	method  string // JSON, XML, GET...
	pattern string
	remote  string
	// HTTP only (http true): VERSION and URI, then QUERY and FRAGMENT when
	// the URI has a '?' or '#'.
	http              bool
	version, uri      string
	query, fragment   string
	hasQuery, hasFrag bool
	body              []byte
}

// requestMessage builds the message for handler h about frame f (body is
// an HTTP request's body) from caller connID at address remote, routed by
// pattern. nchains is the size of the connection's header table; the new
// size is returned.
func requestMessage(h *Handler, f *Frame, body []byte, connID, pattern, remote string, nchains int) ([]byte, int) {
	r := requestInfo{connID: connID, path: f.Path, pattern: pattern, remote: remote, body: body}
	switch f.Kind {
	case KindJSON:
		r.method, r.body = "JSON", f.Body
	case KindXML:
		r.method, r.body = "XML", f.Body
	default:
		r.method, r.http = f.Method, true
		r.version, r.uri = f.Version, f.URI
		r.query, r.hasQuery = f.Query, f.HasQuery
		r.fragment, r.hasFrag = f.Fragment, f.HasFragment
	}
	table := newHeaderTable(nchains)
	for _, hf := range f.Headers {
		table.add(hf.Name, hf.Value)
	}
	table.set("x-forwarded-for", remote)
	return appendRequest(nil, h, &r, table.scan()), len(table.chains)
}

// appendRequest appends the message Mongrel2 pushes to handler h for one
// request. headers are the table's nodes in scan order.
func appendRequest(dst []byte, h *Handler, r *requestInfo, headers []*hashNode) []byte {
	one := func(name, v string) m2proto.HeaderValues {
		return m2proto.HeaderValues{Name: name, Values: []string{v}}
	}
	var optional []m2proto.HeaderValues // VERSION, URI, QUERY, FRAGMENT when present
	if r.http {
		optional = append(optional, one("VERSION", r.version), one("URI", r.uri))
	}
	if r.hasQuery {
		optional = append(optional, one("QUERY", r.query))
	}
	if r.hasFrag {
		optional = append(optional, one("FRAGMENT", r.fragment))
	}
	fields := make([]m2proto.HeaderValues, 0, len(headers)+len(optional)+5)
	if h.Protocol == ProtocolTNetstring {
		// Rendered as headers, PATH, VERSION..FRAGMENT, PATTERN, URL_SCHEME,
		// METHOD, REMOTE_ADDR into a buffer that tnetstrings fill from the
		// end: the dict comes out in the reverse order.
		fields = append(fields, one("REMOTE_ADDR", r.remote), one("METHOD", r.method),
			one("URL_SCHEME", "http"), one("PATTERN", r.pattern))
		for i := len(optional) - 1; i >= 0; i-- {
			fields = append(fields, optional[i])
		}
		fields = append(fields, one("PATH", r.path))
		for i := len(headers) - 1; i >= 0; i-- {
			fields = append(fields, m2proto.HeaderValues{Name: headers[i].key, Values: headers[i].values})
		}
	} else {
		fields = append(fields, one("PATH", r.path))
		for _, n := range headers {
			fields = append(fields, m2proto.HeaderValues{Name: n.key, Values: n.values})
		}
		fields = append(fields, one("METHOD", r.method))
		fields = append(fields, optional...)
		fields = append(fields, one("PATTERN", r.pattern), one("URL_SCHEME", "http"), one("REMOTE_ADDR", r.remote))
	}
	return m2proto.AppendRequestValues(dst, h.SendIdent, r.connID, r.path, fields, r.body, h.headerFormat())
}

// appendDisconnect appends Mongrel2's notice that connection connID is
// gone.
func appendDisconnect(dst []byte, h *Handler, connID string) []byte {
	return m2proto.AppendRequest(dst, &m2proto.Request{
		Sender:  h.SendIdent,
		ConnID:  connID,
		Path:    disconnectPath,
		Headers: []m2proto.Header{{Name: "METHOD", Value: "JSON"}},
		Body:    []byte(disconnectBody),
	}, h.headerFormat())
}
