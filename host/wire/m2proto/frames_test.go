package m2proto

import (
	"bytes"
	"encoding/base64"
	"testing"
)

func TestAppendClientFrame(t *testing.T) {
	msg := []byte(`{"type": "prompt", "msg": "hello 1", "pchar": "> "}`)
	got := AppendClientFrame([]byte("x"), msg, false)
	want := "x" + base64.StdEncoding.EncodeToString(msg) + "\x00"
	if string(got) != want {
		t.Errorf("base64 frame = %q, want %q", got, want)
	}
	// The bytes a caller received in the capture (shared/PROTOCOL.md).
	if !bytes.HasPrefix(got[1:], []byte("eyJ0eXBlIjogInByb21wdCIs")) || !bytes.HasSuffix(got, []byte("ICJ9\x00")) {
		t.Errorf("base64 frame %q does not match the captured eyJ0eXBlIjogInByb21wdCIs…ICJ9\\x00", got)
	}
	if raw := AppendClientFrame(nil, msg, true); string(raw) != string(msg)+"\x00" {
		t.Errorf("raw frame = %q", raw)
	}
	if empty := AppendClientFrame(nil, nil, false); string(empty) != "\x00" {
		t.Errorf("empty frame = %q", empty)
	}
}

func TestAppendHTTPResponse(t *testing.T) {
	tests := []struct {
		status      int
		contentType string
		body        string
		want        string
	}{
		{200, "text/plain", "hello", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"},
		{404, "text/html; charset=utf-8", "", "HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 0\r\n\r\n"},
		{204, "", "", "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"},
		{299, "a\r\nX-Evil: 1", "x", "HTTP/1.1 299 \r\nContent-Type: aX-Evil: 1\r\nContent-Length: 1\r\n\r\nx"},
	}
	for _, tt := range tests {
		got := AppendHTTPResponse(nil, tt.status, tt.contentType, []byte(tt.body))
		if string(got) != tt.want {
			t.Errorf("AppendHTTPResponse(%d, %q, %q) =\n%q\nwant\n%q", tt.status, tt.contentType, tt.body, got, tt.want)
		}
	}
}
