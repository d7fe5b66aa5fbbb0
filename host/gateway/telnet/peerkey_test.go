package telnet

import (
	"net"
	"slices"
	"testing"
)

// TestGatewayPeerOnEveryLine: with Config.PeerKey, every request the
// gateway sends, not only "connect", carries the caller's address and the
// key, so that a host that restarted mid-call sees each line come from
// the address the call began from.
func TestGatewayPeerOnEveryLine(t *testing.T) {
	const key = "gateway-key-for-test"
	bbs := newFakeBBS(false, welcome, askPassword, menu)
	_, addr := startGateway(t, bbs, Config{PeerKey: key})
	c := dialGateway(t, addr)
	c.readUntil("> ")
	c.write("zed\n", false)
	c.readUntil(": ")
	c.write("pw\r\n", false)
	c.readUntil("> ")
	c.conn.Close()
	bbs.waitGone(t)

	peer, _, err := net.SplitHostPort(c.conn.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	with := `,"peer":"` + peer + `","peer_key":"` + key + `","ansi":true}` + "\x00"
	want := []string{
		`@bbs {"type":"msg","msg":"connect"` + with,
		`@bbs {"type":"msg","msg":"zed"` + with,
		`@bbs {"type":"msg","msg":"pw"` + with,
	}
	if got := bbs.receivedRequests(); !slices.Equal(got, want) {
		t.Errorf("BBS received %q, want %q", got, want)
	}
}
