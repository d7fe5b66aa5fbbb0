package luaapi

import (
	"context"
	"errors"
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/files"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// Files is the files module: the board's file areas (host/handler/files)
// for the logged-in caller, each area's access rules applied (list,
// download, upload).
//
//	files.areas()                          -> {{name, description, files, may_download, may_upload}, ...}
//	files.list(area [, offset [, limit]])  -> {file, ...}, total | nil, "why"
//	files.search(text [, area])            -> {file, ...}
//	files.new([area])                      -> {file, ...} approved since the caller's last scan
//	files.scanned()                        -> true: what is listed now is no longer new
//	files.details(id)                      -> file | nil, "why"
//	files.queue(id) / files.unqueue(id)    -> true | nil, "why"
//	files.queued()                         -> {file, ...}
//	files.download_link(conn, id)          -> link, seconds | nil, "why"
//	files.upload_link(conn, area)          -> link, seconds | nil, "why"
//	files.path(id)                         -> the file's path on disk (for a transfer) | nil, "why"
//	files.downloaded(id)                   -> true: a transfer sent it (counted, out of the queue)
//	files.ingest(area, path, name [, description]) -> file | nil, "why"
//	files.waiting()                        -> {file, ...} (sysop)
//	files.approve(id) / files.reject(id)   -> file | nil, "why" (sysop)
//
// A link is the settings' url followed by the signed path
// (/files/d/... or /files/u/...), working for seconds.
//
// A file is {id, area, name, description, uploader, size, sha256,
// uploaded, approved, downloads, waiting} (times in Unix seconds).
type Files struct {
	// Library is the board's file areas; without it every call fails.
	Library *files.Library
	// Allowed reports whether the caller on L passes an access rule.
	Allowed func(L *lua.LState, rule lua.LValue) bool
	// IsSysop reports whether the caller on L is the sysop.
	IsSysop func(L *lua.LState) bool
	// Current is the caller logged in on L.
	Current CurrentUser
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Recorder, if set, journals the module's calls.
	Recorder Recorder
}

// errNoFiles is what scripts are told on a board without file areas.
var errNoFiles = errors.New("this board has no file areas")

// Loader opens the files module.
func (f *Files) Loader(L *lua.LState) int {
	L.Push(hostCalls{
		"areas":         reads(f.areas),
		"list":          reads(f.list),
		"search":        reads(f.search),
		"new":           reads(f.newFiles),
		"scanned":       writes(f.scanned),
		"details":       reads(f.details),
		"queue":         writes(f.queue),
		"unqueue":       writes(f.unqueue),
		"queued":        reads(f.queued),
		"download_link": reads(f.downloadLink),
		"upload_link":   reads(f.uploadLink),
		"path":          reads(f.path),
		"downloaded":    writes(f.downloaded),
		"ingest":        writes(f.ingest),
		"waiting":       reads(f.waiting),
		"approve":       writes(f.approve),
		"reject":        writes(f.reject),
	}.table(L, f.Recorder, "files"))
	return 1
}

// user is the caller logged in on L, or an error to fail with.
func (f *Files) user(L *lua.LState) (string, error) {
	if f.Library == nil {
		return "", errNoFiles
	}
	name := ""
	if f.Current != nil {
		name = f.Current(L)
	}
	if name == "" {
		return "", errNotLoggedIn
	}
	return name, nil
}

// now is the clock.
func (f *Files) now() time.Time {
	if f.Now == nil {
		return time.Now()
	}
	return f.Now()
}

// may reports whether the caller on L passes rule.
func (f *Files) may(L *lua.LState, rule string) bool {
	return f.Allowed == nil || f.Allowed(L, lua.LString(rule))
}

// listable returns the area named, if the caller may list it.
func (f *Files) listable(L *lua.LState, name string) (files.Area, error) {
	a, ok := f.Library.Settings.Area(name)
	if !ok || !f.may(L, a.List) {
		return files.Area{}, fmt.Errorf("there is no file area %q", name)
	}
	return a, nil
}

// listableAreas are the areas the caller may list, or only the one
// named by the optional argument n.
func (f *Files) listableAreas(L *lua.LState, n int) ([]files.Area, error) {
	if name := L.OptString(n, ""); name != "" {
		a, err := f.listable(L, name)
		return []files.Area{a}, err
	}
	var out []files.Area
	for _, a := range f.Library.Settings.Areas {
		if f.may(L, a.List) {
			out = append(out, a)
		}
	}
	return out, nil
}

// fileTable is f for Lua.
func fileTable(L *lua.LState, f store.File) *lua.LTable {
	t := L.CreateTable(0, 11)
	t.RawSetString("id", lua.LNumber(f.ID))
	t.RawSetString("area", lua.LString(f.Area))
	t.RawSetString("name", lua.LString(f.Name))
	t.RawSetString("description", lua.LString(f.Description))
	t.RawSetString("uploader", lua.LString(f.Uploader))
	t.RawSetString("size", lua.LNumber(f.Size))
	t.RawSetString("sha256", lua.LString(f.SHA256))
	t.RawSetString("uploaded", lua.LNumber(f.Uploaded.Unix()))
	if !f.Waiting() {
		t.RawSetString("approved", lua.LNumber(f.Approved.Unix()))
	}
	t.RawSetString("downloads", lua.LNumber(f.Downloads))
	t.RawSetString("waiting", lua.LBool(f.Waiting()))
	return t
}

// pushFiles pushes a list of files.
func pushFiles(L *lua.LState, list []store.File) {
	L.Push(listTable(L, list, fileTable))
}

// areas lists the areas the caller may list.
func (f *Files) areas(L *lua.LState) int {
	if _, err := f.user(L); err != nil {
		return fail(L, err)
	}
	areas, _ := f.listableAreas(L, 99)
	out := L.CreateTable(len(areas), 0)
	for _, a := range areas {
		n, err := callStore(L, func(ctx context.Context) (int, error) {
			return f.Library.Store.FileCount(ctx, store.FileQuery{Area: a.Name})
		})
		if err != nil {
			return fail(L, err)
		}
		t := L.CreateTable(0, 5)
		t.RawSetString("name", lua.LString(a.Name))
		t.RawSetString("description", lua.LString(a.Description))
		t.RawSetString("files", lua.LNumber(n))
		t.RawSetString("may_download", lua.LBool(f.may(L, a.Download)))
		t.RawSetString("may_upload", lua.LBool(f.may(L, a.Upload)))
		out.Append(t)
	}
	L.Push(out)
	return 1
}

// list is a page of an area's files, oldest first, and their total.
func (f *Files) list(L *lua.LState) int {
	name, offset, limit := L.CheckString(1), L.OptInt(2, 0), L.OptInt(3, store.MaxPage)
	if _, err := f.user(L); err != nil {
		return fail(L, err)
	}
	a, err := f.listable(L, name)
	if err != nil {
		return fail(L, err)
	}
	q := store.FileQuery{Area: a.Name, Offset: offset, Limit: limit}
	var total int
	list, err := callStore(L, func(ctx context.Context) (list []store.File, err error) {
		if total, err = f.Library.Store.FileCount(ctx, q); err != nil {
			return nil, err
		}
		return f.Library.Store.Files(ctx, q)
	})
	if err != nil {
		return fail(L, err)
	}
	pushFiles(L, list)
	L.Push(lua.LNumber(total))
	return 2
}

// collect runs q in each area the caller may list (or the one named by
// argument n), up to store.MaxPage files in all.
func (f *Files) collect(L *lua.LState, n int, q store.FileQuery) int {
	areas, err := f.listableAreas(L, n)
	if err != nil {
		return fail(L, err)
	}
	var all []store.File
	for _, a := range areas {
		if len(all) >= store.MaxPage {
			break
		}
		q.Area, q.Limit = a.Name, store.MaxPage-len(all)
		list, err := callStore(L, func(ctx context.Context) ([]store.File, error) { return f.Library.Store.Files(ctx, q) })
		if err != nil {
			return fail(L, err)
		}
		all = append(all, list...)
	}
	pushFiles(L, all)
	return 1
}

// search finds files by name or description.
func (f *Files) search(L *lua.LState) int {
	text := L.CheckString(1)
	if len(text) > store.MaxFileSearch || text == "" {
		L.ArgError(1, fmt.Sprintf("1 to %d bytes", store.MaxFileSearch))
	}
	if _, err := f.user(L); err != nil {
		return fail(L, err)
	}
	return f.collect(L, 2, store.FileQuery{Search: text})
}

// newFiles lists the files approved since the caller's last scan.
func (f *Files) newFiles(L *lua.LState) int {
	user, err := f.user(L)
	if err != nil {
		return fail(L, err)
	}
	since, err := callStore(L, func(ctx context.Context) (time.Time, error) { return f.Library.Store.LastFileScan(ctx, user) })
	if err != nil {
		return fail(L, err)
	}
	if since.IsZero() {
		since = time.UnixMilli(0)
	}
	return f.collect(L, 1, store.FileQuery{Since: since})
}

// scanned moves the caller's last scan to now.
func (f *Files) scanned(L *lua.LState) int {
	user, err := f.user(L)
	if err != nil {
		return fail(L, err)
	}
	if err := storeCall(L, func(ctx context.Context) error { return f.Library.Store.MarkFileScan(ctx, user, f.now()) }); err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

// errNoSuchFile is what a caller is told of a file they may not see.
var errNoSuchFile = errors.New("there is no such file")

// visible returns file id if the caller may see it: listed in an area
// they may list, or any file for the sysop.
func (f *Files) visible(L *lua.LState, id int64) (store.File, files.Area, error) {
	rec, err := callStore(L, func(ctx context.Context) (store.File, error) { return f.Library.Store.File(ctx, id) })
	if errors.Is(err, store.ErrNotFound) {
		return store.File{}, files.Area{}, errNoSuchFile
	}
	if err != nil {
		return store.File{}, files.Area{}, err
	}
	sysop := f.IsSysop != nil && f.IsSysop(L)
	a, ok := f.Library.Settings.Area(rec.Area)
	if !sysop && (!ok || rec.Waiting() || !f.may(L, a.List)) {
		return store.File{}, files.Area{}, errNoSuchFile
	}
	return rec, a, nil
}

// details is one file.
func (f *Files) details(L *lua.LState) int {
	id := L.CheckInt64(1)
	if _, err := f.user(L); err != nil {
		return fail(L, err)
	}
	rec, _, err := f.visible(L, id)
	if err != nil {
		return fail(L, err)
	}
	L.Push(fileTable(L, rec))
	return 1
}

// downloadable returns file id if the caller may download it.
func (f *Files) downloadable(L *lua.LState, id int64) (store.File, error) {
	rec, a, err := f.visible(L, id)
	if err != nil {
		return store.File{}, err
	}
	if rec.Waiting() {
		return store.File{}, errors.New("that file waits for the sysop's review")
	}
	if !f.may(L, a.Download) {
		return store.File{}, fmt.Errorf("you may not download from %s", a.Name)
	}
	return rec, nil
}

// queue adds a file the caller may download to their download queue.
func (f *Files) queue(L *lua.LState) int {
	return f.queueAction(L, true, func(ctx context.Context, user string, id int64) error {
		return f.Library.Store.QueueFile(ctx, user, id)
	})
}

// unqueue takes a file out of the caller's download queue.
func (f *Files) unqueue(L *lua.LState) int {
	return f.queueAction(L, false, func(ctx context.Context, user string, id int64) error {
		return f.Library.Store.UnqueueFile(ctx, user, id)
	})
}

// queueAction runs action for the caller and file id (argument 1),
// once the caller may download it if check.
func (f *Files) queueAction(L *lua.LState, check bool, action func(ctx context.Context, user string, id int64) error) int {
	id := L.CheckInt64(1)
	user, err := f.user(L)
	if err != nil {
		return fail(L, err)
	}
	if check {
		if _, err := f.downloadable(L, id); err != nil {
			return fail(L, err)
		}
	}
	if err := storeCall(L, func(ctx context.Context) error { return action(ctx, user, id) }); err != nil {
		return fail(L, err)
	}
	L.Push(lua.LTrue)
	return 1
}

// queued lists the caller's download queue.
func (f *Files) queued(L *lua.LState) int {
	user, err := f.user(L)
	if err != nil {
		return fail(L, err)
	}
	list, err := callStore(L, func(ctx context.Context) ([]store.File, error) { return f.Library.Store.Queued(ctx, user) })
	if err != nil {
		return fail(L, err)
	}
	pushFiles(L, list)
	return 1
}

// link pushes the signed path of l (its expiry set here, and its nonce
// unless l has one) and its lifetime in seconds.
func (f *Files) link(L *lua.LState, l files.Link) int {
	signer, err := callStore(L, f.Library.Signer)
	if err != nil {
		return fail(L, err)
	}
	life := f.Library.Settings.LinkLifetime
	// Whole seconds in the token: rounded up, so a link never works for
	// less than its lifetime.
	l.Expires = f.now().Add(life + time.Second - 1).Truncate(time.Second)
	if l.Nonce == "" {
		l.Nonce = files.NewNonce()
	}
	L.Push(lua.LString(f.Library.Settings.URL + signer.Path(l)))
	L.Push(lua.LNumber(life / time.Second))
	return 2
}

// downloadLink is a signed link to download a file over HTTP.
func (f *Files) downloadLink(L *lua.LState) int {
	conn, id := checkConn(L, 1), L.CheckInt64(2)
	user, err := f.user(L)
	if err != nil {
		return fail(L, err)
	}
	if _, err := f.downloadable(L, id); err != nil {
		return fail(L, err)
	}
	return f.link(L, files.Link{Kind: files.KindDownload, FileID: id, User: user, ConnID: conn.ID})
}

// path is the path on disk of a file the caller may download, for a
// transfer (such as ZMODEM) to send.
func (f *Files) path(L *lua.LState) int {
	id := L.CheckInt64(1)
	if _, err := f.user(L); err != nil {
		return fail(L, err)
	}
	rec, err := f.downloadable(L, id)
	if err != nil {
		return fail(L, err)
	}
	L.Push(lua.LString(f.Library.Path(rec)))
	return 1
}

// downloaded counts a download a transfer made of a file the caller may
// download, and takes it out of their queue.
func (f *Files) downloaded(L *lua.LState) int {
	return f.queueAction(L, true, func(ctx context.Context, user string, id int64) error {
		return errors.Join(f.Library.Store.CountDownload(ctx, id), f.Library.Store.UnqueueFile(ctx, user, id))
	})
}

// uploadArea returns the area named if the caller may upload to it.
func (f *Files) uploadArea(L *lua.LState, name string) (files.Area, error) {
	a, err := f.listable(L, name)
	if err != nil {
		return files.Area{}, err
	}
	if !f.may(L, a.Upload) {
		return files.Area{}, fmt.Errorf("you may not upload to %s", a.Name)
	}
	return a, nil
}

// uploadLink is a signed link to upload a file to an area over HTTP.
func (f *Files) uploadLink(L *lua.LState) int {
	conn, name := checkConn(L, 1), L.CheckString(2)
	user, err := f.user(L)
	if err != nil {
		return fail(L, err)
	}
	a, err := f.uploadArea(L, name)
	if err != nil {
		return fail(L, err)
	}
	return f.link(L, files.Link{Kind: files.KindUpload, Area: a.Name, User: user, ConnID: conn.ID})
}

// ingest takes a file the caller sent (a transfer's received file) into
// an area.
func (f *Files) ingest(L *lua.LState) int {
	name, path, fileName, desc := L.CheckString(1), L.CheckString(2), L.CheckString(3), L.OptString(4, "")
	user, err := f.user(L)
	if err != nil {
		return fail(L, err)
	}
	a, err := f.uploadArea(L, name)
	if err != nil {
		return fail(L, err)
	}
	if !f.Library.Ingestible(path) {
		L.ArgError(2, "a received file (in the temporary folder, no symbolic link on the way)")
	}
	up := files.Upload{Area: a.Name, Name: fileName, Path: path, Uploader: user, Description: desc,
		Approved: f.IsSysop != nil && f.IsSysop(L)}
	rec, err := callStore(L, func(ctx context.Context) (store.File, error) { return f.Library.Ingest(ctx, up) })
	if err != nil {
		return fail(L, ingestProblem(err))
	}
	L.Push(fileTable(L, rec))
	return 1
}

// ingestProblem says why an upload was refused, for the caller.
func ingestProblem(err error) error {
	switch {
	case errors.Is(err, store.ErrDuplicate):
		return errors.New("that file is already on the board")
	case errors.Is(err, store.ErrFileExists):
		return errors.New("a file of that name is already in the area")
	}
	return err
}

// sysopOnly fails unless the caller is the sysop.
func (f *Files) sysopOnly(L *lua.LState) error {
	if _, err := f.user(L); err != nil {
		return err
	}
	if f.IsSysop == nil || !f.IsSysop(L) {
		return errors.New("only the sysop may do that")
	}
	return nil
}

// waiting lists the uploads waiting for review, oldest first.
func (f *Files) waiting(L *lua.LState) int {
	if err := f.sysopOnly(L); err != nil {
		return fail(L, err)
	}
	list, err := callStore(L, func(ctx context.Context) ([]store.File, error) {
		return f.Library.Store.Files(ctx, store.FileQuery{Waiting: true})
	})
	if err != nil {
		return fail(L, err)
	}
	pushFiles(L, list)
	return 1
}

// approve lists an upload that waited for review.
func (f *Files) approve(L *lua.LState) int {
	return f.sysopFile(L, f.Library.Approve)
}

// reject removes an upload (or any file) and its bytes.
func (f *Files) reject(L *lua.LState) int {
	return f.sysopFile(L, f.Library.Remove)
}

// sysopFile runs a sysop's action on file id (argument 1).
func (f *Files) sysopFile(L *lua.LState, action func(ctx context.Context, id int64) (store.File, error)) int {
	id := L.CheckInt64(1)
	if err := f.sysopOnly(L); err != nil {
		return fail(L, err)
	}
	rec, err := callStore(L, func(ctx context.Context) (store.File, error) { return action(ctx, id) })
	if err != nil {
		return failAs(L, err, errNoSuchFile)
	}
	L.Push(fileTable(L, rec))
	return 1
}
