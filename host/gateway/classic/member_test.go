package classic

import (
	"bufio"
	"net"
	"testing"

	"github.com/m2bbs/m2bbs/host/shared/termprofile"
)

func TestAppendMember(t *testing.T) {
	got := string(AppendMember(AppendRequest(nil, "@bbs", "zed"), "terminal", []byte(`{"width":80}`)))
	if want := `@bbs {"type":"msg","msg":"zed","terminal":{"width":80}}` + "\x00"; got != want {
		t.Errorf("AppendMember = %q, want %q", got, want)
	}
	if got := string(AppendMember([]byte("nonsense"), "k", []byte("1"))); got != "nonsense" {
		t.Errorf("AppendMember on a non-request = %q", got)
	}
}

// TestClientSendsItsTerminal: a Client with a Terminal says it with
// "connect" and every line, as it is at the time.
func TestClientSendsItsTerminal(t *testing.T) {
	mine, theirs := net.Pipe()
	defer theirs.Close()
	c, err := NewClient(mine, "@bbs", false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	height := 24
	c.Terminal = func() termprofile.Profile {
		return termprofile.Profile{Width: 80, Height: height}.WithType("xterm-256color")
	}
	got := make(chan string, 2)
	go func() {
		r := bufio.NewReader(theirs)
		for range 2 {
			s, _ := r.ReadString(0)
			got <- s
		}
	}()
	if err := c.Connect(); err != nil {
		t.Fatal(err)
	}
	height = 50
	if err := c.Send("hi"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`@bbs {"type":"msg","msg":"connect","terminal":{"type":"xterm-256color","width":80,"height":24,"encoding":"utf-8","ansi":true}}` + "\x00",
		`@bbs {"type":"msg","msg":"hi","terminal":{"type":"xterm-256color","width":80,"height":50,"encoding":"utf-8","ansi":true}}` + "\x00",
	} {
		if g := <-got; g != want {
			t.Errorf("sent %q, want %q", g, want)
		}
	}
}
