// Package session keeps the table of callers' coroutines: one gopher-lua
// thread per Mongrel2 conn_id, created on a caller's first message, resumed
// with each later one, and dropped when the script ends, fails or the caller
// hangs up.
//
// A Table owns one *lua.LState and must be used from one goroutine at a
// time; the host runs each Table on a goroutine of its own. Its Stats may be
// read from any goroutine.
package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/m2proto"
	"github.com/m2bbs/m2bbs/host/store"
	"github.com/m2bbs/m2bbs/luaapi"
)

// DefaultLuaOptions keep a suspended caller small (a few KiB instead of the
// default ~100 KiB): a 128-slot registry that grows on demand and a call
// stack that shrinks. RegistrySize must stay at least 128: gopher-lua
// silently replaces smaller values with 5,120 slots.
var DefaultLuaOptions = lua.Options{
	CallStackSize:       256,
	MinimizeStackMemory: true,
	RegistrySize:        128,
	RegistryMaxSize:     256 * 1024,
	RegistryGrowStep:    128,
}

// Config says which script runs the BBS and how.
type Config struct {
	// ScriptsDir is searched by require (ScriptsDir/?.lua).
	ScriptsDir string
	// MainScript is run once at start; it returns the entry function or
	// defines the global named Entry.
	MainScript string
	// Entry is the global entry function's name; "m2bbs" when empty.
	Entry string
	// ErrorScreen is shown (as an exit message) to a caller whose script
	// failed; "error" when empty.
	ErrorScreen string
	// RawFrames sends messages as raw JSON + NUL instead of base64 + NUL.
	RawFrames bool
	// LuaOptions for the state and its threads; DefaultLuaOptions when zero.
	LuaOptions lua.Options
}

// Deps are the Table's collaborators.
type Deps struct {
	Replier luaapi.Replier
	Screens luaapi.Screens
	Store   store.Store
	Log     *slog.Logger
}

// fallbackErrorText is shown when the error screen itself is missing.
const fallbackErrorText = "We had an error, try again later."

// Session is one caller's conversation.
type Session struct {
	connID    string
	thread    *lua.LState
	cancel    context.CancelFunc
	conn      *luaapi.Conn
	connValue *lua.LUserData
	log       *slog.Logger
	started   time.Time
	lastInput time.Time
}

// Stats are the Table's counters.
type Stats struct {
	Active       int64 `json:"active"`
	Started      int64 `json:"started"`
	Ended        int64 `json:"ended"`
	Errored      int64 `json:"errored"`
	Disconnected int64 `json:"disconnected"`
	Malformed    int64 `json:"malformed"`
	UnknownType  int64 `json:"unknown_type"`
	Vanished     int64 `json:"vanished"`
}

type counters struct {
	active, started, ended, errored, disconnected, malformed, unknownType, vanished atomic.Int64
}

// Table maps conn ids to their sessions.
type Table struct {
	cfg      Config
	deps     Deps
	log      *slog.Logger
	L        *lua.LState
	entry    *lua.LFunction
	sessions map[string]*Session
	byThread map[*lua.LState]*Session
	counts   counters
	now      func() time.Time
}

// New creates a Lua state with the BBS API, runs the main script and
// returns a Table ready for requests.
func New(cfg Config, deps Deps) (*Table, error) {
	if cfg.Entry == "" {
		cfg.Entry = "m2bbs"
	}
	if cfg.ErrorScreen == "" {
		cfg.ErrorScreen = "error"
	}
	if cfg.LuaOptions == (lua.Options{}) {
		cfg.LuaOptions = DefaultLuaOptions
	}
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	t := &Table{
		cfg:      cfg,
		deps:     deps,
		log:      deps.Log,
		sessions: make(map[string]*Session),
		byThread: make(map[*lua.LState]*Session),
		now:      time.Now,
	}
	t.L = lua.NewState(cfg.LuaOptions)
	env := luaapi.Env{
		UI:  &luaapi.UI{Screens: deps.Screens},
		DB:  &luaapi.DB{Store: deps.Store},
		Log: t.loggerFor,
	}
	if err := luaapi.Open(t.L, env); err != nil {
		t.L.Close()
		return nil, err
	}
	if err := t.loadMain(); err != nil {
		t.L.Close()
		return nil, err
	}
	return t, nil
}

// loadMain runs the main script and finds the entry function.
func (t *Table) loadMain() error {
	if t.cfg.ScriptsDir != "" {
		dir := filepath.ToSlash(t.cfg.ScriptsDir)
		pkg := t.L.GetGlobal("package")
		path := dir + "/?.lua;" + dir + "/?/init.lua;" + lua.LVAsString(t.L.GetField(pkg, "path"))
		t.L.SetField(pkg, "path", lua.LString(path))
	}
	fn, err := t.L.LoadFile(t.cfg.MainScript)
	if err != nil {
		return fmt.Errorf("load %s: %w", t.cfg.MainScript, err)
	}
	t.L.Push(fn)
	if err := t.L.PCall(0, 1, nil); err != nil {
		return fmt.Errorf("run %s: %w", t.cfg.MainScript, err)
	}
	ret := t.L.Get(-1)
	t.L.Pop(1)
	if entry, ok := ret.(*lua.LFunction); ok {
		t.entry = entry
		return nil
	}
	globals := t.L.Get(lua.GlobalsIndex).(*lua.LTable)
	if entry, ok := globals.RawGetString(t.cfg.Entry).(*lua.LFunction); ok {
		t.entry = entry
		return nil
	}
	return fmt.Errorf("%s: no entry function: return one from the script or define global %s(conn, req)", t.cfg.MainScript, t.cfg.Entry)
}

// Close releases the Lua state. Sessions still open are dropped without a
// word to their callers.
func (t *Table) Close() {
	for id := range t.sessions {
		t.remove(t.sessions[id])
	}
	t.L.Close()
}

// Len is the number of live sessions.
func (t *Table) Len() int { return len(t.sessions) }

// Has reports whether connID has a live session.
func (t *Table) Has(connID string) bool { return t.sessions[connID] != nil }

// Stats returns a snapshot of the counters; safe from any goroutine.
func (t *Table) Stats() Stats {
	c := &t.counts
	return Stats{
		Active: c.active.Load(), Started: c.started.Load(), Ended: c.ended.Load(),
		Errored: c.errored.Load(), Disconnected: c.disconnected.Load(),
		Malformed: c.malformed.Load(), UnknownType: c.unknownType.Load(), Vanished: c.vanished.Load(),
	}
}

// loggerFor returns the logger of the session running on L (or on a
// coroutine the session started), else the table's.
func (t *Table) loggerFor(L *lua.LState) *slog.Logger {
	for th := L; th != nil; th = th.Parent {
		if s := t.byThread[th]; s != nil {
			return s.log
		}
	}
	return t.log
}

// Handle routes one JSON-socket request: a disconnect notice ends the
// caller's session, a "msg" message starts or resumes it. Anything else is
// logged and counted.
func (t *Table) Handle(req *m2proto.Request) {
	if req.IsDisconnect() {
		t.Disconnect(req.ConnID)
		return
	}
	data, err := luaapi.DecodeJSON(t.L, req.Body)
	if err != nil {
		t.counts.malformed.Add(1)
		t.log.Warn("malformed message", "conn_id", req.ConnID, "err", err)
		return
	}
	msg, ok := data.(*lua.LTable)
	if body := bytes.TrimSpace(req.Body); !ok || body[0] != '{' {
		t.counts.malformed.Add(1)
		t.log.Warn("malformed message: not a JSON object", "conn_id", req.ConnID)
		return
	}
	if kind := msg.RawGetString("type"); kind != lua.LString("msg") {
		t.counts.unknownType.Add(1)
		t.log.Warn("unknown message type", "conn_id", req.ConnID, "type", kind.String())
		return
	}
	if _, ok := msg.RawGetString("msg").(lua.LString); !ok {
		t.counts.malformed.Add(1)
		t.log.Warn("malformed message: msg is not a string", "conn_id", req.ConnID)
		return
	}
	reqTable := luaapi.NewRequest(t.L, req, msg)
	if s := t.sessions[req.ConnID]; s != nil {
		s.lastInput = t.now()
		t.resume(s, reqTable)
		return
	}
	t.start(req, reqTable)
}

// Disconnect drops connID's session after its caller hung up.
func (t *Table) Disconnect(connID string) {
	s := t.sessions[connID]
	if s == nil {
		return
	}
	s.log.Info("caller hung up")
	t.counts.disconnected.Add(1)
	t.remove(s)
}

// start creates the caller's coroutine and runs it to its first prompt.
//
// Two entry conventions work: the post's m2bbs(conn, req), resumed with the
// conn and the first request, and the Mongrel2 example's m2bbs(conn), whose
// first act is req = coroutine.yield(): a one-parameter entry is started
// with the conn alone and, if it then waits without having said anything,
// resumed with the first request.
func (t *Table) start(req *m2proto.Request, reqTable *lua.LTable) {
	th, cancel := t.L.NewThread()
	conn := luaapi.NewConn(req.ConnID, req.Sender, t.cfg.RawFrames, t)
	now := t.now()
	s := &Session{
		connID:    req.ConnID,
		thread:    th,
		cancel:    cancel,
		conn:      conn,
		connValue: luaapi.NewConnValue(t.L, conn),
		log:       t.log.With("conn_id", req.ConnID),
		started:   now,
		lastInput: now,
	}
	t.sessions[s.connID] = s
	t.byThread[th] = s
	t.counts.active.Add(1)
	t.counts.started.Add(1)
	s.log.Info("session started")

	if t.entry.Proto.NumParameters == 1 && t.entry.Proto.IsVarArg == 0 {
		if t.resume(s, s.connValue) && conn.Sent() == 0 {
			t.resume(s, reqTable)
		}
		return
	}
	t.resume(s, s.connValue, reqTable)
}

// errYieldAcross reports a coroutine that yielded from where gopher-lua
// cannot resume it (an iterator or a metamethod).
var errYieldAcross = errors.New("the script waited for input inside an iterator or metamethod, which cannot be resumed; move the prompt outside it")

// resume runs the session until it waits for input, ends or fails, and
// reports whether it is still waiting.
func (t *Table) resume(s *Session, args ...lua.LValue) (waiting bool) {
	state, err := t.safeResume(s, args)
	switch {
	case err != nil:
		t.fail(s, err)
		return false
	case state == lua.ResumeYield:
		return true
	case !s.thread.Dead:
		t.fail(s, errYieldAcross)
		return false
	default:
		t.finish(s)
		return false
	}
}

// safeResume resumes the thread, turning a Go panic into an error: a
// broken script must end its own session, never the host.
func (t *Table) safeResume(s *Session, args []lua.LValue) (state lua.ResumeState, err error) {
	defer func() {
		if r := recover(); r != nil {
			state, err = lua.ResumeError, fmt.Errorf("panic: %v", r)
		}
	}()
	state, err, _ = t.L.Resume(s.thread, t.entry, args...)
	return state, err
}

// finish ends a session whose script returned: the caller is told to quit
// (if the script did not say goodbye itself) and hung up on.
func (t *Table) finish(s *Session) {
	t.counts.ended.Add(1)
	s.log.Info("session ended", "duration", t.now().Sub(s.started).Round(time.Millisecond))
	t.hangup(s, `{"msg":"","type":"exit"}`)
	t.remove(s)
}

// fail ends a session whose script raised an error: the sysop gets a log
// line with the script's file:line and stack, the caller the error screen.
func (t *Table) fail(s *Session, err error) {
	t.counts.errored.Add(1)
	attrs := []any{"err", errorText(err)}
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) && apiErr.StackTrace != "" {
		attrs = append(attrs, "stack", apiErr.StackTrace)
	}
	s.log.Error("script error", attrs...)
	text, screenErr := t.deps.Screens.Screen(t.cfg.ErrorScreen)
	if screenErr != nil {
		text = fallbackErrorText
	}
	msg, _ := luaapi.AppendJSON(nil, exitTable(t.L, text))
	t.hangup(s, string(msg))
	t.remove(s)
}

func exitTable(L *lua.LState, text string) *lua.LTable {
	tbl := L.CreateTable(0, 2)
	tbl.RawSetString("type", lua.LString("exit"))
	tbl.RawSetString("msg", lua.LString(text))
	return tbl
}

// errorText is the error's message without gopher-lua's stack trace.
func errorText(err error) string {
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) && apiErr.Object != nil {
		return apiErr.Object.String()
	}
	msg := err.Error()
	if i := strings.Index(msg, "\nstack traceback:"); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

// hangup sends exitMsg unless the script already sent an exit, then closes
// the caller's connection unless the script already did.
func (t *Table) hangup(s *Session, exitMsg string) {
	if s.conn.Closed() {
		return
	}
	if !s.conn.Exited() {
		if err := s.conn.SendJSON(s.conn.Sender, s.connID, []byte(exitMsg), true); err != nil {
			s.log.Warn("send exit", "err", err)
		}
	}
	if err := s.conn.Hangup(); err != nil {
		s.log.Warn("hang up", "err", err)
	}
}

// remove forgets a session so its coroutine can be collected.
func (t *Table) remove(s *Session) {
	if t.sessions[s.connID] != s {
		return
	}
	delete(t.sessions, s.connID)
	delete(t.byThread, s.thread)
	if s.cancel != nil {
		s.cancel()
	}
	t.counts.active.Add(-1)
}

// Reply implements luaapi.Replier for the table's conns: replies to conn
// ids with no live session are logged, counted and dropped.
func (t *Table) Reply(sender string, connIDs []string, body []byte) error {
	live := connIDs[:0:0]
	for _, id := range connIDs {
		if t.sessions[id] == nil {
			t.counts.vanished.Add(1)
			t.log.Warn("reply to a caller who is not online", "conn_id", id)
			continue
		}
		live = append(live, id)
	}
	if len(live) == 0 {
		return nil
	}
	return t.deps.Replier.Reply(sender, live, body)
}
