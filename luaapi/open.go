package luaapi

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/m2bbs/m2bbs/host/handler/doorserver"
	"github.com/m2bbs/m2bbs/host/handler/files"
	"github.com/m2bbs/m2bbs/host/handler/qwkmail"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// Deps are what the Lua API needs from the host: the store, the screens,
// the clock, and the session table's answers about the caller running on
// a state. Only Store and Screens are needed for scripts to run; the rest
// may be nil or zero.
type Deps struct {
	Screens Screens
	// Store keeps everything the db, users, board, mail and door modules
	// read and write.
	Store store.Store
	// Log gives the logger of the caller running on L (print, failed
	// logins); nothing is logged when nil.
	Log LoggerLookup
	// Faults, if set, is told of store faults scripts' calls meet.
	Faults FaultReporter
	// Recorder, if set, journals the host calls of the db, callers,
	// users, door, board and mail modules, and os.time, os.date, os.clock
	// and math.random, for sessions that survive a restart.
	Recorder Recorder
	// Checkpoint, if set, is session.checkpoint: the caller on L stands
	// where the script's resume function would bring user (see
	// host/handler/session).
	Checkpoint func(L *lua.LState, user string)

	// User is the name the caller running on L logged in with (nobody
	// when nil); Peer is their address.
	User CurrentUser
	Peer func(L *lua.LState) string
	// OnLogin is told of each login (db.auth_user, db.register_user);
	// OnSecret of each password a script hands the db module.
	OnLogin  func(L *lua.LState, name string)
	OnSecret func(L *lua.LState, secret string)
	// Preauthenticated, if set, is the account the caller on L logged in
	// as with an SSH key, as the host verified it ("" for none).
	Preauthenticated func(L *lua.LState) string
	// Remote, if set, describes the caller on L if they are a remote
	// board's caller, as the host verified it (Name "" for anyone else).
	Remote func(L *lua.LState) RemoteCaller
	// DoorServers are the door servers of the settings (door.server),
	// and DoorServerRunner, if set, runs door.server's calls.
	DoorServers      []doorserver.Server
	DoorServerRunner DoorServerRunner
	// Who lists the callers online across the host; nobody when nil.
	Who func() []OnlineCaller
	// MayPage, if set, limits how often the caller on L may page
	// (Callers.MayPage).
	MayPage func(L *lua.LState) (wait time.Duration, ok bool)
	// TimeLeft, if set, is how long the caller on L has left before their
	// time limit (users.time_left).
	TimeLeft func(L *lua.LState) (time.Duration, bool)
	// Watch, if set, lets the sysop's session watch a caller (the watch
	// module); without it the module's functions fail.
	Watch Watcher
	// Throttle, if set, slows down password guessing; MinPassword is the
	// fewest characters a new password may have.
	Throttle    LoginThrottle
	MinPassword int
	// Offload, if set, runs password hashes away from the state's
	// goroutine while the caller's coroutine waits (see Offloader).
	Offload Offloader
	// ExternalDoors, if set, runs the native doors of door.external;
	// Node is the node number of the caller on L (door.node).
	ExternalDoors ExternalDoors
	Node          func(L *lua.LState) int

	// ScriptsDir is the scripts folder (door.list reads its doors/;
	// loadfile and dofile look relative paths up there first).
	ScriptsDir string
	// Startup, if set, takes the entry function engine.run installs and
	// stops a load that would never end (see startup.go).
	Startup Startup
	// Now is the clock (time.Now when nil); Location the time zone of
	// door.today (time.Local when nil); Rand draws door.random's numbers
	// (math/rand/v2's global generator when nil; not safe for concurrent
	// use, so one per Lua state).
	Now      func() time.Time
	Location *time.Location
	Rand     *rand.Rand

	// Channels carries the shared module's events between callers;
	// Listen is told that the caller on L waits in shared.ask,
	// LeftChannel that they left a channel (see Shared). Without Channels,
	// the module's channel calls fail.
	Channels    Channels
	Listen      func(L *lua.LState)
	LeftChannel func(L *lua.LState, channel string)
	// FTN, if set, is the board's FidoNet side (the ftn module).
	FTN FTNHost
	// Files, if set, is the board's file areas (the files module).
	Files *files.Library
	// Transfers, if set, runs the transfer module's file transfers.
	Transfers Transfers
}

// API is the BBS's Lua API for one Lua state, each module wired from the
// same Deps. Create it with New and install it with Open.
type API struct {
	// The modules, as New wired them; a caller may adjust one before Open
	// (say DB.Reserved).
	UI      *UI
	DB      *DB
	Callers *Callers
	Users   *Users
	Door    *Door
	Board   *Board
	Mail    *Mail
	Shared  *Shared
	Watch   *Watch
	SSHKeys *SSHKeys
	FTN     *FTN
	Files   *Files
	QWK     *QWK
	// Transfer is the transfer module (file transfers with lrzsz).
	Transfer *Transfer
	// Mongrel2 and Engine are the 2010 start-up's modules (startup.go).
	Mongrel2 *Mongrel2
	Engine   *Engine

	deps Deps
}

// New wires every module from deps.
func New(deps Deps) *API {
	if deps.Who == nil {
		deps.Who = func() []OnlineCaller { return nil }
	}
	if deps.Log == nil {
		discard := slog.New(slog.DiscardHandler)
		deps.Log = func(*lua.LState) *slog.Logger { return discard }
	}
	if deps.User == nil {
		deps.User = func(*lua.LState) string { return "" }
	}
	a := &API{
		UI: &UI{Screens: deps.Screens},
		DB: &DB{
			Store: deps.Store, Accounts: deps.Store, OnLogin: deps.OnLogin, Throttle: deps.Throttle,
			Peer: deps.Peer, OnSecret: deps.OnSecret, Log: deps.Log, MinPassword: deps.MinPassword,
			Recorder: deps.Recorder, Offload: deps.Offload, Preauth: deps.Preauthenticated,
			Remote: deps.Remote,
		},
		Callers: &Callers{Who: deps.Who, MayPage: deps.MayPage, Recorder: deps.Recorder},
		Users: &Users{
			Accounts: deps.Store, Access: deps.Store, Current: deps.User, Now: deps.Now, Recorder: deps.Recorder,
			TimeLeft: deps.TimeLeft,
		},
		Door: &Door{
			Store: deps.Store, Dir: deps.ScriptsDir, Now: deps.Now, Location: deps.Location, Rand: deps.Rand,
			User: deps.User, Who: deps.Who, Recorder: deps.Recorder, External: deps.ExternalDoors, Node: deps.Node,
			Servers: deps.DoorServers, ServerRunner: deps.DoorServerRunner,
		},
		Mail: &Mail{Store: deps.Store, Recorder: deps.Recorder, Netmail: deps.FTN != nil},
		deps: deps,
	}
	a.Board = &Board{Store: deps.Store, Moderator: a.Users.IsSysop, Recorder: deps.Recorder}
	a.Shared = &Shared{
		Store: deps.Store, Channels: deps.Channels, User: deps.User, Listen: deps.Listen, LeftChannel: deps.LeftChannel,
		Recorder: deps.Recorder, UI: a.UI,
	}
	a.Watch = &Watch{Host: deps.Watch, IsSysop: a.Users.IsSysop, Recorder: deps.Recorder}
	a.SSHKeys = &SSHKeys{Store: deps.Store, Current: deps.User, Recorder: deps.Recorder}
	a.FTN = &FTN{Host: deps.FTN, Mail: deps.Store, User: deps.User, IsSysop: a.Users.IsSysop, Recorder: deps.Recorder}
	a.Files = &Files{Library: deps.Files, Allowed: a.Users.Allowed, IsSysop: a.Users.IsSysop, Current: deps.User,
		Now: deps.Now, Recorder: deps.Recorder}
	a.QWK = &QWK{Service: &qwkmail.Service{Store: deps.Store, Now: deps.Now, Location: deps.Location}, Recorder: deps.Recorder, Offload: deps.Offload, BuildInterval: DefaultBuildInterval, Links: a.Files}
	a.Transfer = &Transfer{Host: deps.Transfers}
	a.Mongrel2 = &Mongrel2{Log: deps.Log}
	a.Engine = &Engine{Startup: deps.Startup, Log: deps.Log}
	// A caller's level is read afresh at each login: the sysop may have
	// changed it (approved them) from elsewhere since it was cached.
	a.DB.OnLogin = func(L *lua.LState, name string) {
		a.Users.forget(name)
		if deps.OnLogin != nil {
			deps.OnLogin(L, name)
		}
	}
	return a
}

// Modules lists the built-in modules in the order they are installed: a
// slice, so that every state is opened alike.
// m2bbs check knows the modules listed here (BuiltinModuleNames).
func (a *API) Modules() []Module {
	return []Module{
		{Name: "ui", Loader: a.UI.Loader},
		{Name: "db", Loader: a.DB.Loader},
		{Name: "menu", Loader: MenuLoader},
		{Name: "session", Loader: sessionLoader(a.deps.Checkpoint)},
		{Name: "callers", Loader: a.Callers.Loader},
		{Name: "users", Loader: a.Users.Loader},
		{Name: "door", Loader: a.Door.Loader},
		{Name: "board", Loader: a.Board.Loader},
		{Name: "mail", Loader: a.Mail.Loader},
		{Name: "shared", Loader: a.Shared.Loader},
		{Name: "watch", Loader: a.Watch.Loader},
		{Name: "sshkeys", Loader: a.SSHKeys.Loader},
		{Name: "ftn", Loader: a.FTN.Loader},
		{Name: "files", Loader: a.Files.Loader},
		{Name: "qwk", Loader: a.QWK.Loader},
		{Name: "transfer", Loader: a.Transfer.Loader},
		{Name: "mongrel2", Loader: a.Mongrel2.Loader},
		{Name: engineModule, Loader: a.Engine.Loader},
	}
}

// Open prepares L for BBS scripts: the conn type, Lua 5.1 compatibility,
// print to the log, the journaled standard functions when there is a
// Recorder, and the built-in modules (Modules) loadable with require.
func (a *API) Open(L *lua.LState) error {
	registerConnType(L)
	setFaultReporter(L, a.deps.Faults)
	if err := OpenCompat(L); err != nil {
		return fmt.Errorf("open compat: %w", err)
	}
	OpenPrint(L, a.deps.Log)
	setScriptsDir(L, a.deps.ScriptsDir)
	setStartup(L, a.deps.Startup)
	a.Engine.installEngineSearcher(L)
	if a.deps.Recorder != nil {
		journalStandardLibrary(L, a.deps.Recorder)
	}
	InstallModules(L, a.Modules())
	// Last, once every Go-side change to the string library is made.
	LockStringLibrary(L)
	return nil
}
