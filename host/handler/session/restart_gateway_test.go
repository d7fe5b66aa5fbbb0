package session

import (
	"strings"
	"testing"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
)

// gatewayLine is line as the telnet gateway sends it through Mongrel2:
// from the loopback address, with the caller's address and the key.
func gatewayLine(connID, peer, key, line string) *m2proto.Request {
	req := jsonReq(connID, `{"type":"msg","msg":"`+line+`","peer":"`+peer+`","peer_key":"`+key+`"}`)
	req.Headers = append(req.Headers, m2proto.Header{Name: "REMOTE_ADDR", Value: "127.0.0.1"})
	return req
}

// TestGatewayCallerReplaysAfterARestart: a telnet caller behind Mongrel2
// whose every line carries the gateway's peer and key goes on where they
// were after the host restarts; a line without them (an older gateway,
// only "connect" carried the address) comes from 127.0.0.1, which is not
// where the call began: it starts a new call.
func TestGatewayCallerReplaysAfterARestart(t *testing.T) {
	const key = "gateway-key-for-test"
	b := newJournaledBoard(t)
	keyed := func(tbl *Table) *Table { tbl.cfg.GatewayKey = key; return tbl }
	tbl, rec := b.table(t)
	keyed(tbl)
	for _, line := range []string{"connect", "ann", "pw", "pw", "y"} {
		handle(tbl, gatewayLine("5", "203.0.113.9", key, line))
	}
	rec.take()
	crash(tbl)

	tbl2, rec2 := b.table(t)
	keyed(tbl2)
	handle(tbl2, gatewayLine("5", "203.0.113.9", key, "?"))
	if got := strings.Join(rec2.take(), "\n"); !strings.Contains(got, "MAIN MENU") || tbl2.JournalStats().Replayed != 1 {
		t.Fatalf("the gateway caller did not go on at the main menu:\n%s", got)
	}
	if s := tbl2.sessions["5"]; s == nil || s.user != "ann" || s.peer != "203.0.113.9" {
		t.Fatalf("after the replay the session is %+v, want ann from 203.0.113.9", s)
	}

	crash(tbl2)
	tbl3, rec3 := b.table(t)
	keyed(tbl3)
	handle(tbl3, msgFrom("5", "127.0.0.1", "?"))
	if got := strings.Join(rec3.take(), "\n"); strings.Contains(got, "MAIN MENU") || tbl3.JournalStats().Replayed != 0 {
		t.Fatalf("a line without the gateway's address was replayed into ann's call:\n%s", got)
	}
}
