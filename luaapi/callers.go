package luaapi

import (
	"fmt"
	"math"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/termtext"
)

// OnlineCaller is one caller online, as the callers module lists them.
type OnlineCaller struct {
	ConnID string
	// User is empty until the caller has logged in.
	User string
	// Node is the caller's node number on their phone line (0: none
	// known, as for a caller of another line).
	Node int
}

// Callers is the callers module: who is online across the whole host, and
// paging another caller.
type Callers struct {
	// Who lists the callers online; safe to call from any worker.
	Who func() []OnlineCaller
	// MayPage, if set, reports whether the caller on L may page now,
	// spending one of their pages (PageBurst, PageEvery), and if not, how
	// long until they may. Without it pages are not limited.
	MayPage func(L *lua.LState) (wait time.Duration, ok bool)
	// Recorder, if set, journals the module's calls (New sets it from
	// Deps.Recorder).
	Recorder Recorder
}

// Loader opens the callers module. Its function table marks each call
// a read or a write (see Recorder).
func (c *Callers) Loader(L *lua.LState) int {
	L.Push(hostCalls{
		"online": reads(c.online),
		"page":   writes(c.page),
	}.table(L, c.Recorder, "callers"))
	return 1
}

// callers.online() -> list of {conn_id=, user=, node=} for the callers who have
// logged in, in the order they called.
func (c *Callers) online(L *lua.LState) int {
	list := L.NewTable()
	for _, oc := range c.Who() {
		if oc.User == "" {
			continue
		}
		entry := L.CreateTable(0, 3)
		entry.RawSetString("conn_id", lua.LString(oc.ConnID))
		entry.RawSetString("user", lua.LString(termtext.CleanLine(oc.User)))
		if oc.Node > 0 {
			entry.RawSetString("node", lua.LNumber(oc.Node))
		}
		list.Append(entry)
	}
	L.Push(list)
	return 1
}

// MaxPageBytes bounds one page's text.
const MaxPageBytes = 1024

// PageBurst and PageEvery bound how often one caller may page others: a
// burst of PageBurst pages, then one per PageEvery. Past it a page is
// refused with a message saying how long to wait: a caller paging in a
// loop cannot fill everyone's screens.
const (
	PageBurst = 3
	PageEvery = 10 * time.Second
)

// pageTooOften is callers.page's answer to a caller past the page limit,
// who may page again after wait.
func pageTooOften(wait time.Duration) string {
	secs := int(math.Ceil(wait.Seconds()))
	if secs <= 1 {
		return "Not paged: you page too often. Try again in a second."
	}
	return fmt.Sprintf("Not paged: you page too often. Try again in %d seconds.", secs)
}

// callers.page(conn, user, text) -> number of the user's sessions paged,
// or nil, "message" (the user is not online, or the caller pages too
// often: PageBurst, PageEvery): shows "Page from NAME: text" to every
// session of user (names are case-insensitive) at once. The paged
// caller's coroutine is not resumed: the page is a screen their client
// prints.
func (c *Callers) page(L *lua.LState) int {
	conn := checkConn(L, 1)
	to := L.CheckString(2)
	text := L.CheckString(3)
	if len(text) > MaxPageBytes {
		L.ArgError(3, "page longer than 1024 bytes")
	}
	from := ""
	var targets []string
	for _, oc := range c.Who() {
		if oc.ConnID == conn.ID {
			from = oc.User
		}
		if oc.User != "" && strings.EqualFold(oc.User, to) && oc.ConnID != conn.ID {
			targets = append(targets, oc.ConnID)
		}
	}
	if len(targets) == 0 {
		L.Push(lua.LNil)
		L.Push(lua.LString(to + " is not online"))
		return 2
	}
	if c.MayPage != nil {
		if wait, ok := c.MayPage(L); !ok {
			L.Push(lua.LNil)
			L.Push(lua.LString(pageTooOften(wait)))
			return 2
		}
	}
	if from == "" {
		from = "conn " + conn.ID
	}
	// The page is caller text, shown without colour rendering: it is
	// cleaned of anything a terminal would obey.
	page := message.Screen(termtext.CleanLine("Page from " + from + ": " + text))
	if err := conn.replier.SendMessage(conn.Sender, targets, page); err != nil {
		L.RaiseError("callers.page: %v", err)
	}
	L.Push(lua.LNumber(len(targets)))
	return 1
}
