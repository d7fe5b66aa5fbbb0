package luaapi

import (
	"context"
	"errors"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/shared/termtext"
)

// DefaultListLimit is how many posts or mails board.list and mail.list
// return when the script gives no limit.
const DefaultListLimit = 20

// Board is the board module: message areas with threaded posts, paging
// and each user's new-message pointer, over a store.Boards. Functions
// return their value, or nil and a message for an expected failure (no
// such area or post, a subject too long); wrong argument types raise an
// error.
type Board struct {
	Store store.Boards
	// Moderator, if set, decides whether the caller running on L may
	// delete posts (board.delete); when nil anyone may.
	Moderator func(L *lua.LState) bool
	// Recorder, if set, journals the module's calls (New sets it from
	// Deps.Recorder).
	Recorder Recorder
}

// Loader opens the board module. Its function table marks each call
// a read or a write (see Recorder).
func (b *Board) Loader(L *lua.LState) int {
	L.Push(hostCalls{
		"areas":       reads(b.areas),
		"area":        reads(b.area),
		"define_area": writes(b.defineArea),
		"post":        storeWrites(b.post),
		"count":       reads(b.count),
		"list":        reads(b.list),
		"read":        reads(b.read),
		"thread":      reads(b.thread),
		"delete":      writes(b.delete),
		"new_count":   reads(b.newCount),
		"next_new":    storeWrites(b.nextNew),
		"last_read":   reads(b.lastRead),
		"mark_read":   storeWrites(b.markRead),
	}.table(L, b.Recorder, "board"))
	return 1
}

// areaTable converts an area for Lua: {name, description, posts}.
func areaTable(L *lua.LState, a store.Area) *lua.LTable {
	t := L.CreateTable(0, 3)
	t.RawSetString("name", lua.LString(termtext.CleanLine(a.Name)))
	// The sysop writes descriptions: their colour codes stay.
	t.RawSetString("description", lua.LString(termtext.CleanLine(a.Description)))
	t.RawSetString("posts", lua.LNumber(a.Posts))
	return t
}

// postTable converts a post for Lua: {id, area, author, subject, time,
// root, replies, parent (if any), depth (in a thread), lines (if read)}.
func postTable(L *lua.LState, p store.Post, depth bool) *lua.LTable {
	t := L.CreateTable(0, 10)
	t.RawSetString("id", lua.LNumber(p.ID))
	t.RawSetString("area", lua.LString(termtext.CleanLine(p.Area)))
	t.RawSetString("author", lua.LString(termtext.CleanLine(p.Author)))
	t.RawSetString("subject", lua.LString(CallerLine(p.Subject)))
	t.RawSetString("time", lua.LNumber(p.Posted.Unix()))
	t.RawSetString("root", lua.LNumber(p.RootID))
	t.RawSetString("replies", lua.LNumber(p.Replies))
	if p.ParentID != 0 {
		t.RawSetString("parent", lua.LNumber(p.ParentID))
	}
	if depth {
		t.RawSetString("depth", lua.LNumber(p.Depth))
	}
	if p.Lines != nil {
		t.RawSetString("lines", stringList(L, p.Lines))
	}
	return t
}

// listedPostTable converts a post as listed: postTable without depth.
func listedPostTable(L *lua.LState, p store.Post) *lua.LTable { return postTable(L, p, false) }

// threadPostTable converts a post of a thread: postTable with its depth.
func threadPostTable(L *lua.LState, p store.Post) *lua.LTable { return postTable(L, p, true) }

// stringList converts the lines of a post or mail to a Lua list, each
// line cleaned as caller text (CallerLine).
func stringList(L *lua.LState, lines []string) *lua.LTable {
	t := L.CreateTable(len(lines), 0)
	for _, l := range lines {
		t.Append(lua.LString(CallerLine(l)))
	}
	return t
}

// checkID reads a post or mail id.
func checkID(L *lua.LState, n int) int64 {
	id := L.CheckNumber(n)
	if id != lua.LNumber(int64(id)) {
		L.ArgError(n, "whole number expected")
	}
	return int64(id)
}

// checkPage reads the optional offset (default 0) and limit (default
// DefaultListLimit) at n and n+1.
func checkPage(L *lua.LState, n int) (offset, limit int) {
	offset, limit = L.OptInt(n, 0), L.OptInt(n+1, DefaultListLimit)
	if offset < 0 {
		L.ArgError(n, "offset must not be negative")
	}
	if limit < 1 {
		L.ArgError(n+1, "limit must be at least 1")
	}
	return offset, min(limit, store.MaxPage)
}

// board.areas() -> list of areas {name, description, posts}
func (b *Board) areas(L *lua.LState) int {
	areas, err := callStore(L, b.Store.Areas)
	if err != nil {
		return fail(L, err)
	}
	L.Push(listTable(L, areas, areaTable))
	return 1
}

// board.area(name) -> area {name, description, posts}
func (b *Board) area(L *lua.LState) int {
	name := L.CheckString(1)
	a, err := callStore(L, func(ctx context.Context) (store.Area, error) {
		return b.Store.Area(ctx, name)
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(areaTable(L, a))
	return 1
}

// board.define_area(name, description) -> area: creates it, or updates
// its description.
func (b *Board) defineArea(L *lua.LState) int {
	name, description := L.CheckString(1), L.OptString(2, "")
	a, err := callStore(L, func(ctx context.Context) (store.Area, error) {
		return b.Store.DefineArea(ctx, name, description)
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(areaTable(L, a))
	return 1
}

// board.post(area, user, subject, lines [, reply_to]) -> the new post's id.
// For a reply, area may be nil, and an empty or nil subject becomes
// "Re: " and the parent's subject.
func (b *Board) post(L *lua.LState) int {
	np := store.NewPost{
		Area:    L.OptString(1, ""),
		Author:  L.CheckString(2),
		Subject: L.OptString(3, ""),
		Lines:   checkLines(L, 4),
	}
	if L.Get(5) != lua.LNil {
		np.ReplyTo = checkID(L, 5)
	}
	p, err := callStore(L, func(ctx context.Context) (store.Post, error) {
		return b.Store.Post(ctx, np)
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LNumber(p.ID))
	return 1
}

// board.count(area) -> number of posts in the area
func (b *Board) count(L *lua.LState) int {
	area := L.CheckString(1)
	n, err := callStore(L, func(ctx context.Context) (int, error) {
		return b.Store.PostCount(ctx, area)
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LNumber(n))
	return 1
}

// board.list(area [, offset [, limit [, order]]]) -> posts without their
// lines; order is 'newest' (the default) or 'oldest' first.
func (b *Board) list(L *lua.LState) int {
	area := L.CheckString(1)
	offset, limit := checkPage(L, 2)
	order := store.NewestFirst
	if checkEither(L, 4, "newest", "oldest") {
		order = store.OldestFirst
	}
	posts, err := callStore(L, func(ctx context.Context) ([]store.Post, error) {
		return b.Store.Posts(ctx, area, offset, limit, order)
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(listTable(L, posts, listedPostTable))
	return 1
}

// errNoSuchPost replaces the store's not-found error for scripts.
var errNoSuchPost = errors.New("no such post")

// board.read(id) -> post with its lines
func (b *Board) read(L *lua.LState) int {
	id := checkID(L, 1)
	p, err := callStore(L, func(ctx context.Context) (store.Post, error) {
		return b.Store.ReadPost(ctx, id)
	})
	if err != nil {
		return failAs(L, err, errNoSuchPost)
	}
	L.Push(postTable(L, p, false))
	return 1
}

// board.thread(id) -> the posts of id's thread in reading order, without
// lines, each with its depth (0 for the thread's first post)
func (b *Board) thread(L *lua.LState) int {
	id := checkID(L, 1)
	posts, err := callStore(L, func(ctx context.Context) ([]store.Post, error) {
		return b.Store.Thread(ctx, id)
	})
	if err != nil {
		return failAs(L, err, errNoSuchPost)
	}
	L.Push(listTable(L, posts, threadPostTable))
	return 1
}

// errNotModerator is returned by board.delete when Moderator says no.
var errNotModerator = errors.New("only the sysop may delete posts")

// board.delete(id) -> true
func (b *Board) delete(L *lua.LState) int {
	id := checkID(L, 1)
	if b.Moderator != nil && !b.Moderator(L) {
		return fail(L, errNotModerator)
	}
	err := storeCall(L, func(ctx context.Context) error {
		return b.Store.DeletePost(ctx, id)
	})
	if err != nil {
		return failAs(L, err, errNoSuchPost)
	}
	L.Push(lua.LTrue)
	return 1
}

// board.new_count(user, area) -> number of posts user has not read there
func (b *Board) newCount(L *lua.LState) int {
	user, area := L.CheckString(1), L.CheckString(2)
	n, err := callStore(L, func(ctx context.Context) (int, error) {
		return b.Store.NewCount(ctx, user, area)
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LNumber(n))
	return 1
}

// errNoNewPosts replaces the store's not-found error for board.next_new.
var errNoNewPosts = errors.New("no new posts")

// board.next_new(user, area) -> the oldest post user has not read there,
// with its lines, moving user's pointer past it; nil, 'no new posts' when
// there is none.
func (b *Board) nextNew(L *lua.LState) int {
	user, area := L.CheckString(1), L.CheckString(2)
	p, err := callStore(L, func(ctx context.Context) (store.Post, error) {
		return b.Store.NextNew(ctx, user, area)
	})
	if err != nil {
		return failAs(L, err, errNoNewPosts)
	}
	L.Push(postTable(L, p, false))
	return 1
}

// board.last_read(user, area) -> the id of the newest post user has read
// there (0 if none): posts with a larger id are new to them.
func (b *Board) lastRead(L *lua.LState) int {
	user, area := L.CheckString(1), L.CheckString(2)
	id, err := callStore(L, func(ctx context.Context) (int64, error) {
		return b.Store.LastRead(ctx, user, area)
	})
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LNumber(id))
	return 1
}

// board.mark_read(user, area [, id]) -> true: posts up to id (all, without
// id) are no longer new to user. The pointer never moves back.
func (b *Board) markRead(L *lua.LState) int {
	user, area := L.CheckString(1), L.CheckString(2)
	var upTo int64
	if L.Get(3) != lua.LNil {
		if upTo = checkID(L, 3); upTo < 1 {
			L.ArgError(3, "post id expected")
		}
	}
	err := storeCall(L, func(ctx context.Context) error {
		return b.Store.MarkRead(ctx, user, area, upTo)
	})
	if err != nil {
		return failAs(L, err, errNoSuchPost)
	}
	L.Push(lua.LTrue)
	return 1
}
