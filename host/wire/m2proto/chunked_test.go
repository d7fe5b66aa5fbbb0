package m2proto

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"
)

// TestChunkedAnswerReadsAsHTTP: what the host streams is read by Go's
// HTTP client as one response whose body is the chunks joined.
func TestChunkedAnswerReadsAsHTTP(t *testing.T) {
	wire := AppendChunkedHead(nil, "application/x-ndjson\r\nX-Evil: 1")
	wire = AppendChunk(wire, []byte(`{"kind":"notice"}`+"\n"))
	wire = AppendChunk(wire, nil)
	wire = AppendChunk(wire, []byte("\n"))
	wire = AppendLastChunk(wire)
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(wire)), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("X-Evil") != "" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("head: %d %v", resp.StatusCode, resp.Header)
	}
	if want := `{"kind":"notice"}` + "\n\n"; string(body) != want {
		t.Errorf("body %q, want %q", body, want)
	}
}
