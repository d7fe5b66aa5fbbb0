package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/events"
	"github.com/m2bbs/m2bbs/host/handler/files"
	"github.com/m2bbs/m2bbs/host/handler/live"
	"github.com/m2bbs/m2bbs/host/handler/nativedoor"
	"github.com/m2bbs/m2bbs/host/handler/nodes"
	"github.com/m2bbs/m2bbs/host/handler/session"
	"github.com/m2bbs/m2bbs/host/handler/store"
	"github.com/m2bbs/m2bbs/host/handler/transfer"
	"github.com/m2bbs/m2bbs/host/message"
	"github.com/m2bbs/m2bbs/host/shared/access"
	"github.com/m2bbs/m2bbs/host/shared/lograte"
	"github.com/m2bbs/m2bbs/host/wire/m2proto"
	"github.com/m2bbs/m2bbs/host/wire/websocket"
)

// Transport carries handler messages between the host and the front end.
// zmqtransport.Transport implements it. Send must be safe for concurrent
// use.
type Transport interface {
	// Messages delivers each message the front end sent, and a
	// FrontEndGoneNote where the front end went away; it is closed when
	// the transport closes.
	Messages() <-chan []byte
	// Send queues one reply message for the front end.
	Send(msg []byte) error
	// Subscribed is closed once the front end listens to replies.
	Subscribed() <-chan struct{}
}

// SubscribeTimeout bounds how long Run holds the first requests back while
// waiting for the front end to subscribe to replies.
const SubscribeTimeout = 5 * time.Second

// Defaults for Config.
const (
	DefaultMaxCallers     = 10000
	DefaultReloadInterval = 250 * time.Millisecond
	DefaultMemoryLimit    = 256 << 20
)

// Config says what the host runs and within which limits.
type Config struct {
	// Session is the configuration of every worker's session table; its
	// Version is set per generation.
	Session session.Config
	// RawFrames sends messages to classic callers as JSON + NUL instead
	// of base64(JSON) + NUL (outbound.go).
	RawFrames bool
	// ScreensDir holds the screens, read into a snapshot per generation.
	ScreensDir string
	// Workers is the number of Lua states; runtime.NumCPU() when zero.
	Workers int
	// MaxCallers bounds the callers online (DefaultMaxCallers when zero):
	// past it a new caller gets the BusyScreen ("busy") and no session.
	MaxCallers int
	BusyScreen string
	// ReloadInterval is how often the scripts and screens are checked for
	// changes (DefaultReloadInterval when zero; negative: never).
	ReloadInterval time.Duration
	// MemoryLimit is the Go heap size past which the scripts running at
	// that moment are stopped (DefaultMemoryLimit when zero).
	MemoryLimit uint64
	// SysopToken, if set, lets requests bearing it ("Authorization:
	// Bearer TOKEN") see who is online, broadcast and kick, from anywhere;
	// without it only sysop tools on the machine itself may (sysop.go).
	SysopToken string
	// WebSocketOrigins says which pages may open WebSockets, besides the
	// board's own on the machine itself (access.Origins).
	WebSocketOrigins access.Origins
	// Line is the phone line this host serves (route lines.Route(Line)),
	// 1 or more, with Deps.Lines the directory; 0 is the classic
	// single-host set-up, with no directory (see lines.go).
	Line int
	// SenderID is the handler's send_ident, the sender of replies that
	// answer no request (the line-down notice); "m2bbs" when empty.
	SenderID string
	// Heartbeat is how often the line's row is written
	// (lines.DefaultHeartbeat when zero); a line whose last heartbeat is
	// older than StaleAfter (lines.DefaultStaleAfter when zero) is down.
	Heartbeat, StaleAfter time.Duration
	// MaxQueuedPerCaller bounds the lines of one caller waiting for their
	// worker (DefaultMaxQueuedPerCaller when zero); WorkerQueue bounds the
	// jobs waiting for one worker (DefaultWorkerQueue when zero). Past
	// either, a line is refused with a word, never waited for.
	MaxQueuedPerCaller, WorkerQueue int
	// HashWorkers is how many password hashes run at once, off the
	// workers (DefaultHashWorkers() when zero; negative: none, each hash
	// runs on its caller's worker, holding up the worker's other callers;
	// see hashing.go).
	HashWorkers int
	// HashNice, if positive, is the niceness (1–19) of the OS threads the
	// hashes run on, each a thread of its own, so that the kernel gives a
	// core to a worker before a hash; zero leaves them at the host's
	// priority. Beware: a hash thread the kernel starves holds up every
	// stop-the-world of the collector (hashing.go).
	HashNice int
	// HashSlice is the scheduler slice of the OS threads long hashes (and
	// QWK packets) run on, each locked to its work meanwhile
	// (DefaultHashSlice when zero; negative: the kernel's own): a thread
	// that wakes on that core waits about that long for it (Linux 6.12 and
	// later, which clamps it to 0.1–100 ms; see hashing.go).
	HashSlice time.Duration
	// DropJournalsBefore, if set, drops at start every session journal
	// last written before it: m2bbs run sets its own start, as its front
	// end started with it and no earlier call survives (frontend_gone.go).
	DropJournalsBefore time.Time
	// FrontEndPIDFile, if set, is Mongrel2's pid file: journals last
	// written before it was (its start) are dropped at start and whenever
	// the front end goes (frontend_cutoff.go).
	FrontEndPIDFile string
	// FrontEndElsewhere says the front end runs on another machine (its
	// handler specs name a remote address): this machine's boot then says
	// nothing of its callers, and does not drop journals
	// (frontend_cutoff.go).
	FrontEndElsewhere bool
	// DoorsDir holds the native doors' node folders (nativedoor.Runner's
	// TempRoot); kept across restarts, it lets a host reap at start what
	// the doors of a host killed with SIGKILL left running. A folder of
	// the host's own in the system's temporary folder when empty.
	DoorsDir string
	// TransfersDir holds the file transfers' private folders
	// (transfer.Config.Root): unfinished runs are removed at start, what
	// callers received kept for those resumed after a restart. A folder
	// of the host's own in the system's temporary folder when empty
	// (removed when the host stops). Without lrzsz
	// installed the board has no transfers.
	TransfersDir string
	// EventTick is how often the host looks for events due
	// (events.DefaultTick when zero).
	EventTick time.Duration
}

// Deps are the host's collaborators.
type Deps struct {
	Store store.Store
	Log   *slog.Logger
	// OnReload, if set, is told of every attempt to reload the scripts:
	// the new version, or the error that kept the old one serving.
	OnReload func(version int, err error)
	// Lines is the directory of phone lines shared by every host of the
	// board; needed when Config.Line is set, and for the lines.Path page.
	Lines store.Lines
	// Directory, if set, is a second connection to the front end: that of
	// the directory handler every host connects to, whose HTTP requests
	// (lines.Path, StatusPath) the host answers too.
	Directory Transport
	// Drain, if set, moves the callers of phone line `line` to line `to`
	// (the sysop's /status/drain, by Drain): the front end holds the
	// line's routes, the line's host detaches its sessions, journals kept,
	// the other line's host rebuilds them, and the routes move. It returns
	// how many callers were moved. Only a process that owns the front end
	// can do this (m2bbs run -lines N).
	Drain func(ctx context.Context, line, to int) (int, error)
	// Events, if set, is where the sysop's scheduled events are claimed
	// and their runs kept (schedule.go); without it the host runs none.
	Events store.Events
	// Now is the events' clock (time.Now when nil).
	Now func() time.Time
	// FTN, if set, reports the FidoNet side (host/handler/ftn's Status)
	// for the sysop's status page.
	FTN func(ctx context.Context) any
	// AdoptLine, if set (with Config.Line and journals), lets this host
	// take over a line whose host went down, with its callers (adopt.go).
	AdoptLine LineAdopter
	// Bell, if set, carries the shared module's events between the
	// phone lines' hosts (a database server's notifications); nil polls
	// the store every live.DefaultPollInterval.
	Bell live.Bell
	// Files, if set, is the board's file areas, whose HTTP links the host
	// serves (files_http.go).
	Files *files.Library
}

// Host connects Lua workers to a transport.
type Host struct {
	cfg       Config
	deps      Deps
	transport Transport
	log       *slog.Logger
	started   time.Time
	ready     chan struct{}

	mu        sync.Mutex // guards current, retired, owners, loadErr, ended and the workers' fields
	current   *generation
	retired   []*generation
	owners    map[string]*owner
	loadErr   string
	versions  int
	reloads   atomic.Int64
	fingerprt string // of the files the current generation was loaded from

	workersWG sync.WaitGroup
	// memory gives hibernated callers' memory back (release.go).
	memory memoryRelease

	badFrames, unsupported, httpRequests, replyErrors, busy, memoryAborts atomic.Int64
	// live carries the shared module's events between callers (live.go);
	// eventsDropped counts those that found a worker's queue full.
	live          *live.Hub
	eventsDropped atomic.Int64
	// ended holds the counters of workers that have been retired and
	// closed (guarded by mu).
	ended session.Stats

	line  lineState
	ws    *websocket.Layer // browsers on Mongrel2 WebSockets (websocket.go)
	admit admission        // what the dispatch loop refuses (admission.go)
	// hashes runs the password hashes (hashing.go).
	hashes *hashPool
	// sysop bounds wrong sysop tokens and rate-limits the log lines of
	// refused sysop actions (sysop.go); the WebSocket layer has its own
	// limiter, so that a flood of one never hides the other.
	sysop sysopGuard
	// pages serves the HTTP requests: the status page, the sysop's
	// actions, the lines directory (http.go).
	pages *http.ServeMux
	// uploads receives the file links' HTTP uploads; downloads counts
	// the downloads being sent (files_http.go).
	uploads   *files.Uploads
	downloads downloadsCounter
	sending   sync.Map // conn id -> the context.CancelFunc of its download
	earlyGone goneBefore
	// adopt is what this host adopted of lines that went down (adopt.go).
	adopt adoption
	// intake counts what the dispatch loop took from the front end, for
	// AwaitTaken (drain.go).
	intake intake
	// sched runs the sysop's events; nil without Deps.Events (schedule.go).
	sched       *events.Scheduler
	schedulerWG sync.WaitGroup
	// watch holds the sysop's watches of callers (watch.go).
	watch watchHub
	// nodes numbers the line's callers; doors runs native doors (nodes.go).
	nodes *nodes.Allocator
	doors *nativedoor.Runner
	// transfers runs file transfers (transfers.go); nil without lrzsz.
	transfers *transfer.Runner
}

// New loads the scripts and screens into a first generation of workers.
// Nothing runs until Run.
func New(transport Transport, cfg Config, deps Deps) (*Host, error) {
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.MaxCallers <= 0 {
		cfg.MaxCallers = DefaultMaxCallers
	}
	if cfg.BusyScreen == "" {
		cfg.BusyScreen = "busy"
	}
	if cfg.ReloadInterval == 0 {
		cfg.ReloadInterval = DefaultReloadInterval
	}
	if cfg.MemoryLimit == 0 {
		cfg.MemoryLimit = DefaultMemoryLimit
	}
	if cfg.HashWorkers == 0 {
		cfg.HashWorkers = DefaultHashWorkers()
	}
	h := &Host{
		cfg: cfg, deps: deps, transport: transport, log: deps.Log,
		started: time.Now(), ready: make(chan struct{}), owners: make(map[string]*owner),
		intake: intake{waits: make(chan intakeWait)},
	}
	h.admit.noisy = lograte.New(deps.Log, 0, 0)
	if cfg.HashWorkers > 0 {
		slice := hashSlice(cfg.HashSlice)
		if slice > 0 {
			if err := probeThreadSlice(); err != nil {
				h.log.Info("hash threads keep the kernel's scheduler slice", "err", err)
				slice = 0
			}
		}
		h.hashes = newHashPool(cfg.HashWorkers, cfg.HashNice, slice)
	}
	h.pages = h.routes()
	h.ws = h.newWebSocketLayer()
	h.initLine()
	h.newHub()
	h.initNodes()
	h.doors = &nativedoor.Runner{TempRoot: cfg.DoorsDir} // its folder is made by the first door
	h.initTransfers()
	fp, err := fingerprint(h.watchedDirs())
	if err != nil {
		return nil, fmt.Errorf("host: %w", err)
	}
	gen, err := h.load()
	if err != nil {
		return nil, fmt.Errorf("host: %w", err)
	}
	h.current, h.fingerprt = gen, fp
	h.sched = h.newScheduler()
	return h, nil
}

// Ready is closed when Run starts serving: the front end has subscribed to
// replies (or SubscribeTimeout passed).
func (h *Host) Ready() <-chan struct{} { return h.ready }

// Run serves messages until ctx is done or the transport closes. It
// returns nil after ctx is cancelled, once it has answered what the front
// end sent before it stopped listening (see stopServing).
func (h *Host) Run(ctx context.Context) error {
	stop := ctx
	// The workers outlive stop until stopServing is done.
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	// The memory watchdog outlives the workers: a script still running
	// at shutdown is watched until it stops.
	memCtx, stopMemory := context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		cancel()
		h.workersWG.Wait()
		if h.live != nil {
			h.live.WaitDepartures() // hang-ups' farewells and seats, before the store closes
		}
		h.schedulerWG.Wait()
		h.watch.closeAll()
		stopMemory()
		h.line.wg.Wait()
		h.adopt.wg.Wait()
		h.nodes.Close() // what the line's nodes wrote is stored
		h.closeTransfers()
		if err := h.doors.Close(); err != nil {
			h.log.Warn("doors folder not removed", "err", err)
		}
	}()
	h.dropJournalsBefore(ctx, h.journalCutoff(time.Time{}))
	h.pruneNodes(ctx)
	h.reapDoors()
	h.mu.Lock()
	h.startWorkers(ctx, h.current)
	h.mu.Unlock()
	go h.watchScripts(ctx)
	go h.watchMemory(memCtx)
	go h.pruneJournals(ctx)
	go h.sweepUploads(ctx)
	if !h.awaitSubscriber(stop) {
		return nil
	}
	close(h.ready)
	h.startAdopting(ctx)
	h.startLine(ctx)
	if h.cfg.Line > 0 {
		h.startHub(ctx)
	}
	h.schedulerWG.Add(1)
	go func() {
		defer h.schedulerWG.Done()
		h.runEvents(ctx)
	}()
	for {
		select {
		case <-stop.Done():
			h.stopServing(ctx)
			return nil
		case msg, ok := <-h.transport.Messages():
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return errors.New("host: transport closed")
			}
			h.handle(ctx, msg)
			h.intake.took(msg)
		case w := <-h.intake.waits:
			h.intake.await(w)
		case msg := <-h.adopt.in:
			h.handle(ctx, msg)
		}
	}
}

// awaitSubscriber waits (bounded) until the front end listens to replies,
// so that the first callers' screens are not lost; it reports false if ctx
// ended first.
func (h *Host) awaitSubscriber(ctx context.Context) bool {
	timer := time.NewTimer(SubscribeTimeout)
	defer timer.Stop()
	select {
	case <-h.transport.Subscribed():
	case <-timer.C:
		h.log.Warn("front end has not subscribed to replies yet; serving anyway", "waited", SubscribeTimeout)
	case <-ctx.Done():
		return false
	}
	return true
}

// handle serves one handler message.
func (h *Host) handle(ctx context.Context, msg []byte) {
	if at, ok := parseFrontEndGone(msg); ok {
		h.frontEndGone(ctx, at)
		return
	}
	req, err := m2proto.ParseRequest(msg)
	if err != nil {
		h.badFrames.Add(1)
		h.admit.noisy.Warn("bad handler message", "err", err, "len", len(msg))
		return
	}
	if h.ws.Serve(ctx, req) {
		return
	}
	if req.IsDisconnect() {
		h.downloadGone(req.ConnID)
	}
	switch {
	case req.IsJSON():
		h.route(ctx, req)
	case req.IsHTTP():
		// Off the dispatch loop: gathering who is online asks every worker.
		go h.serveHTTP(ctx, req, h.transport)
	default:
		h.unsupported.Add(1)
		h.admit.noisy.Warn("unsupported request", "conn_id", req.ConnID, "method", req.Method(), "path", req.Path)
	}
}

// refuseBusy gives a caller the busy signal: an exit with the busy screen,
// then a hang-up, and no session.
func (h *Host) refuseBusy(req *m2proto.Request, gen *generation) {
	h.busy.Add(1)
	h.admit.ended.mark(req.ConnID) // hung up on: what else they sent is dropped
	h.admit.noisy.Warn("board full: busy signal", "conn_id", req.ConnID, "max_callers", h.cfg.MaxCallers)
	text, err := gen.screens.Screen(h.cfg.BusyScreen)
	if err != nil {
		text = "All lines are busy. Call again later."
	}
	if err := h.sendMessage(req.Sender, []string{req.ConnID}, message.Exit(text)); err == nil {
		_ = h.send(req.Sender, []string{req.ConnID}, nil)
	}
}
