package files

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestQWKLinks: packet and reply links round-trip, a packet link names
// only a token of a packet's form, a reply link carries no subject, and
// a reply's path stays in the incoming folder.
func TestQWKLinks(t *testing.T) {
	s := Signer{Key: []byte("board key")}
	now := time.Unix(1000, 0)
	token := strings.Repeat("a1", 16)
	for _, l := range []Link{
		{Kind: KindPacket, Packet: token, User: "ann", ConnID: "7", Expires: now.Add(time.Minute), Nonce: "n1"},
		{Kind: KindReply, User: "ann", ConnID: "7", Expires: now.Add(time.Minute), Nonce: "n2"},
	} {
		got, err := s.Check(s.Path(l), now)
		if err != nil || got != l {
			t.Errorf("%c link: %+v %v, want %+v", l.Kind, got, err, l)
		}
	}
	for _, bad := range []Link{
		{Kind: KindPacket, Packet: "../../etc/passwd", User: "ann", Expires: now.Add(time.Minute), Nonce: "n"},
		{Kind: KindPacket, Packet: strings.Repeat("A1", 16), User: "ann", Expires: now.Add(time.Minute), Nonce: "n"},
	} {
		if _, err := s.Check(s.Path(bad), now); !errors.Is(err, ErrBadLink) {
			t.Errorf("a packet link to %q: %v", bad.Packet, err)
		}
	}
	lib := &Library{Settings: Settings{Root: t.TempDir()}}
	if p := lib.ReplyPath("0123abcd"); filepath.Dir(p) != lib.IncomingDir() {
		t.Errorf("a reply's path %q is not in the incoming folder", p)
	}
	for _, nonce := range []string{"", "../x", "a.b", strings.Repeat("a", 33)} {
		if p := lib.ReplyPath(nonce); p != "" {
			t.Errorf("ReplyPath(%q) = %q", nonce, p)
		}
	}
}
