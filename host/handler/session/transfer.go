package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/termbridge"
	"github.com/m2bbs/m2bbs/host/handler/transfer"
	"github.com/m2bbs/m2bbs/luaapi"
)

// File transfers (the transfer module): a binary stream call (stream.go,
// binary.go) whose stream is sz or rz run by host/handler/transfer. The
// caller's gateway is in binary stream mode for its length; the call's
// result (journaled) is what the script sees. The caller is told what
// to do before (start their program's download or upload) and how it
// went after; their terminal program shows the counts while it runs, and
// the sysop's status page shows the bytes so far ([transfer …]).

// Journal names of the transfer calls.
const (
	TransferSendCall    = "transfer.send"
	TransferReceiveCall = "transfer.receive"
)

// transferInterrupted is the calls' answer for a caller resumed after a
// host restart that ended their transfer.
const transferInterrupted = "the board restarted during the transfer"

// TransferStartsPerSecond and TransferStartBurst bound how often one
// caller may start a transfer (a start forks a program, about 2 ms of
// the worker): a few in a row, then one a second.
const (
	TransferStartsPerSecond = 1
	TransferStartBurst      = 5
)

// SendFiles implements luaapi.Transfers: sz sends paths.
func (t *Table) SendFiles(L *lua.LState, req lua.LValue, paths []string, opts luaapi.TransferOptions) int {
	names := make([]string, len(paths))
	args := []lua.LValue{lua.LString(opts.Protocol)}
	for i, p := range paths {
		names[i] = filepath.Base(p)
		args = append(args, lua.LString(p))
	}
	proto, _ := transfer.ParseProtocol(opts.Protocol)
	return t.joinStream(L, req, &streamCall{
		name: TransferSendCall, args: args, what: "sending " + strings.Join(names, ", "),
		binary: true, cancelOnCAN: proto == transfer.ZMODEM, interrupted: transferInterrupted,
		refuse: func(s *Session) string { return t.cannotTransfer(s, opts) },
		start: func(ctx context.Context, s *Session) (io.ReadWriteCloser, func(termbridge.Stats) streamEnd, error) {
			p, _ := transfer.ParseProtocol(opts.Protocol)
			run, err := t.deps.Transfers.Send(ctx, p, paths)
			if err != nil {
				return nil, nil, transferStartError(err)
			}
			t.tell(s, fmt.Sprintf("Sending %s by %s: start your program's download now (Ctrl-X five times cancels).", strings.Join(names, ", "), strings.ToUpper(string(p))))
			return run, t.transferEnd(s, run, "sent"), nil
		},
	})
}

// ReceiveFiles implements luaapi.Transfers: rz receives into a folder
// of its own.
func (t *Table) ReceiveFiles(L *lua.LState, req lua.LValue, opts luaapi.TransferOptions) int {
	proto, _ := transfer.ParseProtocol(opts.Protocol)
	return t.joinStream(L, req, &streamCall{
		name: TransferReceiveCall, args: []lua.LValue{lua.LString(opts.Protocol), lua.LString(opts.Name)}, what: "receiving",
		binary: true, cancelOnCAN: proto == transfer.ZMODEM, interrupted: transferInterrupted,
		refuse: func(s *Session) string { return t.cannotTransfer(s, opts) },
		start: func(ctx context.Context, s *Session) (io.ReadWriteCloser, func(termbridge.Stats) streamEnd, error) {
			p, _ := transfer.ParseProtocol(opts.Protocol)
			run, err := t.deps.Transfers.Receive(ctx, p, opts.Name)
			if err != nil {
				return nil, nil, transferStartError(err)
			}
			t.tell(s, fmt.Sprintf("Ready to receive by %s: start your program's upload now (Ctrl-X five times cancels).", strings.ToUpper(string(p))))
			return run, t.transferEnd(s, run, "received"), nil
		},
	})
}

// cannotTransfer says why s cannot start a transfer with opts now (""
// if it can).
func (t *Table) cannotTransfer(s *Session, opts luaapi.TransferOptions) string {
	p, ok := transfer.ParseProtocol(opts.Protocol)
	switch {
	case t.deps.Transfers == nil:
		return "File transfers are not available on this board."
	case !ok:
		return "Unknown transfer protocol " + opts.Protocol + ": zmodem, ymodem or xmodem."
	case p == transfer.XMODEM && opts.Name != "" && !transfer.PlainName(opts.Name):
		return "That file name cannot be used."
	case !s.transferStarts.take(t.now(), TransferStartsPerSecond, TransferStartBurst):
		return "One moment before the next transfer, please."
	}
	return ""
}

// transferStartError is what a failed start tells the caller.
func transferStartError(err error) error {
	switch {
	case errors.Is(err, transfer.ErrBusy):
		return streamRefused("Too many transfers are running: try again in a few minutes.")
	case errors.Is(err, transfer.ErrBadName):
		return streamRefused("That file cannot be transferred.")
	}
	return err
}

// transferEnd returns the stream's wait: the run's result as the call's
// (req, true, info for a send; req, files, info for a receive; req, nil,
// why otherwise), and the line the caller is told.
func (t *Table) transferEnd(s *Session, run *transfer.Run, verb string) func(termbridge.Stats) streamEnd {
	return func(st termbridge.Stats) streamEnd {
		res := run.Wait()
		s.log.Info("transfer ended", "why", res.Why, "in", res.In, "out", res.Out, "ran", res.Ran.Round(time.Millisecond),
			"files", len(res.Files), "dropped", st.Dropped, "stderr", res.Stderr)
		if !res.OK {
			return streamEnd{results: streamFailed("transfer " + res.Why), notice: "The transfer did not finish (" + res.Why + ")."}
		}
		bytes := res.Out
		if verb == "received" {
			bytes = res.In
		}
		notice := fmt.Sprintf("Transfer done: %d bytes %s in %.1f s.", bytes, verb, res.Ran.Seconds())
		info := &lua.LTable{}
		info.RawSetString("sent", lua.LNumber(res.Out))
		info.RawSetString("received", lua.LNumber(res.In))
		info.RawSetString("seconds", lua.LNumber(res.Ran.Seconds()))
		if verb != "received" {
			return streamEnd{results: []lua.LValue{lua.LTrue, info}, notice: notice}
		}
		files := &lua.LTable{}
		for _, f := range res.Files {
			e := &lua.LTable{}
			e.RawSetString("name", lua.LString(f.Name))
			e.RawSetString("path", lua.LString(f.Path))
			e.RawSetString("size", lua.LNumber(f.Size))
			files.Append(e)
		}
		keep := func(s *Session) { s.received = append(s.received, res) }
		drop := func() { _ = res.Discard() }
		return streamEnd{results: []lua.LValue{files, info}, notice: notice, onTable: keep, abandoned: drop}
	}
}

// transferLabel is what the status page shows a caller in transfer j:
// what runs and the bytes so far.
func transferLabel(j *joined) string {
	st := j.bridge.Stats()
	return fmt.Sprintf("[transfer %s: %d bytes out, %d in]", j.call.what, st.BytesOut, st.KeysIn)
}

// discardReceived removes the folders of what s received (their call
// ended: the script had its chance to take the files).
func discardReceived(s *Session) {
	for _, res := range s.received {
		if err := res.Discard(); err != nil {
			s.log.Warn("received files not removed", "dir", res.Dir, "err", err)
		}
	}
	s.received = nil
}
