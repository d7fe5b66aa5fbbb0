package journal

import (
	"encoding/binary"
	"errors"
	"reflect"
	"testing"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// legacyWire is a request as a journal written before the compact form
// holds it: Mongrel2's wire format, byte for byte what m2proto encoded.
const legacyWire = `9f2c-uuid 42 @bbs 87:{"PATH":"@bbs","x-forwarded-for":"192.0.2.7","METHOD":"JSON","REMOTE_ADDR":"192.0.2.7"},29:{"type":"msg","msg":"h\"i\\"},`

func sampleRequest() *m2proto.Request {
	return &m2proto.Request{
		Sender: "9f2c-uuid", ConnID: "42", Path: "@bbs",
		Headers: []m2proto.Header{
			{Name: "PATH", Value: "@bbs"}, {Name: "x-forwarded-for", Value: "192.0.2.7"},
			{Name: "METHOD", Value: "JSON"}, {Name: "REMOTE_ADDR", Value: "192.0.2.7"},
		},
		Body: []byte(`{"type":"msg","msg":"h\"i\\"}`),
	}
}

func TestRequestRoundTrip(t *testing.T) {
	for _, req := range []*m2proto.Request{
		sampleRequest(),
		{Sender: "s", ConnID: "1", Path: "@*", Body: []byte(`{"type":"disconnect"}`)},
		{Sender: "s p a c e", ConnID: "", Path: "", Headers: []m2proto.Header{{Name: "", Value: "\x00\xff"}}},
	} {
		got, err := EncodeRequest(req).Decode()
		if err != nil {
			t.Fatalf("decode %+v: %v", req, err)
		}
		if len(got.Body) == 0 {
			got.Body = req.Body // nil and empty are the same body
		}
		if !reflect.DeepEqual(got, req) {
			t.Errorf("round trip of %+v gave %+v", req, got)
		}
	}
}

// TestLegacyWireRequestDecodes: a journal written by a version that kept
// requests in Mongrel2's wire format still replays after an upgrade.
func TestLegacyWireRequestDecodes(t *testing.T) {
	// The entry as that version wrote it: 'R', then the length-prefixed
	// message and label.
	entry := binary.AppendUvarint([]byte{'R'}, uint64(len(legacyWire)))
	entry = append(entry, legacyWire...)
	entry = append(binary.AppendUvarint(entry, 6), "[menu]"...)
	e, err := Parse(entry)
	if err != nil {
		t.Fatal(err)
	}
	if e.Kind != KindRequest || !e.Request.Wire || e.Label != "[menu]" {
		t.Fatalf("parsed %+v", e)
	}
	got, err := e.Request.Decode()
	if err != nil {
		t.Fatal(err)
	}
	if want := sampleRequest(); !reflect.DeepEqual(got, want) {
		t.Errorf("legacy request decoded to %+v, want %+v", got, want)
	}
	compact, err := Parse((&Entry{Kind: KindRequest, Request: EncodeRequest(got)}).Append(nil))
	if err != nil || compact.Request.Wire {
		t.Fatalf("compact entry: %+v, %v", compact, err)
	}
	if again, err := compact.Request.Decode(); err != nil || !reflect.DeepEqual(again, got) {
		t.Errorf("compact form of the legacy request gave %+v, %v", again, err)
	}
}

func TestCompactRequestIsSmallerThanTheWire(t *testing.T) {
	req := sampleRequest()
	compact, wire := len(EncodeRequest(req).Data), len(m2proto.AppendRequest(nil, req, m2proto.JSONHeaders))
	if compact >= wire {
		t.Errorf("compact form %d bytes, wire format %d", compact, wire)
	}
}

func TestBadCompactRequestsAreRefused(t *testing.T) {
	good := EncodeRequest(sampleRequest()).Data
	for _, bad := range [][]byte{
		{},
		good[:len(good)-1],
		append(append([]byte{}, good...), 0),
		{1, 's', 1, '1', 1, '@', 0xff, 0xff, 0x03}, // more headers than allowed
	} {
		if _, err := (Request{Data: bad}).Decode(); !errors.Is(err, ErrBadRequest) {
			t.Errorf("Decode(%q) = %v, want ErrBadRequest", bad, err)
		}
	}
	if _, err := (Request{Data: []byte("garbage"), Wire: true}).Decode(); err == nil {
		t.Error("a garbled wire-format request decoded")
	}
}

func FuzzDecodeRequest(f *testing.F) {
	f.Add(EncodeRequest(sampleRequest()).Data, false)
	f.Add([]byte(legacyWire), true)
	f.Fuzz(func(t *testing.T, b []byte, wire bool) {
		req, err := (Request{Data: b, Wire: wire}).Decode()
		if err != nil {
			return
		}
		again, err := EncodeRequest(req).Decode()
		if err != nil {
			t.Fatalf("re-encoding %+v: %v", req, err)
		}
		if len(again.Body) == 0 && len(req.Body) == 0 {
			again.Body = req.Body
		}
		if len(again.Headers) == 0 && len(req.Headers) == 0 {
			again.Headers = req.Headers
		}
		if !reflect.DeepEqual(again, req) {
			t.Fatalf("round trip of %+v gave %+v", req, again)
		}
	})
}
