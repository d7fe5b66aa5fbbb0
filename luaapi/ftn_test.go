package luaapi

import (
	"context"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/ftn/pkt"
	"github.com/m2bbs/m2bbs/host/handler/ftn"
)

// fakeFTN is an FTNHost that records polls.
type fakeFTN struct{ polls []pkt.Addr }

func (f *fakeFTN) Status(context.Context) ftn.Status {
	return ftn.Status{
		Addresses: []string{"21:1/100"},
		Uplinks:   []ftn.UplinkStatus{{Address: "21:1/101", Host: "hub.example", Port: 24554, Waiting: 2}},
		Counters:  map[string]int64{"tossed": 5},
		Binkd:     &ftn.BinkdState{Running: true},
	}
}
func (f *fakeFTN) EchoList() []ftn.Echo        { return []ftn.Echo{{Tag: "M2.TEST", Area: "fido"}} }
func (f *fakeFTN) RequestPoll(a pkt.Addr) bool { f.polls = append(f.polls, a); return true }

// TestFTNModule: status, echoes, netmail from the caller (kept for the
// scanner), the sysop's poll, addresses parsed; without FidoNet every
// call but enabled and parse_address fails with a message.
func TestFTNModule(t *testing.T) {
	L, db := newBoardState(t)
	host := &fakeFTN{}
	user, sysop := "ann", false
	mod := &FTN{Host: host, Mail: db, User: func(*lua.LState) string { return user }, IsSysop: func(*lua.LState) bool { return sysop }}
	L.PreloadModule("ftn", mod.Loader)
	runLuaOK(t, L, `
		local ftn = require 'ftn'
		assert(ftn.enabled() == true)
		local st = assert(ftn.status())
		assert(st.addresses[1] == '21:1/100' and st.uplinks[1].waiting == 2 and st.counters.tossed == 5 and st.binkd.running)
		local e = assert(ftn.echoes())
		assert(#e == 1 and e[1].tag == 'M2.TEST' and e[1].area == 'fido')
		assert(type(assert(ftn.netmail('Joe Sysop', '21:1/101', 'Hi', {'hello'}))) == 'number')
		local none, why = ftn.netmail('Joe', 'nowhere', 'Hi', {'x'})
		assert(none == nil and why:find('not an FTN address'), why)
		none, why = ftn.poll()
		assert(none == nil and why == 'only the sysop may poll', why)
		local a = assert(ftn.parse_address('2:5020/1.7'))
		assert(a.zone == 2 and a.net == 5020 and a.node == 1 and a.point == 7)
	`)
	list, err := db.UnexportedNetmail(context.Background(), 10)
	if err != nil || len(list) != 1 || list[0].ToName != "Joe Sysop" || list[0].From != "ann" {
		t.Errorf("netmail kept = %+v, %v", list, err)
	}
	sysop = true
	runLuaOK(t, L, `assert(require('ftn').poll('21:1/101') == true)`)
	if len(host.polls) != 1 || host.polls[0] != (pkt.Addr{Zone: 21, Net: 1, Node: 101}) {
		t.Errorf("polls %v", host.polls)
	}

	L2, db2 := newBoardState(t)
	L2.PreloadModule("ftn", (&FTN{}).Loader)
	L2.PreloadModule("mail", (&Mail{Store: db2}).Loader)
	runLuaOK(t, L2, `
		local none, why = require('mail').send('Joe@1:2/3', 'ann', 'hi', {'x'})
		assert(none == nil and why == 'FidoNet is not configured on this board', why)
		local ftn = require 'ftn'
		assert(ftn.enabled() == false)
		local none, why = ftn.status()
		assert(none == nil and why == 'FidoNet is not configured on this board', why)
		assert(ftn.parse_address('1:2/3').node == 3)
	`)
}
