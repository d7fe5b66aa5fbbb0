package luaapi

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/files"
	"github.com/m2bbs/m2bbs/host/handler/qwkmail"
)

// TestQWKLinks: a packet's download link names that packet for the
// caller's session, saved as BBSID.QWK; the packet has not arrived until
// it is fetched; an upload link's handle finds the REP the host keeps
// for it, and qwk.discard(handle) removes it; a board without file
// settings gives no links.
func TestQWKLinks(t *testing.T) {
	L, db := newBoardState(t)
	settings, err := files.ParseSettings(map[string]any{"areas": []any{map[string]any{"name": "games"}}}, filepath.Join(t.TempDir(), "bbs.db"))
	if err != nil {
		t.Fatal(err)
	}
	lib := &files.Library{Settings: settings, Store: db}
	links := &Files{Library: lib, Current: func(*lua.LState) string { return "ann" }, Now: func() time.Time { return time.Unix(1_800_000_000, 0) }}
	L.PreloadModule("qwk", (&QWK{Service: &qwkmail.Service{Store: db}, Dir: t.TempDir(), Links: links}).Loader)
	L.PreloadModule("noqwk", (&QWK{Service: &qwkmail.Service{Store: db}, Dir: t.TempDir()}).Loader)
	registerConnType(L)
	L.SetGlobal("CONN", NewConnValue(L, &Conn{ID: "7"}))
	runLuaOK(t, L, `
		local board, qwk = require 'board', require 'qwk'
		assert(board.post('general', 'bob', 'Hello', {'hi all'}))
		packet = assert(qwk.build('ann', {'general'}, {bbsid = 'LUABBS'}))
		link, seconds = assert(qwk.download_link(CONN, packet.token, {bbsid = 'LUABBS'}))
		assert(qwk.arrived('ann', packet.token) == false)
		local none, err = qwk.arrived('bob', packet.token)
		assert(none == nil and err:find('no such packet'), err)
		assert(qwk.fetched('ann', packet.token))
		assert(qwk.arrived('ann', packet.token) == true)
		up, _, handle = assert(qwk.upload_link(CONN))
		local path, why = qwk.uploaded(handle)
		assert(path == nil and why:find('no reply packet has arrived'), why)
		local bad = pcall(qwk.uploaded, '../x')
		assert(not bad, 'a handle with a path')
		local nolink, nowhy = require('noqwk').download_link(CONN, packet.token)
		assert(nolink == nil and nowhy:find('no HTTP links'), nowhy)
	`)
	signer, err := lib.Signer(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	link := lua.LVAsString(L.GetGlobal("link"))
	path, name, _ := strings.Cut(link, "?")
	got, err := signer.Check(path, now)
	token := lua.LVAsString(L.GetField(L.GetGlobal("packet"), "token"))
	if err != nil || got.Kind != files.KindPacket || got.Packet != token || got.User != "ann" || got.ConnID != "7" || name != "name=LUABBS.QWK" {
		t.Errorf("the packet's link %q: %+v %v", link, got, err)
	}
	up, err := signer.Check(lua.LVAsString(L.GetGlobal("up")), now)
	handle := lua.LVAsString(L.GetGlobal("handle"))
	if err != nil || up.Kind != files.KindReply || up.Nonce != handle {
		t.Fatalf("the upload link: %+v %v (handle %q)", up, err, handle)
	}

	// The host keeps a REP for the handle: qwk.uploaded finds it, and
	// qwk.discard removes it.
	rep := lib.ReplyPath(handle)
	if err := os.MkdirAll(filepath.Dir(rep), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rep, []byte("rep"), 0o600); err != nil {
		t.Fatal(err)
	}
	L.SetGlobal("REP", lua.LString(rep))
	runLuaOK(t, L, `
		local qwk = require 'qwk'
		assert(qwk.uploaded(handle) == REP, qwk.uploaded(handle))
		assert(qwk.discard(handle))
		assert(qwk.uploaded(handle) == nil)
	`)
	if _, err := os.Stat(rep); !os.IsNotExist(err) {
		t.Errorf("the REP outlived qwk.discard: %v", err)
	}
}
