package luaapi

import (
	lua "github.com/yuin/gopher-lua"
)

// The transfer module: ZMODEM, YMODEM and XMODEM file transfers over the
// caller's telnet or SSH connection (docs/files.md#transfers), run by the
// host with lrzsz in binary stream mode while the caller's coroutine
// waits.
//
//	transfer.send(conn, req, paths [, opts]) -> req, true, info | req, nil, why
//	transfer.receive(conn, req [, opts])     -> req, files, info | req, nil, why
//
// opts.protocol is 'zmodem' (the default), 'ymodem' or 'xmodem'; a
// receive by XMODEM, which carries no name, needs opts.name. info is
// {sent=, received=, seconds=}; files is a list of {name=, path=, size=}
// in a folder of the host's, kept for the script to take (files.ingest)
// until the caller's call ends. Expected failures (no binary stream for
// this caller, a cancel, a timeout, a refused name) return nil and why.

// TransferOptions are a transfer's options from Lua.
type TransferOptions struct {
	// Protocol is "zmodem", "ymodem" or "xmodem" ("" for ZMODEM); Name
	// is the name an XMODEM upload is stored as.
	Protocol, Name string
}

// Transfers runs the transfer module's calls (the session table). Each is
// called by the Go function running on L with req; it pushes what the
// Lua call returns and returns their count, or returns L.Yield() and
// resumes the coroutine with them later (a stream call).
type Transfers interface {
	SendFiles(L *lua.LState, req lua.LValue, paths []string, opts TransferOptions) int
	ReceiveFiles(L *lua.LState, req lua.LValue, opts TransferOptions) int
}

// MaxSendPaths bounds the files of one transfer.send.
const MaxSendPaths = 64

// Transfer is the transfer module.
type Transfer struct {
	// Host runs the transfers; without it every call fails with a word.
	Host Transfers
}

// Loader is the module's loader for L.PreloadModule.
func (x *Transfer) Loader(L *lua.LState) int {
	L.Push(L.SetFuncs(L.NewTable(), map[string]lua.LGFunction{
		"send":    x.send,
		"receive": x.receive,
	}))
	return 1
}

// transfer.send(conn, req, paths [, opts])
func (x *Transfer) send(L *lua.LState) int {
	checkConn(L, 1)
	req := L.Get(2)
	list := L.CheckTable(3)
	var paths []string
	for i := 1; i <= list.Len(); i++ {
		p, ok := list.RawGetInt(i).(lua.LString)
		if !ok || p == "" {
			L.ArgError(3, "paths must be a list of file paths")
		}
		paths = append(paths, string(p))
	}
	if len(paths) == 0 || len(paths) > MaxSendPaths {
		L.ArgError(3, "between 1 and 64 files")
	}
	opts := transferOptions(L, 4)
	if x.Host == nil {
		return pushFailure(L, req, "file transfers are not available on this board")
	}
	return x.Host.SendFiles(L, req, paths, opts)
}

// transfer.receive(conn, req [, opts])
func (x *Transfer) receive(L *lua.LState) int {
	checkConn(L, 1)
	req := L.Get(2)
	opts := transferOptions(L, 3)
	if x.Host == nil {
		return pushFailure(L, req, "file transfers are not available on this board")
	}
	return x.Host.ReceiveFiles(L, req, opts)
}

// transferOptions reads the options table at n, if any.
func transferOptions(L *lua.LState, n int) TransferOptions {
	var o TransferOptions
	t, ok := L.Get(n).(*lua.LTable)
	if !ok {
		if L.Get(n) != lua.LNil {
			L.ArgError(n, "options must be a table")
		}
		return o
	}
	if s, ok := t.RawGetString("protocol").(lua.LString); ok {
		o.Protocol = string(s)
	}
	if s, ok := t.RawGetString("name").(lua.LString); ok {
		o.Name = string(s)
	}
	return o
}

// pushFailure pushes req, nil, why.
func pushFailure(L *lua.LState, req lua.LValue, why string) int {
	L.Push(req)
	L.Push(lua.LNil)
	L.Push(lua.LString(why))
	return 3
}
