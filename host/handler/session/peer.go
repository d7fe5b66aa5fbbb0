package session

import (
	"crypto/subtle"
	"net"
	"slices"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/wire/m2proto"
	"github.com/m2bbs/m2bbs/luaapi"
)

// takeGatewayPeer handles the caller's address a gateway of this board
// reports. The telnet gateway behind Mongrel2 connects from the loopback
// address, so every telnet caller would otherwise share one address (and
// one login throttle). A gateway proves itself with Config.GatewayKey, a
// secret the process that runs both generates at start: a request from a
// loopback REMOTE_ADDR whose data carries that key in "peer_key" gets the
// address in "peer" as its REMOTE_ADDR. Anything else is ignored, so a
// remote caller cannot pick their own address. Both fields are removed
// from the request (its data table, body and the journal's copy) so that
// the key is never stored, logged or shown to a script.
func (t *Table) takeGatewayPeer(req *m2proto.Request, msg *lua.LTable) {
	key, hasKey := msg.RawGetString("peer_key").(lua.LString)
	peer, _ := msg.RawGetString("peer").(lua.LString)
	if !hasKey && peer == "" {
		return
	}
	msg.RawSetString("peer_key", lua.LNil)
	msg.RawSetString("peer", lua.LNil)
	if body, err := luaapi.AppendJSON(nil, msg); err == nil {
		req.Body = body
	}
	ip := net.ParseIP(req.Header("REMOTE_ADDR"))
	addr := net.ParseIP(string(peer))
	if t.cfg.GatewayKey == "" || ip == nil || !ip.IsLoopback() || addr == nil ||
		subtle.ConstantTimeCompare([]byte(key), []byte(t.cfg.GatewayKey)) != 1 {
		return
	}
	req.Headers = slices.Clone(req.Headers)
	for i := range req.Headers {
		if req.Headers[i].Name == "REMOTE_ADDR" {
			req.Headers[i].Value = addr.String()
		}
	}
}
