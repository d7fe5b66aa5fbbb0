package luaapi

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/qwkmail"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/shared/termtext"
)

// QWK is the qwk module: QWK offline mail (host/handler/qwkmail). A
// script chooses the areas a caller takes, builds their packet, hands
// its file to a transfer, tells the module when the transfer succeeded
// (only then do the caller's last-read pointers move), and posts the REP
// they upload, with a report. Access rules stay with the script: it
// passes the areas the caller may read (build) and post in (post).
type QWK struct {
	Service *qwkmail.Service
	// Dir is where packet files are written for transfers
	// (os.TempDir()/m2bbs-qwk-UID, UID the host's, when empty); it must
	// be the host's own folder that only it writes to.
	Dir string
	// Recorder, if set, journals the module's calls.
	Recorder Recorder
	// Links, if set with its library, is the files module whose signed
	// HTTP links deliver packets (qwk_links.go).
	Links *Files
	// Offload, if set, runs qwk.build (reading the posts, zipping,
	// keeping the packet), qwk.file (writing it out) and qwk.post
	// (reading, parsing and posting the REP) away from the state's
	// goroutine while the caller's coroutine waits, so that the other
	// callers the state serves are not kept waiting.
	Offload Offloader
	// BuildInterval, if set, is how long a user's packet stands for a
	// new one (New sets DefaultBuildInterval): qwk.build within it
	// answers the same packet again, unless it was fetched, without
	// building (building takes a background worker the logins' password
	// hashes also use). A retry after a failed transfer sends the same
	// packet.
	BuildInterval time.Duration

	// recent is each user's last packet built on this state.
	recent map[string]recentPacket
}

// recentPacket is a packet built, and when.
type recentPacket struct {
	at    time.Time
	built qwkmail.Built
}

// DefaultBuildInterval is the shipped BuildInterval.
const DefaultBuildInterval = 10 * time.Second

// maxRecentKept bounds QWK.recent; entries past the interval go first.
const maxRecentKept = 1000

// recentFor returns user's packet built within BuildInterval of now.
func (q *QWK) recentFor(user string, now time.Time) (qwkmail.Built, bool) {
	r, ok := q.recent[strings.ToLower(user)]
	if !ok || q.BuildInterval <= 0 || now.Sub(r.at) >= q.BuildInterval {
		return qwkmail.Built{}, false
	}
	return r.built, true
}

// noteBuilt records the packet built for user at now.
func (q *QWK) noteBuilt(user string, built qwkmail.Built, now time.Time) {
	if q.BuildInterval <= 0 {
		return
	}
	if q.recent == nil {
		q.recent = map[string]recentPacket{}
	}
	if len(q.recent) >= maxRecentKept {
		for u, r := range q.recent {
			if now.Sub(r.at) >= q.BuildInterval {
				delete(q.recent, u)
			}
		}
	}
	if len(q.recent) < maxRecentKept {
		q.recent[strings.ToLower(user)] = recentPacket{at: now, built: built}
	}
}

// Loader opens the qwk module.
func (q *QWK) Loader(L *lua.LState) int {
	L.Push(hostCalls{
		"areas":   reads(q.areas),
		"select":  writes(q.selectArea),
		"build":   writes(q.build),
		"file":    reads(q.file),
		"fetched": writes(q.fetched),
		"discard": reads(q.discard),
		"post":    writes(q.post),

		"download_link": reads(q.downloadLink),
		"arrived":       reads(q.arrived),
		"upload_link":   reads(q.uploadLink),
		"uploaded":      reads(q.uploaded),
	}.table(L, q.Recorder, "qwk"))
	return 1
}

// dir is where packet files go.
func (q *QWK) dir() string {
	if q.Dir != "" {
		return q.Dir
	}
	return filepath.Join(os.TempDir(), "m2bbs-qwk-"+strconv.Itoa(os.Geteuid()))
}

// checkNames reads a list of area names.
func checkNames(L *lua.LState, n int) []string {
	t := L.CheckTable(n)
	out := make([]string, 0, t.Len())
	for i := 1; i <= t.Len(); i++ {
		s, ok := t.RawGetInt(i).(lua.LString)
		if !ok {
			L.ArgError(n, "list of area names expected")
		}
		out = append(out, string(s))
	}
	return out
}

// checkBoard reads the optional board table at n: {bbsid, name,
// location, phone, sysop}; what it leaves out comes from
// qwkmail.DefaultBoard.
func checkBoard(L *lua.LState, n int) qwkmail.Board {
	var b qwkmail.Board
	if L.Get(n) == lua.LNil {
		return b
	}
	t := L.CheckTable(n)
	for key, dst := range map[string]*string{
		"bbsid": &b.BBSID, "name": &b.Name, "location": &b.Location, "phone": &b.Phone, "sysop": &b.Sysop,
	} {
		switch v := t.RawGetString(key).(type) {
		case lua.LString:
			*dst = string(v)
		case *lua.LNilType:
		default:
			L.ArgError(n, key+" must be a string")
		}
	}
	return b
}

// qwkArea is an area as qwk.areas lists it.
type qwkArea struct {
	store.Conference
	selected bool
}

// qwk.areas(user, readable) -> list of {name, conference, selected}: the
// areas of readable (names) with their conference numbers, selected
// marking those user's packets take (all of them until user chooses).
func (q *QWK) areas(L *lua.LState) int {
	user, readable := L.CheckString(1), checkNames(L, 2)
	rows, err := callStore(L, func(ctx context.Context) ([]qwkArea, error) {
		confs, err := q.Service.Store.Conferences(ctx)
		if err != nil {
			return nil, err
		}
		taken, err := q.Service.Selected(ctx, user, readable)
		if err != nil {
			return nil, err
		}
		out := []qwkArea{}
		for _, c := range confs {
			if slices.ContainsFunc(readable, func(s string) bool { return strings.EqualFold(s, c.Name) }) {
				out = append(out, qwkArea{c, slices.ContainsFunc(taken, func(s string) bool { return strings.EqualFold(s, c.Name) })})
			}
		}
		return out, nil
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(listTable(L, rows, func(L *lua.LState, r qwkArea) *lua.LTable {
		t := L.CreateTable(0, 3)
		t.RawSetString("name", lua.LString(termtext.CleanLine(r.Name)))
		t.RawSetString("conference", lua.LNumber(r.Number))
		t.RawSetString("selected", lua.LBool(r.selected))
		return t
	}))
	return 1
}

// qwk.select(user, area, on) -> true: area goes into user's packets (on)
// or out of them. Once user has chosen one area, only chosen areas go.
func (q *QWK) selectArea(L *lua.LState) int {
	user, area, on := L.CheckString(1), L.CheckString(2), L.ToBool(3)
	err := storeCall(L, func(ctx context.Context) error {
		return q.Service.Store.SelectQWK(ctx, user, area, on)
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

// qwk.build(user, readable [, board]) -> {token, file, bytes, messages,
// mail, areas = {{area, posts}}}, or nil and 'no new messages in your
// areas': the packet of user's unread mail and the posts new to them in
// the areas of readable they take, kept until qwk.fetched(user, token).
// Nothing moves, and no mail is marked read, before.
func (q *QWK) build(L *lua.LState) int {
	user, readable, board := L.CheckString(1), checkNames(L, 2), checkBoard(L, 3)
	if built, ok := q.recentFor(user, time.Now()); ok {
		L.Push(builtTable(L, built))
		return 1
	}
	var (
		built qwkmail.Built
		err   error
	)
	// Reading the posts, zipping and keeping the packet (a write of up
	// to MaxQWKPacketBytes) all run away from the state's goroutine when
	// they can; the journal records the call when done runs.
	work := func() { built, err = q.Service.Build(context.Background(), board, user, readable) }
	return answerAfter(L, q.Offload, work, func(L *lua.LState) []lua.LValue {
		if err != nil {
			return failValues(asStoreFault(L, context.Background(), err))
		}
		q.noteBuilt(user, built, time.Now())
		return []lua.LValue{builtTable(L, built)}
	})
}

// builtTable converts a packet built for Lua.
func builtTable(L *lua.LState, built qwkmail.Built) *lua.LTable {
	t := L.CreateTable(0, 5)
	t.RawSetString("token", lua.LString(built.Token))
	t.RawSetString("file", lua.LString(built.FileName))
	t.RawSetString("bytes", lua.LNumber(built.Bytes))
	t.RawSetString("messages", lua.LNumber(built.Messages))
	t.RawSetString("mail", lua.LNumber(built.Mail))
	t.RawSetString("areas", listTable(L, built.Areas, func(L *lua.LState, a qwkmail.AreaCount) *lua.LTable {
		at := L.CreateTable(0, 2)
		at.RawSetString("area", lua.LString(termtext.CleanLine(a.Area)))
		at.RawSetString("posts", lua.LNumber(a.Posts))
		return at
	}))
	return t
}

// errNoPacket replaces the store's not-found error for packets.
var errNoPacket = errors.New("no such packet (it may have expired: build a new one)")

// qwk.file(user, token [, board]) -> the path of the packet's file
// (BBSID.QWK in a folder of its own, readable by the host only), for a
// transfer to send.
func (q *QWK) file(L *lua.LState) int {
	user, token, board := L.CheckString(1), L.CheckString(2), checkBoard(L, 3)
	var (
		path string
		err  error
	)
	// Reading the packet back and writing its file run away from the
	// state's goroutine when they can.
	work := func() { path, err = q.Service.PacketFile(context.Background(), q.dir(), board, user, token) }
	return answerAfter(L, q.Offload, work, func(L *lua.LState) []lua.LValue {
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				err = errNoPacket
			}
			return failValues(asStoreFault(L, context.Background(), err))
		}
		return []lua.LValue{lua.LString(path)}
	})
}

// qwk.fetched(user, token) -> true, first: the transfer of packet token
// succeeded, so user's last-read pointers move past what it held (once:
// first is false when they had moved already) and its file is removed.
func (q *QWK) fetched(L *lua.LState) int {
	user, token := L.CheckString(1), L.CheckString(2)
	first, err := callStore(L, func(ctx context.Context) (bool, error) {
		first, err := q.Service.Fetched(ctx, user, token)
		if err == nil {
			delete(q.recent, strings.ToLower(user)) // the next build is a new packet
			// The file is a copy of what the store keeps.
			_ = qwkmail.RemovePacketFile(q.dir(), token)
		}
		return first, err
	})
	if err != nil {
		return failAs(L, err, errNoPacket)
	}
	L.Push(lua.LTrue)
	L.Push(lua.LBool(first))
	return 2
}

// qwk.discard(token) -> true: the packet's file is removed (a transfer
// that failed); the packet stays kept, and qwk.file writes it again.
// Given the handle of qwk.upload_link, the reply packet received for it
// is removed.
func (q *QWK) discard(L *lua.LState) int {
	arg := L.CheckString(1)
	if err := errors.Join(qwkmail.RemovePacketFile(q.dir(), arg), q.discardReply(arg)); err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

// qwk.post(user, path, writable [, board [, opts]]) -> report: posts the
// REP file at path as user, in the areas of writable only; opts.max_lines
// refuses longer messages (the board's own bound on posts). report = {posted,
// refused (the count), error (why the whole packet was refused, or nil:
// then nothing was posted), lines (the report for the caller), messages
// = {{area, to, subject, post, mail, reason}}}. nil and a message if the
// file cannot be read.
func (q *QWK) post(L *lua.LState) int {
	user, path, writable, board := L.CheckString(1), L.CheckString(2), checkNames(L, 3), checkBoard(L, 4)
	maxLines := 0
	if opts, ok := L.Get(5).(*lua.LTable); ok {
		if n, ok := opts.RawGetString("max_lines").(lua.LNumber); ok && n > 0 {
			maxLines = int(n)
		}
	} else if L.Get(5) != lua.LNil {
		L.ArgError(5, "options must be a table")
	}
	var (
		report qwkmail.Report
		err    error
	)
	// All of it runs away from the state's goroutine when it can: the
	// REP is read and parsed, and posted in one transaction (a write:
	// the journal records the call when done runs, as for any write).
	work := func() {
		data, refused, rerr := q.Service.ReadREP(path)
		switch {
		case rerr != nil:
			err = rerr
		case refused != "":
			report, err = q.Service.Apply(context.Background(), user, qwkmail.Refuse(refused), writable, maxLines)
		default:
			report, err = q.Service.Apply(context.Background(), user, q.Service.Parse(board, data), writable, maxLines)
		}
	}
	return answerAfter(L, q.Offload, work, func(L *lua.LState) []lua.LValue {
		if err != nil {
			return failValues(asStoreFault(L, context.Background(), err))
		}
		return []lua.LValue{reportTable(L, report)}
	})
}

// reportTable converts a REP's report for Lua.
func reportTable(L *lua.LState, r qwkmail.Report) *lua.LTable {
	t := L.CreateTable(0, 5)
	t.RawSetString("posted", lua.LNumber(r.Posted()))
	t.RawSetString("refused", lua.LNumber(len(r.Messages)-r.Posted()))
	if r.Refused != "" {
		t.RawSetString("error", lua.LString(CallerLine(r.Refused)))
	}
	lines := L.CreateTable(0, 0)
	for _, l := range r.Lines() {
		lines.Append(lua.LString(CallerLine(l)))
	}
	t.RawSetString("lines", lines)
	t.RawSetString("messages", listTable(L, r.Messages, func(L *lua.LState, m qwkmail.Outcome) *lua.LTable {
		mt := L.CreateTable(0, 6)
		mt.RawSetString("area", lua.LString(termtext.CleanLine(m.Area)))
		mt.RawSetString("to", lua.LString(CallerLine(m.To)))
		mt.RawSetString("subject", lua.LString(CallerLine(m.Subject)))
		if m.PostID != 0 {
			mt.RawSetString("post", lua.LNumber(m.PostID))
		}
		if m.MailID != 0 {
			mt.RawSetString("mail", lua.LNumber(m.MailID))
		}
		if m.Reason != "" {
			mt.RawSetString("reason", lua.LString(CallerLine(m.Reason)))
		}
		return mt
	}))
	return t
}
