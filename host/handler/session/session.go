// Package session keeps a table of callers' coroutines: one gopher-lua
// thread per Mongrel2 conn_id, created on a caller's first message, resumed
// with each later one, and dropped when the script ends, fails, runs over
// its time budget, sits idle too long, or the caller hangs up.
//
// A Table owns one *lua.LState and must be used from one goroutine at a
// time; the host runs each Table on a goroutine of its own. Stats and Abort
// may be called from any goroutine.
package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/doorserver"
	"github.com/m2bbs/m2bbs/host/handler/events"
	"github.com/m2bbs/m2bbs/host/handler/files"
	"github.com/m2bbs/m2bbs/host/handler/journal"
	"github.com/m2bbs/m2bbs/host/handler/nativedoor"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/handler/throttle"
	"github.com/m2bbs/m2bbs/host/handler/transfer"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/keylogin"
	"github.com/m2bbs/m2bbs/host/shared/lograte"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
	"github.com/m2bbs/m2bbs/luaapi"
)

// DefaultLuaOptions keep a suspended caller small (a few KiB instead of the
// default ~100 KiB): a 128-slot registry that grows on demand and a call
// stack that shrinks. RegistrySize must stay at least 128: gopher-lua
// silently replaces smaller values with 5,120 slots. CallStackSize bounds
// recursion; RegistryMaxSize bounds one coroutine's value stack.
var DefaultLuaOptions = lua.Options{
	CallStackSize:       256,
	MinimizeStackMemory: true,
	RegistrySize:        128,
	RegistryMaxSize:     256 * 1024,
	RegistryGrowStep:    128,
}

// Defaults for the limits in Config.
const (
	DefaultIdleTimeout   = 15 * time.Minute
	DefaultResumeBudget  = 2 * time.Second
	DefaultReplayBudget  = 2 * time.Second
	DefaultMaxLineBytes  = 4096
	DefaultRatePerSecond = 10
	DefaultRateBurst     = 20
)

// Config says which script runs the BBS and within which limits.
type Config struct {
	// ScriptsDir is searched by require (ScriptsDir/?.lua).
	ScriptsDir string
	// MainScript is run once at start, within LoadBudget; it returns the
	// entry function, installs it with engine.run(conn, entry) or defines
	// the global named Entry.
	MainScript string
	// LoadBudget bounds the main script's run at load
	// (DefaultLoadBudget when zero).
	LoadBudget time.Duration
	// Entry is the global entry function's name; "m2bbs" when empty.
	Entry string
	// ErrorScreen is shown (as an exit message) to a caller whose script
	// failed; "error" when empty. IdleScreen ("idle"), FloodScreen
	// ("flood") and KickScreen ("kicked") likewise end a session that sat
	// idle, flooded the board, or was kicked by the sysop.
	ErrorScreen, IdleScreen, FloodScreen, KickScreen string
	// LuaOptions for the state and its threads; DefaultLuaOptions when zero.
	LuaOptions lua.Options
	// IdleTimeout ends a session that had no input for this long
	// (DefaultIdleTimeout when zero; negative: never).
	IdleTimeout time.Duration
	// ResumeBudget bounds how long a script may run between two waits for
	// input (DefaultResumeBudget when zero).
	ResumeBudget time.Duration
	// ReplayBudget bounds how long the replay of one session's journal
	// may hold the worker in all (DefaultReplayBudget when zero): past it
	// the replay stops and the caller starts over at the menu, as after a
	// divergence. Each step also keeps within ResumeBudget.
	ReplayBudget time.Duration
	// MaxLineBytes bounds one line a caller types (DefaultMaxLineBytes
	// when zero); a longer line is refused and the caller asked again.
	MaxLineBytes int
	// RatePerSecond and RateBurst bound how fast one caller may send
	// (defaults when zero). Past them a line is refused with a warning;
	// a caller who keeps going is disconnected.
	RatePerSecond float64
	RateBurst     int
	// MaxJournaledKeys bounds the keystroke-mode requests a session's
	// journal keeps (DefaultMaxJournaledKeys when zero; keys.go).
	MaxJournaledKeys int
	// HibernateAfter is how long a caller sits at a prompt before their
	// session gives up its coroutine and waits in its journal
	// (DefaultHibernateAfter when zero; negative: never; hibernate.go).
	// Only with Journal.
	HibernateAfter time.Duration
	// Version labels the scripts this table runs, for logs and status.
	Version int
	// Journal keeps a journal of every session in the store, so that
	// sessions survive a restart of the host, an upgrade of the scripts
	// and a move to another host: see journal.go. The replies of a resume
	// are held until Commit has stored its journal: the caller runs Commit
	// when it has no more requests waiting (the host's worker does), so
	// that many callers' prompts cost one durable write.
	Journal bool
	// Logins says how logins and registrations are throttled (see
	// host/handler/throttle).
	Logins throttle.Policy
	// GatewayKey, if set, is the key a gateway of this board (the telnet
	// gateway behind Mongrel2) proves itself with when it reports its
	// caller's address: see peer.go.
	GatewayKey string
	// KeyLogins, if set, checks the key logins of the SSH gateway of this
	// process (see keylogin.go); one Verifier serves every table of the
	// process, so that an assertion is good for one call on any line.
	// Without it every key login is refused.
	KeyLogins *keylogin.Verifier
	// RemoteCallers, if set, checks the RLogin gateway's remote callers
	// (see remotecaller.go), and RemoteEntries names, by remote board
	// (lower case), the door or menu its callers go straight into
	// (db.remote_caller's entry). Without it no caller is a remote one.
	RemoteCallers *keylogin.Verifier
	RemoteEntries map[string]string
	// DoorServers are the door servers of the settings, for door.servers
	// and door.server.
	DoorServers []doorserver.Server
	// ResumeEntry is the global function a replay restarts a logged-in
	// caller at, and replays checkpoints from (DefaultResumeEntry when
	// empty); UpgradedScreen tells a caller their session was restarted
	// on new scripts (DefaultUpgradedScreen when empty).
	ResumeEntry, UpgradedScreen string
	// TimeLimits are the minutes per call and per day by level (none
	// when empty; see timelimit.go and ParseTimeLimits); days start at
	// midnight in TimeZone (time.Local when nil). TimeScreen ("timeout")
	// ends a call whose time is up.
	TimeLimits []TimeLimit
	TimeZone   *time.Location
	TimeScreen string
	// EventsScript, if set and the file exists, declares the sysop's
	// scheduled events (schedule.go); it runs after the main script.
	EventsScript string
	// FTN, if set, is the board's FidoNet side, for the ftn module.
	FTN luaapi.FTNHost
	// Files, if set, is the board's file areas, for the files module.
	Files *files.Library
}

func (c *Config) setDefaults() {
	defaults := []struct {
		field *string
		value string
	}{
		{&c.Entry, "m2bbs"}, {&c.ErrorScreen, "error"}, {&c.IdleScreen, "idle"},
		{&c.FloodScreen, "flood"}, {&c.KickScreen, "kicked"},
		{&c.ResumeEntry, DefaultResumeEntry}, {&c.UpgradedScreen, DefaultUpgradedScreen},
		{&c.TimeScreen, "timeout"},
	}
	for _, d := range defaults {
		if *d.field == "" {
			*d.field = d.value
		}
	}
	if c.LuaOptions == (lua.Options{}) {
		c.LuaOptions = DefaultLuaOptions
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.ResumeBudget <= 0 {
		c.ResumeBudget = DefaultResumeBudget
	}
	if c.ReplayBudget <= 0 {
		c.ReplayBudget = DefaultReplayBudget
	}
	if c.LoadBudget <= 0 {
		c.LoadBudget = DefaultLoadBudget
	}
	if c.MaxLineBytes <= 0 {
		c.MaxLineBytes = DefaultMaxLineBytes
	}
	if c.RatePerSecond <= 0 {
		c.RatePerSecond = DefaultRatePerSecond
	}
	if c.RateBurst <= 0 {
		c.RateBurst = DefaultRateBurst
	}
	if c.MaxJournaledKeys <= 0 {
		c.MaxJournaledKeys = DefaultMaxJournaledKeys
	}
	if c.HibernateAfter == 0 {
		c.HibernateAfter = DefaultHibernateAfter
	}
}

// Deps are the Table's collaborators.
type Deps struct {
	Replier luaapi.Replier
	Screens luaapi.Screens
	Store   store.Store
	Log     *slog.Logger
	// Now is the clock; time.Now when nil. Location is the time zone of
	// door.today (time.Local when nil); Rand, if set, draws door.random's
	// numbers (tests pass a seeded one).
	Now      func() time.Time
	Location *time.Location
	Rand     *rand.Rand
	// Online reports whether a caller is online anywhere in the host (on
	// this table or another); replies to others are dropped. When nil,
	// only this table's callers count.
	Online func(connID string) bool
	// Who lists the callers online across the host, for the callers
	// module; when nil, this table's.
	Who func() []luaapi.OnlineCaller
	// OnLogin, if set, is told when a caller of this table logs in.
	OnLogin func(connID, user string)
	// Watch, if set, lets the sysop's session watch callers (the watch
	// module).
	Watch luaapi.Watcher
	// Throttle, if set, slows down password guessing; when nil, the
	// store's shared counts do, with Config.Logins.
	Throttle luaapi.LoginThrottle
	// HungUp, if set, is told on the table's goroutine when the table
	// hangs up on a caller (their session ended or the script closed the
	// connection), before the hang-up is sent: the host then drops what
	// that caller sent after, instead of starting a new session with it.
	HungUp func(connID string)
	// Background, if set, runs work (a password hash) for connID's
	// session off the table's goroutine, unless ctx is done first, and
	// then calls then on the table's goroutine, after which connID may
	// have no session any more (see offload.go). Without it the work runs
	// in place, holding up the table's other callers.
	Background func(ctx context.Context, connID string, work, then func())
	// Channels, if set, carries the shared module's events between
	// callers (host/handler/live); without it the module's channel calls
	// fail. Wake brings an event to a caller of this table.
	Channels luaapi.Channels
	// Nodes, if set, numbers the callers of the table's line (nodes.go).
	Nodes Nodes
	// Doors, if set, runs native doors (nativedoor.go). Post, needed for
	// them, runs fn on the table's goroutine, then settles connID's
	// session as after a line; it may wait while the table is busy, and
	// reports false, fn dropped, if the table has stopped or ctx ended
	// first.
	Doors *nativedoor.Runner
	Post  func(ctx context.Context, connID string, fn func()) bool
	// Transfers, if set, runs file transfers (transfer.go); Post is
	// needed for them too.
	Transfers *transfer.Runner
}

// Fallback texts for screens that are missing.
const (
	fallbackErrorText = "We had an error, try again later."
	fallbackIdleText  = "You have been idle too long. Call again soon."
	fallbackFloodText = "Too many lines too fast. Call again when you've calmed down."
	fallbackKickText  = "The sysop has ended your call."
)

// Session is one caller's conversation.
type Session struct {
	connID    string
	thread    *lua.LState
	cancel    context.CancelFunc
	conn      *luaapi.Conn
	connValue *lua.LUserData
	log       *slog.Logger
	user      string
	peer      string // the caller's address, as the front end reported it
	preauth   string // the account the caller proved an SSH key of (keylogin.go)
	remote    string // the remote board's caller, "board:user" (remotecaller.go)
	started   time.Time
	lastInput time.Time
	rate      tokenBucket
	keyRate   tokenBucket // keystroke-mode requests (keys.go)
	binRate   tokenBucket // binary stream mode requests (binary.go)
	pageRate  tokenBucket // pages to other callers (mayPage)
	// overrun is set (from a timer's goroutine) to say why the session's
	// context was cancelled.
	overrun atomic.Pointer[string]
	// journal is nil when the table keeps no journals.
	journal *sessionJournal
	// secrets are the passwords the caller typed, kept out of the journal
	// and the log (secrets.go).
	secrets secretSet
	// offload is the host call waiting for a hash, if any; queued are the
	// lines that came meanwhile; inReplay says a replay is running the
	// session (offload.go).
	offload  *offload
	queued   []*m2proto.Request
	inReplay bool
	// listening says the caller waits in shared.ask, where events may
	// resume them; events are those kept for it, and eventsDue says it is
	// in Table.eventsDue (events.go).
	listening bool
	events    []queuedEvent
	eventsDue bool
	// clock is the caller's time limit, if they have one (timelimit.go).
	clock *callClock
	// node is the caller's node number on the line, 0 for none (nodes.go).
	node int
	// stream is the stream the caller's terminal is joined to, if any: a
	// native door (stream.go); doorStarted is when they last started one.
	stream      *joined
	doorStarted time.Time
	// transferStarts bounds how often the caller starts a file transfer;
	// received are the transfers they received, whose folders go when
	// the session does (transfer.go).
	transferStarts tokenBucket
	received       []transfer.Result
	// asleep says the session is hibernated: it has no coroutine, and the
	// caller's next line rebuilds it from its journal (hibernate.go).
	asleep bool
}

// Stats are the Table's counters.
type Stats struct {
	Active       int64 `json:"active"`
	Started      int64 `json:"started"`
	Ended        int64 `json:"ended"`
	Errored      int64 `json:"errored"`
	Disconnected int64 `json:"disconnected"`
	Reaped       int64 `json:"reaped"`
	Kicked       int64 `json:"kicked"`
	Overran      int64 `json:"overran"`
	Throttled    int64 `json:"throttled"`
	LineTooLong  int64 `json:"line_too_long"`
	Malformed    int64 `json:"malformed"`
	UnknownType  int64 `json:"unknown_type"`
	Vanished     int64 `json:"vanished"`
	// StoreErrors counts store faults (disk full, database failing) that
	// scripts' calls met: see faults.go.
	StoreErrors int64 `json:"store_errors"`
	// Events counts the shared module's events given to a caller in
	// shared.ask; EventsDropped those dropped for a caller with too many
	// waiting.
	Events        int64 `json:"events"`
	EventsDropped int64 `json:"events_dropped"`
	// KeysDropped counts keystroke-mode requests dropped (keys.go).
	KeysDropped int64 `json:"keys_dropped"`
	// Asleep is how many of the Active sessions are hibernated now;
	// Hibernated counts hibernations, Woken the callers woken by a line
	// (hibernate.go).
	Asleep     int64 `json:"asleep"`
	Hibernated int64 `json:"hibernated"`
	Woken      int64 `json:"woken"`
}

// Add returns the sum of two Stats.
func (s Stats) Add(o Stats) Stats {
	return Stats{
		Active: s.Active + o.Active, Started: s.Started + o.Started, Ended: s.Ended + o.Ended,
		Errored: s.Errored + o.Errored, Disconnected: s.Disconnected + o.Disconnected,
		Reaped: s.Reaped + o.Reaped, Kicked: s.Kicked + o.Kicked, Overran: s.Overran + o.Overran,
		Throttled: s.Throttled + o.Throttled, LineTooLong: s.LineTooLong + o.LineTooLong,
		Malformed: s.Malformed + o.Malformed, UnknownType: s.UnknownType + o.UnknownType,
		Vanished: s.Vanished + o.Vanished, StoreErrors: s.StoreErrors + o.StoreErrors,
		Events: s.Events + o.Events, EventsDropped: s.EventsDropped + o.EventsDropped,
		KeysDropped: s.KeysDropped + o.KeysDropped,
		Asleep:      s.Asleep + o.Asleep, Hibernated: s.Hibernated + o.Hibernated, Woken: s.Woken + o.Woken,
	}
}

type counters struct {
	active, started, ended, errored, disconnected, reaped, kicked, overran,
	throttled, lineTooLong, malformed, unknownType, vanished, storeErrors atomic.Int64
	events, eventsDropped atomic.Int64
	keysDropped           atomic.Int64

	asleep, hibernated, woken atomic.Int64 // hibernate.go
}

// Caller describes one online caller for the status page.
type Caller struct {
	ConnID string `json:"conn_id"`
	User   string `json:"user,omitempty"`
	// Showing is what the caller was last shown: [screen] or a text line.
	Showing       string `json:"showing"`
	IdleSeconds   int64  `json:"idle_seconds"`
	OnlineSeconds int64  `json:"online_seconds"`
	Version       int    `json:"version"`
	// Worker numbers the Lua state (worker) serving the caller, from 1,
	// among the host's live ones; the host sets it.
	Worker int `json:"worker,omitempty"`
	// Node is the caller's node number on the line (0: none).
	Node int `json:"node,omitempty"`
}

// Table maps conn ids to their sessions.
type Table struct {
	cfg      Config
	deps     Deps
	log      *slog.Logger
	L        *lua.LState
	stop     context.CancelFunc
	entry    *lua.LFunction
	sessions map[string]*Session
	byThread map[*lua.LState]*Session
	counts   counters
	now      func() time.Time

	// streamsOpen counts the streams not yet ended (stream.go).
	streamsOpen sync.WaitGroup

	// running is the session being resumed, for Abort.
	mu      sync.Mutex
	running *Session

	// journals is nil unless Config.Journal is set.
	journals store.Journals
	jcounts  journalCounters
	jbuf     journalScratch // encodes journal entries (journalbuf.go)
	// holding makes Reply keep replies in outbox until release, so that
	// a resume's journal entries are stored before its replies leave;
	// dirty are the sessions whose entries Commit stores.
	holding bool
	outbox  []heldReply
	dirty   []*Session
	// noisy writes the warnings a caller can cause at will, a few per
	// interval (see warnNoisy).
	noisy *lograte.Limiter
	// secretKey keys the placeholders of secrets (secrets.go).
	secretKey []byte
	// requests builds the request tables scripts get, their headers on
	// first read.
	requests *luaapi.Requests
	// eventsDue are the sessions with events kept since the last
	// DeliverEvents (events.go).
	eventsDue []*Session
	// loading is set while the main script loads (startup.go).
	loading *loading
	// dry is set on the table of a DryRun only (dryrun.go).
	dry *dryRun
	// events and eventFns are the events the scripts declare (schedule.go).
	events   []events.Event
	eventFns map[string]*lua.LFunction
	eventLog *slog.Logger // while an event runs, its logger
	// strays are conn ids that sent keys with no session here (keys.go).
	strays map[string]int
	// sharedTexts are the texts hibernated callers were shown, one copy
	// each (hibernate.go).
	sharedTexts map[string]string
}

type journalCounters struct {
	replayed, diverged, entriesReplayed, entriesWritten, bytesWritten,
	writeErrors, checkpoints atomic.Int64
	// What journaling costs the store (JournalStats).
	prompts, transactions, writes, flushes, riders atomic.Int64
}

// heldReply is a reply waiting for its session's journal to be stored:
// a message, or bytes as a script gave them (empty: a hang-up).
type heldReply struct {
	sender string
	ids    []string
	msg    message.Message
	isMsg  bool // msg is to be sent, not body
	body   []byte
}

// New creates a Lua state with the BBS API, runs the main script and
// returns a Table ready for requests.
func New(cfg Config, deps Deps) (*Table, error) {
	cfg.setDefaults()
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	t := &Table{
		cfg:      cfg,
		deps:     deps,
		log:      deps.Log,
		sessions: make(map[string]*Session),
		byThread: make(map[*lua.LState]*Session),
		now:      deps.Now,
		noisy:    lograte.New(deps.Log, 0, 0),

		secretKey: newSecretKey(),
	}
	t.L = lua.NewState(cfg.LuaOptions)
	t.requests = luaapi.NewRequests(t.L)
	// With a context on the state, every thread gets a cancel function of
	// its own: that is how a runaway session is stopped.
	ctx, stop := context.WithCancel(context.Background())
	t.L.SetContext(ctx)
	t.stop = stop
	who := deps.Who
	if who == nil {
		who = t.who
	}
	if cfg.Journal {
		t.journals = deps.Store
	}
	api := luaapi.Deps{
		Screens: deps.Screens, Store: deps.Store, Log: t.loggerFor, Faults: t.storeFault,
		User: t.currentUser, Peer: t.peerOf, Preauthenticated: t.preauthOf, Remote: t.remoteOf, OnLogin: t.loggedIn, OnSecret: t.noteSecret, Who: who, MayPage: t.mayPage,
		Throttle: loginThrottle(cfg, deps), MinPassword: cfg.Logins.MinPassword,
		ScriptsDir: cfg.ScriptsDir, Now: deps.Now, Location: deps.Location, Rand: deps.Rand,
		Offload: t, Startup: t, Channels: deps.Channels, Listen: t.listen, LeftChannel: t.leftChannel, Watch: deps.Watch,
		FTN: cfg.FTN, Files: cfg.Files, ExternalDoors: t, Node: t.nodeOn, Transfers: t,
		DoorServers: cfg.DoorServers, DoorServerRunner: t,
	}
	if len(cfg.TimeLimits) > 0 {
		api.TimeLeft = t.timeLeft // else users.time_left is always nil
	}
	if t.journals != nil {
		api.Recorder = t
		api.Checkpoint = t.checkpoint
	}
	if err := luaapi.New(api).Open(t.L); err != nil {
		t.Close()
		return nil, err
	}
	if err := t.loadMain(); err != nil {
		t.Close()
		return nil, err
	}
	if err := t.loadEvents(); err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// loadMain runs the main script and finds the entry function: the one
// the script returns, else the one it installed with engine.run, else the
// global Config.Entry.
func (t *Table) loadMain() error {
	if t.cfg.ScriptsDir != "" {
		dir := filepath.ToSlash(t.cfg.ScriptsDir)
		pkg := t.L.GetGlobal("package")
		path := dir + "/?.lua;" + dir + "/?/init.lua;" + lua.LVAsString(t.L.GetField(pkg, "path"))
		t.L.SetField(pkg, "path", lua.LString(path))
	}
	fn, err := luaapi.LoadFile(t.L, t.cfg.MainScript)
	if err != nil {
		return fmt.Errorf("load %s: %w", t.cfg.MainScript, err)
	}
	ret, installed, err := t.runMain(fn)
	if err != nil {
		return err
	}
	if entry, ok := ret.(*lua.LFunction); ok {
		t.entry = entry
		return nil
	}
	if installed != nil {
		t.entry = installed
		return nil
	}
	globals := t.L.Get(lua.GlobalsIndex).(*lua.LTable)
	if entry, ok := globals.RawGetString(t.cfg.Entry).(*lua.LFunction); ok {
		t.entry = entry
		return nil
	}
	return fmt.Errorf("%s: no entry function: return one from the script, install it with engine.run(conn, entry) or define global %s(conn, req)", t.cfg.MainScript, t.cfg.Entry)
}

// Close releases the Lua state. Sessions still open are dropped without a
// word to their callers.
func (t *Table) Close() {
	if t.journals != nil {
		t.Commit() // what was handled is stored and answered
	}
	for _, s := range t.sessions {
		t.remove(s)
	}
	t.streamsOpen.Wait() // doors' process groups are gone: see stream.go
	t.stop()
	t.L.Close()
}

// Len is the number of live sessions.
func (t *Table) Len() int { return len(t.sessions) }

// Has reports whether connID has a live session.
func (t *Table) Has(connID string) bool { return t.sessions[connID] != nil }

// Version is the scripts version the table runs (Config.Version).
func (t *Table) Version() int { return t.cfg.Version }

// Stats returns a snapshot of the counters; safe from any goroutine.
func (t *Table) Stats() Stats {
	c := &t.counts
	return Stats{
		Active: c.active.Load(), Started: c.started.Load(), Ended: c.ended.Load(),
		Errored: c.errored.Load(), Disconnected: c.disconnected.Load(),
		Reaped: c.reaped.Load(), Kicked: c.kicked.Load(), Overran: c.overran.Load(),
		Throttled: c.throttled.Load(), LineTooLong: c.lineTooLong.Load(),
		Malformed: c.malformed.Load(), UnknownType: c.unknownType.Load(), Vanished: c.vanished.Load(),
		StoreErrors: c.storeErrors.Load(), Events: c.events.Load(), EventsDropped: c.eventsDropped.Load(),
		KeysDropped: c.keysDropped.Load(),
		Asleep:      c.asleep.Load(), Hibernated: c.hibernated.Load(), Woken: c.woken.Load(),
	}
}

// sessionOn returns the session running on L (or on a coroutine the
// session started), or nil.
func (t *Table) sessionOn(L *lua.LState) *Session {
	for th := L; th != nil; th = th.Parent {
		if s := t.byThread[th]; s != nil {
			return s
		}
	}
	return nil
}

// loggerFor returns the logger of the session running on L, else the
// table's.
func (t *Table) loggerFor(L *lua.LState) *slog.Logger {
	if s := t.sessionOn(L); s != nil {
		return s.log
	}
	if t.eventLog != nil {
		return t.eventLog // an event is running (schedule.go)
	}
	return t.log
}

// currentUser is the name the caller running on L logged in with.
func (t *Table) currentUser(L *lua.LState) string {
	if s := t.sessionOn(L); s != nil {
		return s.user
	}
	return ""
}

// peerOf is the address of the caller running on L.
func (t *Table) peerOf(L *lua.LState) string {
	if s := t.sessionOn(L); s != nil {
		return s.peer
	}
	return ""
}

// loggedIn records who the caller on L is, once the script has checked
// their password.
func (t *Table) loggedIn(L *lua.LState, name string) {
	s := t.sessionOn(L)
	if s == nil || s.user == name {
		return
	}
	s.user = name // s.log's records carry it from now on
	s.log.Info("caller logged in")
	t.startClock(s, true)
	t.record(s, journalLogin(name))
	if t.deps.OnLogin != nil {
		t.deps.OnLogin(s.connID, name)
	}
}

// who lists this table's callers, in the order they called.
func (t *Table) who() []luaapi.OnlineCaller {
	out := make([]luaapi.OnlineCaller, 0, len(t.sessions))
	for _, s := range t.sessions {
		out = append(out, luaapi.OnlineCaller{ConnID: s.connID, User: s.user})
	}
	sort.Slice(out, func(i, j int) bool { return LessConnID(out[i].ConnID, out[j].ConnID) })
	return out
}

// LessConnID orders conn ids (decimal strings) as numbers.
func LessConnID(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// Handle routes one JSON-socket request: a disconnect notice ends the
// caller's session, a "msg" message starts or resumes it. Anything else is
// logged and counted. With Config.Journal, the replies wait for Commit.
func (t *Table) Handle(req *m2proto.Request) {
	if t.journals != nil {
		t.hold() // until Commit
	}
	// The body is decoded once: the disconnect notice is told apart from
	// a caller's line by the decoded value (see isDisconnect).
	data, err := luaapi.DecodeJSON(t.L, req.Body)
	if isDisconnect(req, data, err) {
		t.Disconnect(req.ConnID)
		return
	}
	if err != nil {
		t.counts.malformed.Add(1)
		t.noisy.Warn("malformed message", "conn_id", req.ConnID, "err", err)
		return
	}
	msg, ok := data.(*lua.LTable)
	if body := bytes.TrimSpace(req.Body); !ok || body[0] != '{' {
		t.counts.malformed.Add(1)
		t.noisy.Warn("malformed message: not a JSON object", "conn_id", req.ConnID)
		return
	}
	if isBinary(msg) {
		t.binaryInput(req, msg)
		return
	}
	kind := msg.RawGetString("type")
	keys := kind == lua.LString(message.TypeKeys)
	if kind != lua.LString("msg") && !keys {
		t.counts.unknownType.Add(1)
		t.noisy.Warn("unknown message type", "conn_id", req.ConnID, "type", kind.String())
		return
	}
	line, ok := msg.RawGetString("msg").(lua.LString)
	if !ok {
		t.counts.malformed.Add(1)
		t.noisy.Warn("malformed message: msg is not a string", "conn_id", req.ConnID)
		return
	}
	keyUser := t.takeKeyLogin(req, msg, string(line)) // before the address changes
	remote := t.takeRemoteCaller(req, msg, string(line))
	t.takeGatewayPeer(req, msg)
	s := t.sessions[req.ConnID]
	if keys && !t.admitKeys(s, req.ConnID, len(line)) {
		return
	}
	if keys && s == nil && t.knownStray(req) {
		return
	}
	if !keys {
		t.forgetStray(req.ConnID)
	}
	if s != nil && s.stream != nil {
		if keys || string(line) != "connect" {
			t.streamInput(s, msg) // keys for a door: see stream.go
			return
		}
		s = t.freshCall(s) // a new call never carries on an old one, nor its door
	}
	if s != nil && s.waitingForWork() {
		t.queueLine(s, req) // handled, and admitted, once the hash is done
		return
	}
	if s != nil && !keys && !t.admit(s, len(line)) {
		return
	}
	if s != nil && !keys && string(line) == "connect" {
		s = t.freshCall(s) // a new call never carries on an old one
	}
	var asleep *Session // hibernated: this line wakes them (hibernate.go)
	if s != nil && s.asleep {
		if keys {
			t.dropKeys(req.ConnID, "keys while not in keystroke mode")
			return // as takesKeys would, without waking them
		}
		asleep, s = s, nil
		t.unpark(asleep)
	}
	reqTable := t.requests.New(t.L, req, msg)
	if s == nil && t.journals != nil && (keys || string(line) != "connect") {
		loaded, err := t.loadJournal(req.ConnID)
		if err != nil {
			if asleep != nil {
				t.repark(asleep)
			}
			t.log.Error("the caller's journal could not be read: their line is refused", "conn_id", req.ConnID, "err", err)
			t.askAgain(req, "The board could not find your call just now. Type that again, please.")
			return
		}
		if len(loaded.entries) > 0 && !t.sameAddress(loaded, req) {
			loaded.entries = nil // a new call, whose start replaces the journal
		}
		if asleep != nil && len(loaded.entries) == 0 {
			t.wokeWithoutJournal(asleep)
		}
		if len(loaded.entries) > 0 {
			var res replayResult
			var secrets []string
			if asleep != nil {
				secrets = asleep.secrets.snapshot()
			}
			s, res = t.replay(req.ConnID, loaded, req, secrets)
			if asleep != nil {
				t.carryOver(asleep, s)
			}
			if res != replayDone {
				t.settleJournal(s)
				return // restarted, or gone: this line answered a prompt that is gone
			}
			s.conn.Sender = req.Sender
			s.conn.ScreenLost() // the editor, say, draws itself whole
		}
	}
	if keys && !t.takesKeys(s, req) {
		return
	}
	if s != nil {
		s.lastInput = t.now()
		setColour(s.conn, msg)
		t.journalRequest(s, req, msg)
		t.resume(s, reqTable)
		t.settleJournal(s)
		t.deliverEvents(s)
		return
	}
	s = t.start(req, reqTable, msg, keyUser, remote)
	t.settleJournal(s)
}

// askAgain answers a caller who has no session here with a prompt saying
// why their line was not taken.
func (t *Table) askAgain(req *m2proto.Request, why string) {
	if err := t.SendMessage(req.Sender, []string{req.ConnID}, message.Prompt(why, luaapi.DefaultPromptChar)); err != nil {
		t.log.Warn("ask again", "conn_id", req.ConnID, "err", err)
	}
}

// settleJournal stores what s's last resume journaled, unless s ended.
func (t *Table) settleJournal(s *Session) {
	if s == nil || t.sessions[s.connID] != s {
		return
	}
	if !s.waitingForWork() { // else it waits in a call, not at a prompt
		t.record(s, journal.Entry{Kind: journal.KindPrompt, Label: s.conn.PromptLabel()})
	}
	if t.journaling(s) && len(s.journal.pending) > 0 && !s.journal.dirty {
		s.journal.dirty = true
		t.dirty = append(t.dirty, s)
	}
	if s.journal != nil && s.journal.lost {
		t.letGo(s)
	}
}

// Commit stores the journal entries of every session handled since the
// last Commit in one transaction, then sends the replies held for them.
// The caller (the host's worker) commits when it has no more requests
// waiting, so that many callers' prompts cost one durable write.
func (t *Table) Commit() {
	dirty := t.dirty
	t.dirty = t.dirty[:0]
	var (
		writes []store.JournalWrite
		owners []*Session
	)
	for _, s := range dirty {
		s.journal.dirty = false
		if t.sessions[s.connID] != s || !t.journaling(s) || len(s.journal.pending) == 0 {
			continue
		}
		j := s.journal
		w := store.JournalWrite{ConnID: s.connID, Count: j.next, Entries: j.pending}
		if j.reset {
			w.Reset, w.Count = true, j.resetHeld
		}
		writes = append(writes, w)
		owners = append(owners, s)
	}
	if len(writes) > 0 {
		ctx := journalContext()
		t.countWrites(len(writes))
		errs, err := t.journals.WriteJournals(ctx, writes)
		if err != nil {
			t.countWrites(len(writes))
			errs, err = t.journals.WriteJournals(ctx, writes) // once more: a lock, a blip
		}
		if err != nil {
			t.batchLost(owners, err)
			owners = nil
		}
		for i, s := range owners {
			switch {
			case errs[i] != nil:
				t.jcounts.writeErrors.Add(1)
				t.giveUp(s, errs[i])
				t.letGo(s)
			default:
				t.stored(s)
			}
		}
	}
	t.release()
}

// letGo forgets a session another host took over, without a word to the
// caller (that host answers them) and without touching its journal.
func (t *Table) letGo(s *Session) {
	s.log.Warn("caller taken over by another host: session dropped here")
	t.dropHeldFor(s.connID)
	t.forgetNode(s)
	t.remove(s)
}

// dropHeldFor drops the replies held for connID.
func (t *Table) dropHeldFor(connID string) {
	kept := t.outbox[:0]
	for _, r := range t.outbox {
		ids := r.ids[:0:0]
		for _, id := range r.ids {
			if id != connID {
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			r.ids = ids
			kept = append(kept, r)
		}
	}
	t.outbox = kept
}

// hold keeps replies until release.
func (t *Table) hold() { t.holding = true }

// release sends the replies held since hold.
func (t *Table) release() {
	t.holding = false
	out := t.outbox
	t.outbox = nil
	for _, r := range out {
		if err := t.deliver(r); err != nil {
			t.log.Warn("reply", "err", err, "conn_id", r.ids[0])
		}
	}
	if t.outbox == nil {
		// The next batch's replies go in the same array: a held reply
		// is a few hundred bytes, and a batch holds several.
		clear(out)
		t.outbox = out[:0]
	}
}

// setColour follows a client that says whether it shows colour, with
// "color": true or false in any message, ANSI art, with "ansi", and the
// terminal its gateway says it has ("terminal": luaapi.Conn.SetTerminal).
func setColour(conn *luaapi.Conn, msg *lua.LTable) {
	conn.SetTerminal(msg)
	for _, key := range []string{"color", "colour"} {
		if v, ok := msg.RawGetString(key).(lua.LBool); ok {
			conn.Colour = bool(v)
		}
	}
	if v, ok := msg.RawGetString("ansi").(lua.LBool); ok {
		conn.ANSI = bool(v)
	}
}

// admit applies the per-caller limits to one line of input: a line that is
// too long, or sent too fast, is refused with a word to the caller, who is
// asked the last question again; a caller who keeps flooding is cut off.
func (t *Table) admit(s *Session, lineBytes int) bool {
	if ok, cut := t.spendLine(s, t.now()); !ok {
		if cut {
			return false
		}
		if s.rate.refused == 1 {
			s.log.Warn("caller throttled")
		}
		// Every refused line is answered, or a client that waits for a
		// prompt would wait forever; spendLine's cut-off bounds how many.
		t.refuse(s, "Slow down: that line was ignored.")
		return false
	}
	if lineBytes > t.cfg.MaxLineBytes {
		t.counts.lineTooLong.Add(1)
		s.log.Warn("line too long", "bytes", lineBytes, "max", t.cfg.MaxLineBytes)
		t.refuse(s, fmt.Sprintf("That line was too long (at most %d characters); try again.", t.cfg.MaxLineBytes))
		return false
	}
	return true
}

// ChargeRefused counts lines of connID's caller that were refused before
// they reached the session (the dispatch loop had too many of theirs
// waiting, and answered them itself) against the caller's rate limit, as
// lines sent too fast. It answers nothing more; a caller past the flood
// limit is cut off, as admit would, and ChargeRefused reports that the
// session ended.
func (t *Table) ChargeRefused(connID string, lines int) (ended bool) {
	s := t.sessions[connID]
	if s == nil || lines <= 0 {
		return false
	}
	now := t.now()
	for range lines {
		if _, cut := t.spendLine(s, now); cut {
			return true
		}
	}
	return false
}

// spendLine counts one line of s's caller against their rate limit: ok
// says it was within the limit; cut says the caller is past the flood
// limit, and their session has been ended with the flood screen.
func (t *Table) spendLine(s *Session, now time.Time) (ok, cut bool) {
	if s.rate.take(now, t.cfg.RatePerSecond, t.cfg.RateBurst) {
		return true, false
	}
	t.counts.throttled.Add(1)
	if s.rate.refused > t.cfg.RateBurst {
		s.log.Warn("caller flooded the board: disconnecting", "refused", s.rate.refused)
		t.end(s, t.cfg.FloodScreen, fallbackFloodText)
		return false, true
	}
	return false, false
}

// refuse tells the caller why their line was ignored and asks the last
// question again, so that the client, which waits for a prompt, goes on.
func (t *Table) refuse(s *Session, why string) {
	msg := message.Screen(luaapi.RenderColour(why, s.conn.Colour))
	if err := s.conn.Send(s.conn.Sender, s.connID, msg, ""); err != nil {
		s.log.Warn("send refusal", "err", err)
	}
	// Not in keystroke mode: the old prompt would end it at the edge
	// while the script waits for keys.
	if prompt := s.conn.LastPrompt(); prompt != nil && !s.conn.KeysMode() {
		if err := s.conn.Resend(prompt); err != nil {
			s.log.Warn("ask again", "err", err)
		}
	}
}

// Disconnect drops connID's session after its caller hung up.
func (t *Table) Disconnect(connID string) {
	s := t.sessions[connID]
	if s == nil {
		return
	}
	t.counts.disconnected.Add(1)
	t.dropJournal(s)
	t.remove(s)
	s.log.Info("caller hung up")
}

// ReapIdle ends every session without input for longer than the idle
// timeout, telling its caller so, and keeps the time limits of callers
// who have one (warning them, and ending their call when their time is
// up: timelimit.go); it returns the conn ids of the sessions it ended.
// Then it hibernates the sessions idle for Config.HibernateAfter
// (hibernate.go); hibernated callers are reaped and timed like others.
func (t *Table) ReapIdle() []string {
	now := t.now()
	var reaped []string
	for id, s := range t.sessions {
		if s.offload != nil {
			continue // the board is working for it
		}
		// A caller in a door or a transfer hears no time warnings (they
		// would land in the program's screen or the file's bytes), but
		// their call ends when their time is up, as anywhere, the stream
		// with it (a door's own time was cut to theirs; a transfer's
		// was not). They are ended when idle as anywhere too.
		if s.clock != nil && (s.stream == nil || s.clock.left(now) <= 0) && t.checkTime(s, now) {
			reaped = append(reaped, id)
			continue
		}
		if idle := now.Sub(s.lastInput); t.cfg.IdleTimeout >= 0 && idle > t.cfg.IdleTimeout {
			s.log.Info("session idle too long: ending it", "idle", idle.Round(time.Second))
			t.counts.reaped.Add(1)
			t.end(s, t.cfg.IdleScreen, fallbackIdleText)
			reaped = append(reaped, id)
		}
	}
	t.noteJournals(now)
	t.Hibernate()
	return reaped
}

// Kick ends connID's session on the sysop's word; it reports whether there
// was one.
func (t *Table) Kick(connID string) bool {
	s := t.sessions[connID]
	if s == nil {
		return false
	}
	s.log.Info("caller kicked by the sysop")
	t.counts.kicked.Add(1)
	t.end(s, t.cfg.KickScreen, fallbackKickText)
	return true
}

// Broadcast shows text to every caller online and returns how many.
func (t *Table) Broadcast(text string) int {
	n := 0
	for _, s := range t.sessions {
		msg := message.Screen(luaapi.RenderColour(text, s.conn.Colour))
		if err := s.conn.Send(s.conn.Sender, s.connID, msg, ""); err != nil {
			s.log.Warn("broadcast", "err", err)
			continue
		}
		n++
	}
	return n
}

// Callers describes every caller online.
func (t *Table) Callers() []Caller {
	now := t.now()
	out := make([]Caller, 0, len(t.sessions))
	for _, s := range t.sessions {
		out = append(out, Caller{
			ConnID: s.connID, User: s.user, Showing: s.conn.LastText(),
			IdleSeconds:   int64(now.Sub(s.lastInput) / time.Second),
			OnlineSeconds: int64(now.Sub(s.started) / time.Second),
			Version:       t.cfg.Version,
			Node:          s.node,
		})
	}
	return out
}

// Abort stops the session being resumed right now, if any, for reason; it
// may be called from any goroutine (the host's memory watchdog does).
func (t *Table) Abort(reason string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.running == nil {
		return false
	}
	t.running.overrun.Store(&reason)
	t.running.cancel()
	return true
}

// start creates the caller's coroutine and runs it to its first prompt.
//
// Two entry conventions work: the post's m2bbs(conn, req), resumed with the
// conn and the first request, and the Mongrel2 example's m2bbs(conn), whose
// first act is req = coroutine.yield(): a one-parameter entry is started
// with the conn alone and, if it then waits without having said anything,
// resumed with the first request.
//
// keyUser is the account the caller proved an SSH key of, if any
// (keylogin.go); remote the remote board's caller, if any
// (remotecaller.go).
func (t *Table) start(req *m2proto.Request, reqTable, msg *lua.LTable, keyUser, remote string) *Session {
	s := t.newSession(req.ConnID, req.Sender, req)
	s.preauth, s.remote = keyUser, remote
	setColour(s.conn, msg)
	s.log.Info("session started", "version", t.cfg.Version)
	if s.journal != nil {
		s.journal.lastRequest = journal.EncodeRequest(firstLine(req, msg))
		t.resetJournal(s, journal.Entry{Kind: journal.KindStart, Request: s.journal.lastRequest})
	}
	if t.entry.Proto.NumParameters == 1 && t.entry.Proto.IsVarArg == 0 {
		if t.resume(s, s.connValue) && s.conn.Sent() == 0 && !s.waitingForWork() {
			t.resume(s, reqTable)
		}
		return s
	}
	t.resume(s, s.connValue, reqTable)
	return s
}

// newSession registers a session for connID with a fresh coroutine; req is
// its first request (for the caller's address).
func (t *Table) newSession(connID, sender string, req *m2proto.Request) *Session {
	th, cancel := t.newThread()
	conn := luaapi.NewConn(connID, sender, t)
	now := t.now()
	s := &Session{
		connID:    connID,
		thread:    th,
		cancel:    cancel,
		conn:      conn,
		connValue: luaapi.NewConnValue(t.L, conn),
		peer:      req.Header("REMOTE_ADDR"),
		started:   now,
		lastInput: now,
	}
	s.log = sessionLogger(t.log, s)
	if t.journals != nil {
		s.journal = &sessionJournal{}
	}
	t.sessions[s.connID] = s
	t.byThread[th] = s
	t.claimNode(s)
	t.counts.active.Add(1)
	t.counts.started.Add(1)
	return s
}

// budgetReason starts the reason a script over its resume budget is
// stopped for.
const budgetReason = "the script ran for more than "

// errYieldAcross reports a coroutine that yielded from where gopher-lua
// cannot resume it (an iterator or a metamethod).
var errYieldAcross = errors.New("the script waited for input inside an iterator or metamethod, which cannot be resumed; move the prompt outside it")

// resume runs the session until it waits for input, ends or fails, and
// reports whether it is still waiting. The run is bounded by the resume
// budget.
func (t *Table) resume(s *Session, args ...lua.LValue) (waiting bool) {
	return t.resumeFn(s, t.entry, args...)
}

// resumeFn is resume with the function a fresh coroutine starts with.
func (t *Table) resumeFn(s *Session, fn *lua.LFunction, args ...lua.LValue) (waiting bool) {
	state, err := t.safeResumeFn(s, fn, args)
	return t.settleResume(s, state, err)
}

// settleResume deals with how a resume ended: the session waits, or it
// ended or failed and is gone.
func (t *Table) settleResume(s *Session, state lua.ResumeState, err error) (waiting bool) {
	switch {
	case err != nil:
		if reason := s.overrun.Load(); reason != nil {
			t.counts.overran.Add(1)
			err = fmt.Errorf("%s (%s)", *reason, errorText(err))
		}
		t.fail(s, err)
		return false
	case state == lua.ResumeYield:
		if s.offload != nil && !s.offload.started {
			t.startOffload(s)
		}
		return true
	case !s.thread.Dead:
		t.fail(s, errYieldAcross)
		return false
	default:
		t.finish(s)
		return false
	}
}

// safeResumeFn resumes the thread (starting fn if it is new) under the
// resume budget, turning a Go panic into an error: a broken script must
// end its own session, never the host.
func (t *Table) safeResumeFn(s *Session, fn *lua.LFunction, args []lua.LValue) (state lua.ResumeState, err error) {
	budget := t.cfg.ResumeBudget
	s.listening = false // until the script waits in shared.ask again
	t.mu.Lock()
	t.running = s
	t.mu.Unlock()
	// Abort checks, under t.mu, that s is still running: a timer firing
	// just as the resume returns must not cancel a session now waiting.
	timer := time.AfterFunc(budget, func() {
		t.Abort(budgetReason + budget.String() + " without waiting for the caller")
	})
	defer func() {
		timer.Stop()
		t.mu.Lock()
		t.running = nil
		t.mu.Unlock()
		if r := recover(); r != nil {
			state, err = lua.ResumeError, fmt.Errorf("panic: %v", r)
		}
	}()
	state, err, _ = t.L.Resume(s.thread, fn, args...)
	return state, err
}

// finish ends a session whose script returned: the caller is told to quit
// (if the script did not say goodbye itself) and hung up on.
func (t *Table) finish(s *Session) {
	t.counts.ended.Add(1)
	s.log.Info("session ended", "duration", t.now().Sub(s.started).Round(time.Millisecond))
	t.hangup(s, message.Exit(""))
	t.dropJournal(s)
	t.remove(s)
}

// fail ends a session whose script raised an error: the sysop gets a log
// line with the script's file:line, the caller the error screen.
func (t *Table) fail(s *Session, err error) {
	if s.journal != nil && s.journal.lost {
		t.letGo(s)
		return
	}
	t.counts.errored.Add(1)
	attrs := []any{"err", errorText(err)}
	var apiErr *lua.ApiError
	if errors.As(err, &apiErr) && apiErr.StackTrace != "" {
		attrs = append(attrs, "stack", apiErr.StackTrace)
	}
	s.log.Error("script error", attrs...)
	t.end(s, t.cfg.ErrorScreen, fallbackErrorText)
}

// end shows the caller the named screen as an exit message, hangs up and
// forgets the session.
func (t *Table) end(s *Session, screen, fallback string) {
	text, err := t.deps.Screens.Screen(screen)
	if err != nil {
		text = fallback
	}
	t.hangup(s, message.Exit(luaapi.RenderColour(text, s.conn.Colour)))
	t.dropJournal(s)
	t.remove(s)
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

// hangup sends exit unless the script already sent an exit, then closes
// the caller's connection unless the script already did.
func (t *Table) hangup(s *Session, exit message.Message) {
	if s.conn.Closed() {
		return
	}
	if !s.conn.Exited() {
		if err := s.conn.Send(s.conn.Sender, s.connID, exit, ""); err != nil {
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
	if s.clock != nil {
		t.charge(s, t.now())
	}
	delete(t.sessions, s.connID)
	delete(t.byThread, s.thread)
	if s.cancel != nil {
		s.cancel()
	}
	discardReceived(s)
	t.counts.active.Add(-1)
	if s.asleep {
		t.counts.asleep.Add(-1)
	}
}

// Reply implements luaapi.Replier for the table's conns: replies to conn
// ids of callers no longer online are logged, counted and dropped.
func (t *Table) Reply(sender string, connIDs []string, body []byte) error {
	return t.reply(heldReply{sender: sender, ids: connIDs, body: body})
}

// SendMessage implements luaapi.Replier for the table's conns, as Reply.
func (t *Table) SendMessage(sender string, connIDs []string, m message.Message) error {
	return t.reply(heldReply{sender: sender, ids: connIDs, msg: m, isMsg: true})
}

// reply sends r to those of its callers who are online, or holds it
// until their journals are stored.
func (t *Table) reply(r heldReply) error {
	if run := t.running; run != nil && run.journal != nil && run.journal.replaying {
		if t.dry != nil {
			t.dry.replied(run, r) // the transcript of a dry run
		}
		return nil // the caller saw this before the replay
	}
	live := r.ids // a reply to one caller online, the usual one, as it is
	if len(r.ids) != 1 || !t.online(r.ids[0]) {
		live = r.ids[:0:0]
		for _, id := range r.ids {
			if !t.online(id) {
				t.counts.vanished.Add(1)
				t.log.Warn("reply to a caller who is not online", "conn_id", id)
				continue
			}
			live = append(live, id)
		}
	}
	if len(live) == 0 {
		return nil
	}
	if !r.isMsg && len(r.body) == 0 && t.deps.HungUp != nil {
		for _, id := range live {
			t.deps.HungUp(id)
		}
	}
	r.ids = live
	if t.holding {
		t.outbox = append(t.outbox, r)
		return nil
	}
	return t.deliver(r)
}

// online reports whether the caller on conn id is online: their session
// is on this table, or Deps.Online knows them.
func (t *Table) online(id string) bool {
	return t.sessions[id] != nil || t.deps.Online != nil && t.deps.Online(id)
}

// deliver hands r to the front end.
func (t *Table) deliver(r heldReply) error {
	if r.isMsg {
		return t.deps.Replier.SendMessage(r.sender, r.ids, r.msg)
	}
	return t.deps.Replier.Reply(r.sender, r.ids, r.body)
}

// mayPage is callers.page's limit (luaapi.Deps.MayPage): a caller may page
// luaapi.PageBurst times at once, then once per luaapi.PageEvery. A script
// with no caller (a sysop's scheduled event) is not limited: the sysop
// wrote it.
func (t *Table) mayPage(L *lua.LState) (time.Duration, bool) {
	s := t.sessionOn(L)
	if s == nil {
		return 0, true
	}
	rate := 1 / luaapi.PageEvery.Seconds()
	if s.pageRate.take(t.now(), rate, luaapi.PageBurst) {
		return 0, true
	}
	return s.pageRate.wait(rate), false
}

// tokenBucket limits how fast one caller may send.
type tokenBucket struct {
	tokens  float64
	last    time.Time
	started bool
	// refused counts what was refused since the bucket was last full:
	// only a caller who paused long enough to earn a whole burst back is
	// forgiven, so one who sends steadily a little past the rate (taken
	// and refused in turn) reaches a flood limit as surely as one who
	// sends far past it.
	refused int
}

// take spends a token if there is one, refilling at rate per second up to
// burst.
func (b *tokenBucket) take(now time.Time, rate float64, burst int) bool {
	if !b.started {
		b.tokens, b.last, b.started = float64(burst), now, true
	}
	b.tokens = min(float64(burst), b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens >= float64(burst) {
		b.refused = 0
	}
	if b.tokens < 1 {
		b.refused++
		return false
	}
	b.tokens--
	return true
}

// wait is how long until the bucket, refilled at rate per second, has a
// token again (0 if it has one now).
func (b *tokenBucket) wait(rate float64) time.Duration {
	if b.tokens >= 1 {
		return 0
	}
	return time.Duration((1 - b.tokens) / rate * float64(time.Second))
}
