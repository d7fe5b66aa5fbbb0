package session

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/doorserver"
	"github.com/m2bbs/m2bbs/host/handler/termbridge"
	"github.com/m2bbs/m2bbs/host/shared/termprofile"
)

// Door servers (door.server): a stream call (stream.go) whose stream is
// the caller's call to a door server of the settings
// (host/handler/doorserver), dialled in the background so that the
// worker never waits on the network. The call ends when either side
// hangs up, or when the caller's time runs out.

// DoorServerCall names the door server call in journals.
const DoorServerCall = "door.server"

// doorServerInterrupted is the call's answer for a caller resumed after a
// host restart that ended their call.
const doorServerInterrupted = "the board restarted while you were on the door server"

// doorServerHungUp is the reason a call that went through ended.
const doorServerHungUp = "hung up"

// RunDoorServer implements luaapi.DoorServerRunner.
func (t *Table) RunDoorServer(L *lua.LState, server doorserver.Server, caller doorserver.Caller, req lua.LValue) int {
	what := server.Title
	if what == "" {
		what = server.Name
	}
	charset := termprofile.CP437
	if server.Charset == doorserver.CharsetUTF8 {
		charset = termprofile.UTF8
	}
	return t.joinStream(L, req, &streamCall{
		name: DoorServerCall, args: []lua.LValue{lua.LString(server.Name), lua.LString(caller.Door)}, what: what,
		charset: charset, interrupted: doorServerInterrupted,
		start: func(ctx context.Context, s *Session) (io.ReadWriteCloser, func(termbridge.Stats) streamEnd, error) {
			return t.callDoorServer(ctx, s, server, caller, what)
		},
	})
}

// callDoorServer opens s's call to server; wait says how it ended: true
// and "hung up", or nil and why (refused, unreachable, time up).
func (t *Table) callDoorServer(ctx context.Context, s *Session, server doorserver.Server, caller doorserver.Caller, what string) (io.ReadWriteCloser, func(termbridge.Stats) streamEnd, error) {
	stream := &watchedStream{ReadWriteCloser: server.Open(caller)}
	hangUp := context.AfterFunc(ctx, func() { stream.Close() })
	limit := t.doorTime(s, 0)
	var timeUp atomic.Bool
	timer := time.AfterFunc(limit, func() {
		timeUp.Store(true)
		stream.Close()
	})
	started := t.now()
	s.log.Info("door server called", "server", server.Name, "door", caller.Door, "time_limit", limit)
	wait := func(st termbridge.Stats) streamEnd {
		hangUp()
		timer.Stop()
		stream.Close()
		err := stream.err()
		s.log.Info("door server call ended", "server", server.Name, "err", err, "ran", t.now().Sub(started).Round(time.Millisecond),
			"bytes_out", st.BytesOut, "keys_in", st.KeysIn, "keys_dropped", st.Dropped)
		var dial *doorserver.DialError
		switch {
		case timeUp.Load():
			return streamEnd{results: streamFailed("time limit"), notice: "Your time on " + what + " is up."}
		case errors.As(err, &dial):
			return streamEnd{results: streamFailed(dial.Why())}
		}
		return streamEnd{results: []lua.LValue{lua.LTrue, lua.LString(doorServerHungUp), lua.LNil}}
	}
	return stream, wait, nil
}

// watchedStream keeps the first error a stream's Read met other than its
// end, for the call's result.
type watchedStream struct {
	io.ReadWriteCloser
	mu      sync.Mutex
	readErr error
	once    sync.Once
}

func (w *watchedStream) Read(p []byte) (int, error) {
	n, err := w.ReadWriteCloser.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		w.mu.Lock()
		if w.readErr == nil {
			w.readErr = err
		}
		w.mu.Unlock()
	}
	return n, err
}

// Close closes the stream once.
func (w *watchedStream) Close() error {
	var err error
	w.once.Do(func() { err = w.ReadWriteCloser.Close() })
	return err
}

func (w *watchedStream) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.readErr
}
