package luaapi

import (
	"context"
	"errors"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/ftn/pkt"
	"github.com/m2bbs/m2bbs/host/handler/ftn"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/shared/termtext"
)

// FTNHost is the board's FidoNet side as scripts see it (*ftn.Service
// implements it).
type FTNHost interface {
	// Status returns the addresses, uplinks (without passwords), binkd's
	// state and the counters.
	Status(ctx context.Context) ftn.Status
	// EchoList returns the echoes: tag and local area.
	EchoList() []ftn.Echo
	// RequestPoll asks for a poll of uplink a (all with the zero address).
	RequestPoll(a pkt.Addr) bool
}

// FTN is the ftn module: the board's FidoNet-technology side, for scripts
// such as an area-fix menu. Without a host (the settings have no ftn
// table) every call but ftn.enabled and ftn.parse_address returns nil and
// a message.
type FTN struct {
	Host FTNHost
	// Mail writes netmail (to "Name@zone:net/node"); User is the caller.
	Mail    store.Mailbox
	User    CurrentUser
	IsSysop func(L *lua.LState) bool
	// Recorder, if set, journals the module's calls.
	Recorder Recorder
}

// errNoFTN is the failure of calls on a board without FidoNet.
var errNoFTN = errors.New("FidoNet is not configured on this board")

// Loader opens the ftn module.
func (f *FTN) Loader(L *lua.LState) int {
	L.Push(hostCalls{
		"enabled":       reads(f.enabled),
		"status":        reads(f.status),
		"echoes":        reads(f.echoes),
		"netmail":       writes(f.netmail),
		"poll":          writes(f.poll),
		"parse_address": reads(f.parseAddress),
	}.table(L, f.Recorder, "ftn"))
	return 1
}

// ftn.enabled() -> whether the board is on an FTN network
func (f *FTN) enabled(L *lua.LState) int {
	L.Push(lua.LBool(f.Host != nil))
	return 1
}

// ftn.status() -> {addresses = {...}, uplinks = {{address, host, port,
// waiting}}, counters = {tossed, dupes, bad, exported}, binkd = {running,
// restarts}}
func (f *FTN) status(L *lua.LState) int {
	if f.Host == nil {
		return fail(L, errNoFTN)
	}
	st, err := callStore(L, func(ctx context.Context) (ftn.Status, error) { return f.Host.Status(ctx), nil })
	if err != nil {
		return fail(L, err)
	}
	t := L.CreateTable(0, 4)
	addrs := L.CreateTable(len(st.Addresses), 0)
	for _, a := range st.Addresses {
		addrs.Append(lua.LString(a))
	}
	t.RawSetString("addresses", addrs)
	ups := L.CreateTable(len(st.Uplinks), 0)
	for _, u := range st.Uplinks {
		ut := L.CreateTable(0, 4)
		ut.RawSetString("address", lua.LString(u.Address))
		ut.RawSetString("host", lua.LString(termtext.CleanLine(u.Host)))
		ut.RawSetString("port", lua.LNumber(u.Port))
		ut.RawSetString("waiting", lua.LNumber(u.Waiting))
		ups.Append(ut)
	}
	t.RawSetString("uplinks", ups)
	counters := L.CreateTable(0, len(st.Counters))
	for k, v := range st.Counters {
		counters.RawSetString(k, lua.LNumber(v))
	}
	t.RawSetString("counters", counters)
	if st.Binkd != nil {
		b := L.CreateTable(0, 2)
		b.RawSetString("running", lua.LBool(st.Binkd.Running))
		b.RawSetString("restarts", lua.LNumber(st.Binkd.Restarts))
		t.RawSetString("binkd", b)
	}
	L.Push(t)
	return 1
}

// ftn.echoes() -> list of {tag, area}
func (f *FTN) echoes(L *lua.LState) int {
	if f.Host == nil {
		return fail(L, errNoFTN)
	}
	list := f.Host.EchoList()
	t := L.CreateTable(len(list), 0)
	for _, e := range list {
		et := L.CreateTable(0, 2)
		et.RawSetString("tag", lua.LString(termtext.CleanLine(e.Tag)))
		et.RawSetString("area", lua.LString(termtext.CleanLine(e.Area)))
		t.Append(et)
	}
	L.Push(t)
	return 1
}

// ftn.netmail(name, address, subject, lines) -> id: netmail from the
// caller to name at an FTN address, exported at the next scan
func (f *FTN) netmail(L *lua.LState) int {
	name, addr, subject, lines := L.CheckString(1), L.CheckString(2), L.CheckString(3), checkLines(L, 4)
	if f.Host == nil {
		return fail(L, errNoFTN)
	}
	a, err := pkt.ParseAddr(addr)
	if err != nil {
		return fail(L, err)
	}
	user := f.User(L)
	if user == "" {
		return fail(L, errors.New("log in first"))
	}
	item, err := callStore(L, func(ctx context.Context) (store.MailItem, error) {
		return f.Mail.WriteMail(ctx, name+"@"+a.String(), user, subject, lines)
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LNumber(item.ID))
	return 1
}

// ftn.poll([address]) -> true: the sysop asks for a poll of one uplink,
// or of all
func (f *FTN) poll(L *lua.LState) int {
	target := L.OptString(1, "")
	if f.Host == nil {
		return fail(L, errNoFTN)
	}
	if f.IsSysop == nil || !f.IsSysop(L) {
		return fail(L, errors.New("only the sysop may poll"))
	}
	var a pkt.Addr
	if target != "" {
		var err error
		if a, err = pkt.ParseAddr(target); err != nil {
			return fail(L, err)
		}
	}
	if !f.Host.RequestPoll(a) {
		return fail(L, errors.New("polls are queued already; try again later"))
	}
	L.Push(lua.LTrue)
	return 1
}

// ftn.parse_address(text) -> {zone, net, node, point}
func (f *FTN) parseAddress(L *lua.LState) int {
	a, err := pkt.ParseAddr(L.CheckString(1))
	if err != nil {
		return fail(L, err)
	}
	t := L.CreateTable(0, 4)
	t.RawSetString("zone", lua.LNumber(a.Zone))
	t.RawSetString("net", lua.LNumber(a.Net))
	t.RawSetString("node", lua.LNumber(a.Node))
	t.RawSetString("point", lua.LNumber(a.Point))
	L.Push(t)
	return 1
}
