package luaapi

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/files"
)

// TestFilesModule: a caller uploads a .zip (its FILE_ID.DIZ becomes the
// description), it waits for review, the sysop approves it, another
// caller lists, searches, sees it as new once, queues it and gets a
// download link that checks; areas a rule hides stay hidden; a name
// that would escape the area is refused.
func TestFilesModule(t *testing.T) {
	L, db := newBoardState(t)
	settings, err := files.ParseSettings(map[string]any{"review": true, "areas": []any{
		map[string]any{"name": "games", "description": "Games"},
		map[string]any{"name": "secret", "list": "hidden"},
		map[string]any{"name": "readonly", "upload": "hidden"},
	}}, filepath.Join(t.TempDir(), "bbs.db"))
	if err != nil {
		t.Fatal(err)
	}
	lib := &files.Library{Settings: settings, Store: db}
	user := ""
	now := time.Unix(1_800_000_000, 0)
	L.PreloadModule("files", (&Files{
		Library: lib, Current: func(*lua.LState) string { return user },
		Allowed: func(_ *lua.LState, rule lua.LValue) bool { return rule.String() != "hidden" },
		IsSysop: func(*lua.LState) bool { return user == "cy" },
		Now:     func() time.Time { return now },
	}).Loader)
	registerConnType(L)
	L.SetGlobal("CONN", NewConnValue(L, &Conn{ID: "7"}))
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	w, _ := zw.Create("FILE_ID.DIZ")
	w.Write([]byte("Tetris clone\r\nby ann\r\n"))
	zw.Close()
	upload := func(data []byte) string {
		f, err := os.CreateTemp("", "m2bbs-files-test-")
		if err != nil {
			t.Fatal(err)
		}
		f.Write(data)
		f.Close()
		t.Cleanup(func() { os.Remove(f.Name()) })
		return f.Name()
	}
	L.SetGlobal("ZIP", lua.LString(upload(zipped.Bytes())))
	L.SetGlobal("OTHER", lua.LString(upload([]byte("other"))))

	runLuaOK(t, L, `
		local files = require 'files'
		local none, why = files.areas()
		assert(none == nil and why == 'log in first', why)
	`)
	user = "ann"
	runLuaOK(t, L, `
		local files = require 'files'
		local areas = assert(files.areas())
		assert(#areas == 2 and areas[1].name == 'games' and areas[2].may_upload == false, #areas)
		local none, why = files.ingest('games', OTHER, '../../x')
		assert(none == nil and why:find('invalid file name'), why)
		none, why = files.ingest('readonly', ZIP, 'T.ZIP')
		assert(none == nil and why:find('may not upload'), why)
		none, why = files.list('secret')
		assert(none == nil and why:find('no file area'), why)
		local f = assert(files.ingest('games', ZIP, 'TETRIS.ZIP', 'typed'))
		assert(f.waiting and f.description == 'Tetris clone\nby ann' and f.uploader == 'ann', f.description)
		FILE = f.id
		local list, total = files.list('games')
		assert(#list == 0 and total == 0)
		none, why = files.waiting()
		assert(none == nil and why:find('sysop'), why)
		assert(not files.details(f.id))
	`)
	user = "cy"
	runLuaOK(t, L, `
		local files = require 'files'
		local w = assert(files.waiting())
		assert(#w == 1 and w[1].name == 'TETRIS.ZIP')
		assert(files.approve(w[1].id))
		local none, why = files.approve(w[1].id)
		assert(none == nil, 'approved twice')
	`)
	user = "bob"
	runLuaOK(t, L, `
		local files = require 'files'
		local list, total = assert(files.list('games'))
		assert(#list == 1 and total == 1 and list[1].name == 'TETRIS.ZIP')
		assert(#files.search('clone') == 1 and #files.search('nothing') == 0)
		assert(#files.new() == 1)
		assert(files.scanned())
		assert(#files.new() == 0)
		assert(files.queue(FILE))
		assert(#files.queued() == 1)
		local path, seconds = assert(files.download_link(CONN, FILE))
		assert(path:sub(1, 9) == '/files/d/' and seconds == 900, path)
		LINK = path
		local disk = assert(files.path(FILE))
		assert(disk:sub(-10) == 'TETRIS.ZIP', disk)
		assert(files.downloaded(FILE))
		assert(#files.queued() == 0 and files.details(FILE).downloads == 1)
		local up = assert(files.upload_link(CONN, 'games'))
		assert(up:sub(1, 9) == '/files/u/')
		local none, why = files.upload_link(CONN, 'readonly')
		assert(none == nil and why:find('may not upload'), why)
	`)
	signer, err := lib.Signer(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	l, err := signer.Check(L.GetGlobal("LINK").String(), now)
	if err != nil || l.User != "bob" || l.ConnID != "7" || l.FileID != int64(L.GetGlobal("FILE").(lua.LNumber)) {
		t.Errorf("link %+v %v", l, err)
	}
	if _, err := signer.Check(L.GetGlobal("LINK").String(), now.Add(16*time.Minute)); err == nil {
		t.Error("the link outlived its lifetime")
	}
	if err := L.DoString(`require('files').ingest('games', '/etc/passwd', 'pw.txt')`); err == nil || !strings.Contains(err.Error(), "received file") {
		t.Errorf("ingest from anywhere: %v", err)
	}
}
