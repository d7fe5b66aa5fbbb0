package luaapi

import (
	"context"
	"errors"
	"os"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/files"
	"github.com/m2bbs/m2bbs/host/handler/qwkmail"
)

// The qwk module's HTTP delivery, on the files module's signed links
// (host/handler/files, links.go; served by the host, files_http.go):
//
//	qwk.download_link(conn, token [, board]) -> link, seconds | nil, "why"
//	qwk.arrived(user, token)                 -> true | false
//	qwk.upload_link(conn)                    -> link, seconds, handle | nil, "why"
//	qwk.uploaded(handle)                     -> path | nil, "why"
//
// A packet's link counts it as fetched (the caller's pointers move) once
// the host sent it whole; the script learns it from qwk.arrived. A reply
// packet uploaded for handle's link is kept by the host, for qwk.post,
// until qwk.discard(handle) or an hour. The links need the board's files
// settings (their url and lifetime); without them these calls fail.

// errNoLinks is what scripts are told on a board without file links.
var errNoLinks = errors.New("this board gives no HTTP links (it has no files settings)")

// errNotUploaded is qwk.uploaded's answer before a reply packet arrived.
var errNotUploaded = errors.New("no reply packet has arrived for that link yet")

// linksLibrary is the file areas whose key signs the links, or an error.
func (q *QWK) linksLibrary() (*files.Library, error) {
	if q.Links == nil || q.Links.Library == nil {
		return nil, errNoLinks
	}
	return q.Links.Library, nil
}

// downloadLink is a signed link to download the logged-in caller's
// packet token over HTTP, saved as BBSID.QWK.
func (q *QWK) downloadLink(L *lua.LState) int {
	conn, token, board := checkConn(L, 1), L.CheckString(2), checkBoard(L, 3)
	if _, err := q.linksLibrary(); err != nil {
		return fail(L, err)
	}
	user, err := q.Links.user(L)
	if err != nil {
		return fail(L, err)
	}
	if !qwkmail.ValidToken(token) {
		return fail(L, errNoPacket)
	}
	n := q.Links.link(L, files.Link{Kind: files.KindPacket, Packet: token, User: user, ConnID: conn.ID})
	if link, ok := L.Get(-2).(lua.LString); ok && n == 2 {
		L.Replace(-2, lua.LString(string(link)+"?name="+qwkmail.PacketName(board)))
	}
	return n
}

// arrived reports whether user's packet token was fetched: sent whole
// by its HTTP link (or told by qwk.fetched).
func (q *QWK) arrived(L *lua.LState) int {
	user, token := L.CheckString(1), L.CheckString(2)
	got, err := callStore(L, func(ctx context.Context) (bool, error) {
		return q.Service.Store.QWKPacketFetched(ctx, user, token)
	})
	if err != nil {
		return failAs(L, err, errNoPacket)
	}
	L.Push(lua.LBool(got))
	return 1
}

// uploadLink is a signed link for the logged-in caller to upload a
// reply packet over HTTP, and the handle qwk.uploaded finds it by.
func (q *QWK) uploadLink(L *lua.LState) int {
	conn := checkConn(L, 1)
	if _, err := q.linksLibrary(); err != nil {
		return fail(L, err)
	}
	user, err := q.Links.user(L)
	if err != nil {
		return fail(L, err)
	}
	// The link's nonce is the handle (the REP is kept under it).
	l := files.Link{Kind: files.KindReply, User: user, ConnID: conn.ID, Nonce: files.NewNonce()}
	if n := q.Links.link(L, l); n != 2 {
		return n
	}
	L.Push(lua.LString(l.Nonce))
	return 3
}

// uploaded returns the path of the reply packet received whole for the
// link of handle.
func (q *QWK) uploaded(L *lua.LState) int {
	handle := L.CheckString(1)
	lib, err := q.linksLibrary()
	if err != nil {
		return fail(L, err)
	}
	path := lib.ReplyPath(handle)
	if path == "" {
		L.ArgError(1, "a handle of qwk.upload_link")
	}
	info, err := os.Lstat(path)
	if err != nil || !info.Mode().IsRegular() {
		return fail(L, errNotUploaded)
	}
	L.Push(lua.LString(path))
	return 1
}

// discardReply removes the reply packet kept for handle, if any.
func (q *QWK) discardReply(handle string) error {
	lib, err := q.linksLibrary()
	if err != nil {
		return nil
	}
	if path := lib.ReplyPath(handle); path != "" {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}
