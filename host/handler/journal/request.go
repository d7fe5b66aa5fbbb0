package journal

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// This file holds the journal's own form of a request: what a replay
// rebuilds the script's request table from (sender, conn id, path, the
// headers with the caller's address, and the body with the line), each
// field length-prefixed, so that journaling a line costs copies and no
// escaping, and replaying it no parse of Mongrel2's wire format.
//
// Journals written before this form kept each request in Mongrel2's wire
// format (m2proto.AppendRequest); their entries carry other kind bytes
// (see Entry.Append), and Request.Decode still reads them, so that the
// callers of a host upgraded from such a version keep their sessions.

// Limits on a journaled request, as on one from the wire.
const (
	// MaxRequestBytes bounds one encoded request.
	MaxRequestBytes = m2proto.MaxMessageBytes
	// MaxRequestHeaders bounds its headers.
	MaxRequestHeaders = m2proto.MaxHeaders
)

// Request is a request as a journal keeps it: Data in the journal's
// compact form (EncodeRequest), or, when Wire is set, in Mongrel2's wire
// format, as journals written before the compact form hold it.
type Request struct {
	Data []byte
	Wire bool
}

// ErrBadRequest is wrapped by Decode's errors for a compact request.
var ErrBadRequest = errors.New("journal: bad request")

// EncodeRequest returns r in the journal's compact form.
func EncodeRequest(r *m2proto.Request) Request {
	n := len(r.Sender) + len(r.ConnID) + len(r.Path) + len(r.Body) + 16
	for _, h := range r.Headers {
		n += len(h.Name) + len(h.Value) + 4
	}
	dst := make([]byte, 0, n)
	dst = appendField(dst, []byte(r.Sender))
	dst = appendField(dst, []byte(r.ConnID))
	dst = appendField(dst, []byte(r.Path))
	dst = binary.AppendUvarint(dst, uint64(len(r.Headers)))
	for _, h := range r.Headers {
		dst = appendField(dst, []byte(h.Name))
		dst = appendField(dst, []byte(h.Value))
	}
	dst = appendField(dst, r.Body)
	return Request{Data: dst}
}

// Decode returns the request. Its Body aliases r.Data.
func (r Request) Decode() (*m2proto.Request, error) {
	if r.Wire {
		return m2proto.ParseRequest(r.Data)
	}
	if len(r.Data) > MaxRequestBytes {
		return nil, fmt.Errorf("%w: %d bytes exceed %d", ErrBadRequest, len(r.Data), MaxRequestBytes)
	}
	rd := reader{b: r.Data}
	req := &m2proto.Request{
		Sender: string(rd.field()),
		ConnID: string(rd.field()),
		Path:   string(rd.field()),
	}
	n := rd.uvarint()
	if rd.err == nil && n > MaxRequestHeaders {
		return nil, fmt.Errorf("%w: %d headers exceed %d", ErrBadRequest, n, MaxRequestHeaders)
	}
	if rd.err == nil && n > 0 {
		req.Headers = make([]m2proto.Header, 0, min(n, uint64(len(rd.b)/2)))
	}
	for i := uint64(0); i < n && rd.err == nil; i++ {
		name, value := rd.field(), rd.field()
		req.Headers = append(req.Headers, m2proto.Header{Name: string(name), Value: string(value)})
	}
	req.Body = rd.field()
	switch {
	case rd.err != nil:
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, rd.err)
	case len(rd.b) != 0:
		return nil, fmt.Errorf("%w: %d bytes left over", ErrBadRequest, len(rd.b))
	}
	return req, nil
}
