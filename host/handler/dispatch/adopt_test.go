package dispatch

import (
	"testing"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// FuzzRequestConnID: the conn id an adopted line's forwarder reads from a
// request is the one ParseRequest reads, for every request ParseRequest
// accepts; anything else gives an id of 64 bytes at most, or none.
func FuzzRequestConnID(f *testing.F) {
	f.Add([]byte("m2bbs-line-1 42 @bbs.1 2:{},20:{\"type\":\"msg\",\"msg\":\"x\"},"))
	f.Add([]byte("s 1"))
	f.Add([]byte("no-space"))
	f.Add([]byte("\x00front-end-gone 1796242668286"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		id := requestConnID(msg)
		if len(id) > 64 {
			t.Fatalf("conn id of %d bytes", len(id))
		}
		if req, err := m2proto.ParseRequest(msg); err == nil && id != req.ConnID {
			t.Fatalf("requestConnID(%q) = %q, ParseRequest says %q", msg, id, req.ConnID)
		}
	})
}
