package classic

import "testing"

func TestAppendMember(t *testing.T) {
	got := string(AppendMember(AppendRequest(nil, "@bbs", "zed"), "terminal", []byte(`{"width":80}`)))
	if want := `@bbs {"type":"msg","msg":"zed","terminal":{"width":80}}` + "\x00"; got != want {
		t.Errorf("AppendMember = %q, want %q", got, want)
	}
	if got := string(AppendMember([]byte("nonsense"), "k", []byte("1"))); got != "nonsense" {
		t.Errorf("AppendMember on a non-request = %q", got)
	}
}
