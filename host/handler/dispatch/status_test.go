package dispatch

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

func TestStatusPageAndSysopActions(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{})
	b.ft.in <- []byte("garbage")
	b.ft.in <- request("WEBSOCKET", "5", "/ws", "frame")
	b.say("1", "connect")
	b.ft.waitFor(t, "1", kind("prompt"))

	// The sysop's tool on the machine itself sends the sysop header.
	httpGet(b, "9", "/status", sysopTool...)
	st := decodeStatus(t, b.ft.waitFor(t, "9", kind("http")).text)
	if st.BadFrames != 1 || st.Unsupported != 1 || st.Sessions.Active != 1 || len(st.Online) != 1 || st.Online[0].Showing != "v1 connect" {
		t.Errorf("status = %+v", st)
	}
	// From elsewhere, no one is listed and actions are refused.
	elsewhere := m2proto.Header{Name: "REMOTE_ADDR", Value: "203.0.113.9"}
	httpGet(b, "10", "/status", elsewhere)
	if st := decodeStatus(t, b.ft.waitFor(t, "10", kind("http")).text); len(st.Online) != 0 || st.Sessions.Active != 1 {
		t.Errorf("status from elsewhere = %+v", st)
	}
	b.ft.in <- request("POST", "14", "/status/broadcast", "hi", elsewhere)
	if r := b.ft.waitFor(t, "14", kind("http")); !strings.HasPrefix(r.text, "HTTP/1.1 403") {
		t.Errorf("broadcast from elsewhere answered %q", r.text)
	}

	b.ft.in <- request("POST", "11", "/status/broadcast", "Closing soon.", sysopTool...)
	b.ft.waitFor(t, "11", kind("http"))
	b.ft.waitFor(t, "1", func(r reply) bool { return r.kind == "screen" && r.text == "Closing soon." })

	b.ft.in <- request("POST", "12", "/status/kick", "", withHeaders(sysopTool, m2proto.Header{Name: "QUERY", Value: "conn_id=1"})...)
	if r := b.ft.waitFor(t, "12", kind("http")); !strings.HasPrefix(r.text, "HTTP/1.1 200") {
		t.Errorf("kick answered %q", r.text)
	}
	b.ft.waitFor(t, "1", kind("hangup"))

	httpGet(b, "13", "/elsewhere")
	if r := b.ft.waitFor(t, "13", kind("http")); !strings.HasPrefix(r.text, "HTTP/1.1 404") {
		t.Errorf("unknown page answered %q", r.text)
	}
}

func TestSysopToken(t *testing.T) {
	b := startBoard(t, versioned("v1"), Config{SysopToken: "s3cret"})
	b.say("1", "connect")
	b.ft.waitFor(t, "1", kind("prompt"))
	b.ft.in <- request("POST", "2", "/status/kick", "", m2proto.Header{Name: "QUERY", Value: "conn_id=1"})
	if r := b.ft.waitFor(t, "2", kind("http")); !strings.HasPrefix(r.text, "HTTP/1.1 403") {
		t.Errorf("kick without the token answered %q", r.text)
	}
	httpGet(b, "3", "/status")
	if st := decodeStatus(t, b.ft.waitFor(t, "3", kind("http")).text); len(st.Online) != 0 {
		t.Errorf("callers shown without the token: %+v", st.Online)
	}
	httpGet(b, "4", "/status", m2proto.Header{Name: "authorization", Value: "Bearer s3cret"})
	if st := decodeStatus(t, b.ft.waitFor(t, "4", kind("http")).text); len(st.Online) != 1 {
		t.Errorf("callers not shown with the token: %+v", st.Online)
	}
}

func decodeStatus(t *testing.T, resp string) Status {
	t.Helper()
	head, body, _ := strings.Cut(resp, "\r\n\r\n")
	if !strings.HasPrefix(head, "HTTP/1.1 200 OK") || !strings.Contains(head, "application/json") {
		t.Fatalf("status response %q", resp)
	}
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	return st
}
