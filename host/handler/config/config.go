// Package config reads m2bbs's settings file: a Lua script of plain
// assignments, like the original BBS's config.lua.
//
//	sender_id = 'm2bbs-1'
//	send_spec = 'tcp://127.0.0.1:9997'  -- Mongrel2's send_spec (we PULL)
//	recv_spec = 'tcp://127.0.0.1:9996'  -- Mongrel2's recv_spec (we PUB)
//	db_path   = 'data/bbs.db'
//
// The original's names sub_addr and pub_addr are accepted for send_spec and
// recv_spec, and a file that starts with module 'config' works too. The
// file runs in a bare Lua state (no io, os or require) with a time limit.
package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Config holds m2bbs's settings. Zero values mean "use the default".
type Config struct {
	// SenderID is the handler's ZeroMQ identity (Mongrel2's send_ident).
	SenderID string
	// SendSpec is the address Mongrel2 sends requests on (the handler's
	// send_spec); the host connects a PULL socket to it.
	SendSpec string
	// RecvSpec is the address Mongrel2 receives replies on (the handler's
	// recv_spec); the host connects a PUB socket to it.
	RecvSpec string
	// DBPath is the SQLite database file, or a PostgreSQL database's
	// postgres:// URL (store.IsPostgres).
	DBPath string
	// ScriptsDir holds the Lua scripts; require searches it.
	ScriptsDir string
	// ScreensDir holds the screens, NAME.txt each.
	ScreensDir string
	// MainScript is the script that defines the entry function, relative to
	// ScriptsDir unless absolute.
	MainScript string
	// RawFrames sends raw JSON + NUL to callers instead of base64 + NUL.
	RawFrames bool
	// BcryptCost is the work factor for new password hashes (4–31);
	// 0 means bcrypt's default, 10.
	BcryptCost int
	// Workers is the number of Lua states sessions are spread over (0:
	// one per core).
	Workers int
	// HashWorkers is how many password hashes run at once, off the Lua
	// states (0: one per core but one, at least one; negative: on the
	// Lua states, holding up their other callers).
	HashWorkers int
	// MaxCallers bounds the callers online; past it callers get the busy
	// screen (0: the host's default).
	MaxCallers int
	// IdleTimeout ends sessions without input for this long; ResumeBudget
	// bounds how long a script may run between two prompts (0: defaults).
	IdleTimeout, ResumeBudget time.Duration
	// HibernateAfter is how long a caller sits at a prompt before their
	// session waits in its journal instead of in memory (0: the default;
	// negative: never); see docs/sessions.md.
	HibernateAfter time.Duration
	// MaxLineBytes bounds one line a caller types; RatePerSecond and
	// RateBurst how fast they may send (0: defaults).
	MaxLineBytes  int
	RatePerSecond float64
	RateBurst     int
	// SysopToken lets HTTP requests bearing it see who is online, broadcast
	// and kick; without it only requests from the machine itself may.
	SysopToken string
	// MinPassword is the fewest characters a new password may have (0:
	// any); RegistrationsPerHour bounds the accounts one address may
	// register per hour (0: no bound); LoginsPerAddress is how many login
	// attempts one address may make, at any names, before each further
	// one must wait (0: throttle.DefaultFreePerAddr). See
	// host/handler/throttle.
	MinPassword          int
	RegistrationsPerHour int
	LoginsPerAddress     int
	// WebSocketOrigins is a comma-separated list of origin patterns
	// ("bbs.example.org, *.example.org") whose pages may open WebSockets
	// to the board besides its own (see access.Origins.Check).
	WebSocketOrigins string
	// Mongrel2PIDFile is Mongrel2's pid file (m2bbs host): journals last
	// written before Mongrel2 started are dropped (dispatch.Config.FrontEndPIDFile).
	Mongrel2PIDFile string
	// NoJournal turns off session journals: sessions then live only as
	// long as their host process (see host/handler/session, journal.go).
	NoJournal bool
	// Sync is the database's synchronous setting: "normal" (when empty)
	// or "full" (see store.SyncNormal, store.SyncFull).
	Sync string
	// MemoryLimitMiB is the host's heap limit in MiB, past which running
	// scripts are stopped (0: the host's default).
	MemoryLimitMiB int
	// NewUsersWait makes new users wait at the new level until the sysop
	// approves them (store.Options.NewUsersWait).
	NewUsersWait bool
	// TimeLimits are the minutes per call and per day by level
	// ("20=60/180, 255=0/0", see session.ParseTimeLimits; "": none), and
	// TimeZone the zone whose midnight starts a day ("Local" when empty,
	// or an IANA name such as "Europe/Paris").
	TimeLimits, TimeZone string
	// RLoginBoards are the remote boards whose callers may play this
	// board's doors over RLogin (boards.go; m2bbs run -rlogin-port); nil
	// for none. A pointer, so that a Config stays comparable.
	RLoginBoards *[]RemoteBoard
	// DoorServers are the door servers scripts may send callers to
	// (boards.go; door.server); nil for none.
	DoorServers *[]DoorServer
	// FTN is the settings file's ftn table (FidoNet-technology mail: the
	// board's addresses, uplinks and echoes), as plain Go values: tables
	// become map[string]any or []any, see Table. host/handler/ftn reads it;
	// nil when the file sets none.
	FTN map[string]any
	// Files is the settings file's files table (the file areas), as plain
	// Go values like FTN; host/handler/files reads it; nil when the file
	// sets none.
	Files map[string]any
}

// Defaults are the settings used where neither the file nor a flag says
// otherwise.
var Defaults = Config{
	SenderID:   "m2bbs",
	SendSpec:   "tcp://127.0.0.1:9997",
	RecvSpec:   "tcp://127.0.0.1:9996",
	DBPath:     "data/bbs.db",
	ScriptsDir: "scripts",
	ScreensDir: "screens",
	MainScript: "bbs.lua",

	MinPassword:          8,
	RegistrationsPerHour: 3,
}

// MaxRunTime bounds how long a settings file may run.
const MaxRunTime = 2 * time.Second

// MaxFileBytes bounds the size of a settings file.
const MaxFileBytes = 1 << 20

// keys maps each setting's Lua names to where it is stored.
func (c *Config) keys() map[string]any {
	return map[string]any{
		"sender_id":              &c.SenderID,
		"send_spec":              &c.SendSpec,
		"sub_addr":               &c.SendSpec,
		"recv_spec":              &c.RecvSpec,
		"pub_addr":               &c.RecvSpec,
		"db_path":                &c.DBPath,
		"scripts":                &c.ScriptsDir,
		"screens":                &c.ScreensDir,
		"main_script":            &c.MainScript,
		"raw_frames":             &c.RawFrames,
		"bcrypt_cost":            &c.BcryptCost,
		"workers":                &c.Workers,
		"hash_workers":           &c.HashWorkers,
		"max_callers":            &c.MaxCallers,
		"idle_timeout":           &c.IdleTimeout,
		"resume_budget":          &c.ResumeBudget,
		"hibernate_after":        &c.HibernateAfter,
		"max_line":               &c.MaxLineBytes,
		"rate":                   &c.RatePerSecond,
		"burst":                  &c.RateBurst,
		"sysop_token":            &c.SysopToken,
		"ws_origins":             &c.WebSocketOrigins,
		"no_journal":             &c.NoJournal,
		"min_password":           &c.MinPassword,
		"registrations_per_hour": &c.RegistrationsPerHour,
		"logins_per_address":     &c.LoginsPerAddress,
		"sync":                   &c.Sync,
		"memory_limit":           &c.MemoryLimitMiB,
		"mongrel2_pidfile":       &c.Mongrel2PIDFile,
		"new_users_wait":         &c.NewUsersWait,
		"time_limits":            &c.TimeLimits,
		"time_zone":              &c.TimeZone,
		"rlogin_boards":          &c.RLoginBoards,
		"door_servers":           &c.DoorServers,
		"ftn":                    &c.FTN,
		"files":                  &c.Files,
	}
}

// ErrUnknownSetting is wrapped by errors for names the file sets that m2bbs
// does not know, so typos do not pass silently.
var ErrUnknownSetting = errors.New("unknown setting")

// LoadFile reads the settings file at path over base.
func LoadFile(path string, base Config) (Config, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return base, fmt.Errorf("config: %w", err)
	}
	cfg, err := Parse(path, src, base)
	if err != nil {
		return base, err
	}
	return cfg, nil
}

// Parse runs src (named name in messages) and returns base with the
// settings it assigns.
func Parse(name string, src []byte, base Config) (Config, error) {
	if len(src) > MaxFileBytes {
		return base, fmt.Errorf("config: %s: larger than %d bytes", name, MaxFileBytes)
	}
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase}, {lua.LoadLibName, lua.OpenPackage},
		{lua.StringLibName, lua.OpenString}, {lua.TabLibName, lua.OpenTable}, {lua.MathLibName, lua.OpenMath},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	// Keep module (for module 'config'); drop everything that reaches files.
	for _, unsafe := range []string{"dofile", "loadfile", "load", "loadstring", "require", "print", "collectgarbage"} {
		L.SetGlobal(unsafe, lua.LNil)
	}
	globals := L.Get(lua.GlobalsIndex).(*lua.LTable)
	builtins := make(map[string]bool)
	globals.ForEach(func(k, _ lua.LValue) { builtins[k.String()] = true })

	ctx, cancel := context.WithTimeout(context.Background(), MaxRunTime)
	defer cancel()
	L.SetContext(ctx)
	fn, err := L.Load(bytes.NewReader(src), name)
	if err != nil {
		return base, fmt.Errorf("config: %w", err)
	}
	L.Push(fn)
	if err := L.PCall(0, 0, nil); err != nil {
		return base, fmt.Errorf("config: %w", err)
	}
	settings := globals
	if mod, ok := globals.RawGetString("config").(*lua.LTable); ok {
		settings = mod
	}
	return apply(name, settings, builtins, base)
}

// duration reads a duration: a string like '15m' or a number of seconds.
func duration(v lua.LValue) (time.Duration, error) {
	switch v := v.(type) {
	case lua.LString:
		d, err := time.ParseDuration(string(v))
		if err != nil || d < 0 {
			return 0, fmt.Errorf("%q is not a duration like '90s' or '15m'", string(v))
		}
		return d, nil
	case lua.LNumber:
		if v < 0 {
			return 0, fmt.Errorf("%v seconds is negative", v)
		}
		return time.Duration(float64(v) * float64(time.Second)), nil
	}
	return 0, fmt.Errorf("a %s is not a duration: give a string like '15m' or a number of seconds", v.Type())
}

// ignored are settings of the original config.lua that m2bbs has no use
// for; they are accepted so an old file loads unchanged.
var ignored = map[string]bool{"io_threads": true}

// apply copies the settings in tbl over base. Names in skip (the state's
// own globals) and module's _NAME, _M and _PACKAGE are not settings.
func apply(name string, tbl *lua.LTable, skip map[string]bool, base Config) (Config, error) {
	cfg := base
	targets := cfg.keys()
	var unknown []string
	var errs []error
	tbl.ForEach(func(k, v lua.LValue) {
		key, ok := k.(lua.LString)
		if !ok || skip[string(key)] || ignored[string(key)] {
			return
		}
		switch string(key) {
		case "_NAME", "_M", "_PACKAGE", "config":
			return
		}
		target, known := targets[string(key)]
		if !known {
			unknown = append(unknown, string(key))
			return
		}
		switch dst := target.(type) {
		case *string:
			s, ok := v.(lua.LString)
			if !ok {
				errs = append(errs, fmt.Errorf("%s must be a string, not a %s", key, v.Type()))
				return
			}
			*dst = string(s)
		case *bool:
			b, ok := v.(lua.LBool)
			if !ok {
				errs = append(errs, fmt.Errorf("%s must be true or false, not a %s", key, v.Type()))
				return
			}
			*dst = bool(b)
		case *int:
			n, ok := v.(lua.LNumber)
			if !ok || float64(n) != float64(int(n)) || n < 0 {
				errs = append(errs, fmt.Errorf("%s must be a whole number, not %s", key, v.String()))
				return
			}
			*dst = int(n)
		case *float64:
			n, ok := v.(lua.LNumber)
			if !ok || n < 0 {
				errs = append(errs, fmt.Errorf("%s must be a positive number, not %s", key, v.String()))
				return
			}
			*dst = float64(n)
		case *map[string]any:
			t, ok := v.(*lua.LTable)
			if !ok {
				errs = append(errs, fmt.Errorf("%s must be a table, not a %s", key, v.Type()))
				return
			}
			m, err := Table(t)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
				return
			}
			*dst = m
		case **[]RemoteBoard:
			boards, err := remoteBoards(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
				return
			}
			*dst = &boards
		case **[]DoorServer:
			servers, err := doorServers(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
				return
			}
			*dst = &servers
		case *time.Duration:
			d, err := duration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
				return
			}
			*dst = d
		}
	})
	if cfg.BcryptCost != 0 && (cfg.BcryptCost < 4 || cfg.BcryptCost > 31) {
		errs = append(errs, fmt.Errorf("bcrypt_cost must be between 4 and 31, not %d", cfg.BcryptCost))
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		errs = append(errs, fmt.Errorf("%w: %v", ErrUnknownSetting, unknown))
	}
	if err := errors.Join(errs...); err != nil {
		return base, fmt.Errorf("config: %s: %w", name, err)
	}
	return cfg, nil
}
