package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/config"
	"github.com/m2bbs/m2bbs/host/handler/dispatch"
	"github.com/m2bbs/m2bbs/host/handler/session"
	"github.com/m2bbs/m2bbs/host/shared/access"
	"github.com/m2bbs/m2bbs/host/shared/keylogin"
)

// defaultConfigFile is read when present and no -config flag is given.
const defaultConfigFile = "config.lua"

// settings are what a serving command runs with.
type settings struct {
	config.Config
	file     string
	logLevel slog.Level
	// localDir is where a host on a PostgreSQL database keeps its own
	// files (localAnchor): run's -data, or pgLocalDir.
	localDir string
	// cpuProfile, if set, is where serve writes a CPU profile of its run.
	cpuProfile string
	// hashNice is the niceness of the password hash threads (-hash-nice;
	// dispatch.Config.HashNice).
	hashNice int
	// hashSlice is the scheduler slice of the password hash threads
	// (-hash-slice; dispatch.Config.HashSlice).
	hashSlice time.Duration
	// line is the phone line served (0: the classic single host); the
	// directory specs, if set, are the shared directory handler's.
	line                                 int
	directorySendSpec, directoryRecvSpec string
	// layoutFlags are -front-end-host and -line-ports; layout, if set,
	// is the lines' layout the host's specs came from (lines.go), which
	// lets it adopt other lines.
	layoutFlags lineLayout
	layout      *lineLayout
	// wsOrigins are the parsed WebSocketOrigins; timeLimits and timeZone
	// the parsed TimeLimits and TimeZone.
	wsOrigins  []string
	timeLimits []session.TimeLimit
	timeZone   *time.Location
	// listenAll says the board takes callers on every interface (run
	// -listen-all): its pages may use any name it is reached by.
	listenAll bool
	// onHost, if set, is told of the host serve creates (for line line);
	// drain, if set, is the host's Deps.Drain.
	onHost func(line int, h *dispatch.Host)
	drain  func(ctx context.Context, line, to int) (int, error)
	// gatewayKey, if set, is the key this process's telnet gateway proves
	// itself with when it reports a caller's address (run -mongrel2).
	gatewayKey string
	// keyLogins, if set, checks the key logins of this process's SSH
	// gateway (run): every host of the process shares it.
	keyLogins *keylogin.Verifier
	// remoteCallers, if set, checks the remote boards' callers of this
	// process's RLogin gateway (run -rlogin-port), and remoteEntries
	// names where each board's callers go (rlogin.go).
	remoteCallers *keylogin.Verifier
	remoteEntries map[string]string
}

// parseSettings reads the settings of command name: defaults, then the
// settings file, then the flags in args. extra registers the command's
// own flags.
func parseSettings(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (*settings, error) {
	s := &settings{Config: config.Defaults, logLevel: slog.LevelInfo}
	// The first pass finds the settings file, the second lets flags
	// override what the file says.
	if err := s.flagSet(name, stderr, extra).Parse(args); err != nil {
		return nil, err
	}
	file, explicit := s.file, s.file != ""
	if !explicit {
		file = defaultConfigFile
	}
	loaded, err := config.LoadFile(file, config.Defaults)
	switch {
	case err == nil:
		s.Config = loaded
	case explicit || !errors.Is(err, fs.ErrNotExist):
		return nil, err
	}
	if err := s.flagSet(name, stderr, extra).Parse(args); err != nil {
		return nil, err
	}
	if s.SysopToken == "" {
		s.SysopToken = os.Getenv("M2BBS_SYSOP_TOKEN")
	}
	if err := checkToken(name, s.SysopToken); err != nil {
		return nil, err
	}
	if s.wsOrigins, err = access.ParsePatterns(s.WebSocketOrigins); err != nil {
		return nil, err
	}
	if s.timeLimits, s.timeZone, err = parseTimeSettings(s.TimeLimits, s.TimeZone); err != nil {
		return nil, err
	}
	if !filepath.IsAbs(s.MainScript) {
		s.MainScript = filepath.Join(s.ScriptsDir, s.MainScript)
	}
	return s, nil
}

// flagSet binds the shared flags to s, with s's current values as defaults.
func (s *settings) flagSet(name string, stderr io.Writer, extra func(*flag.FlagSet)) *flag.FlagSet {
	fs := flag.NewFlagSet("m2bbs "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&s.file, "config", s.file, "settings file in Lua (default ./"+defaultConfigFile+" when present)")
	fs.StringVar(&s.SenderID, "sender-id", s.SenderID, "handler sender id (Mongrel2's send_ident)")
	fs.StringVar(&s.SendSpec, "send-spec", s.SendSpec, "Mongrel2's send_spec: where the host PULLs requests")
	fs.StringVar(&s.RecvSpec, "recv-spec", s.RecvSpec, "Mongrel2's recv_spec: where the host PUBlishes replies")
	fs.StringVar(&s.DBPath, "db", s.DBPath, "SQLite database file, or a PostgreSQL database's postgres:// URL (docs/postgresql.md)")
	fs.StringVar(&s.ScriptsDir, "scripts", s.ScriptsDir, "folder of Lua scripts")
	fs.StringVar(&s.ScreensDir, "screens", s.ScreensDir, "folder of screens (NAME.txt)")
	fs.StringVar(&s.MainScript, "main", s.MainScript, "main script, relative to -scripts")
	fs.BoolVar(&s.RawFrames, "raw", s.RawFrames, "send raw JSON + NUL to callers instead of base64 + NUL")
	fs.IntVar(&s.BcryptCost, "bcrypt-cost", s.BcryptCost, "bcrypt work factor for new passwords, 4-31 (0: 10)")
	fs.IntVar(&s.Workers, "workers", s.Workers, "Lua states to spread sessions over (0: one per core; 1: all on one, for old scripts that keep state in module-level tables)")
	fs.IntVar(&s.HashWorkers, "hash-workers", s.HashWorkers, "password hashes run at once, off the Lua states (0: cores - 1, at least 1; <0: on them)")
	fs.DurationVar(&s.hashSlice, "hash-slice", s.hashSlice, "scheduler slice of the threads running long password hashes (5ms of CPU or more, as at the default cost): a prompt's thread waking on that core gets in after about that long (Linux 6.12+, clamped to 100µs-100ms; 0: 100µs; <0: the kernel's)")
	fs.IntVar(&s.hashNice, "hash-nice", s.hashNice, "niceness of the password hash threads, 1-19, so that prompts go first; a starved hash thread stalls the host's garbage collections (0: the host's own priority)")
	fs.IntVar(&s.MaxCallers, "max-callers", s.MaxCallers, "callers online at most; more get the busy screen (0: 10000)")
	fs.DurationVar(&s.IdleTimeout, "idle-timeout", s.IdleTimeout, "end sessions idle this long (0: 15m)")
	fs.DurationVar(&s.HibernateAfter, "hibernate-after", s.HibernateAfter, "free the memory of callers idle at a prompt this long; their next line rebuilds them from their journal (0: 30s; <0: never; never with -no-journal)")
	fs.DurationVar(&s.ResumeBudget, "resume-budget", s.ResumeBudget, "longest a script may run between prompts (0: 2s)")
	fs.IntVar(&s.MaxLineBytes, "max-line", s.MaxLineBytes, "longest line a caller may type, in bytes (0: 4096)")
	fs.Float64Var(&s.RatePerSecond, "rate", s.RatePerSecond, "lines per second a caller may send (0: 10)")
	fs.IntVar(&s.RateBurst, "burst", s.RateBurst, "lines a caller may send in a burst (0: 20)")
	fs.Func("sysop-token", "`TOKEN` (16+ characters) for the sysop's HTTP actions, needed by -listen-all; other users can read a flag in ps: prefer $M2BBS_SYSOP_TOKEN or config.lua's sysop_token (none: sysop tools on this machine only)",
		func(v string) error { s.SysopToken = v; return nil })
	fs.StringVar(&s.WebSocketOrigins, "ws-origins", s.WebSocketOrigins, "origins besides the board's own whose pages may open WebSockets, comma-separated patterns (bbs.example.org,*.example.org)")
	fs.IntVar(&s.MinPassword, "min-password", s.MinPassword, "fewest characters a new password may have (0: any)")
	fs.IntVar(&s.RegistrationsPerHour, "registrations-per-hour", s.RegistrationsPerHour, "new accounts one address may register per hour (0: no bound)")
	fs.IntVar(&s.LoginsPerAddress, "logins-per-address", s.LoginsPerAddress, "login attempts one address may make, at any names, before pauses; an attempt counts until it succeeds (0: 10)")
	fs.BoolVar(&s.NoJournal, "no-journal", s.NoJournal, "keep no session journals: callers are dropped when the host stops")
	fs.StringVar(&s.Sync, "sync", s.Sync, "database sync: normal (a power cut may lose the last commits) or full (loses none; slower writes) (default normal)")
	fs.IntVar(&s.MemoryLimitMiB, "memory-limit", s.MemoryLimitMiB, "host heap in MiB past which running scripts are stopped (0: 256)")
	fs.TextVar(&s.logLevel, "log-level", s.logLevel, "log level: DEBUG, INFO, WARN or ERROR")
	fs.BoolVar(&s.NewUsersWait, "new-users-wait", s.NewUsersWait, "new users wait at the new level until the sysop approves them")
	fs.StringVar(&s.TimeLimits, "time-limits", s.TimeLimits, "time per call and per day by level, LEVEL=PERCALL/PERDAY in minutes or durations, 0 for none (\"0=60/120,255=0/0\"; default: no limits)")
	fs.StringVar(&s.TimeZone, "time-zone", s.TimeZone, "time zone whose midnight starts a day for time limits (\"Local\" or an IANA name; default Local)")
	fs.StringVar(&s.cpuProfile, "cpuprofile", s.cpuProfile, "write a CPU profile of the host to this file (written at shutdown)")
	if extra != nil {
		extra(fs)
	}
	return fs
}

// origins is which pages may open WebSockets to the board: those listed
// in -ws-origins, and its own, under any name with -listen-all and
// otherwise only under a loopback name or an IP address (against DNS
// rebinding; see access.Origins).
func (s *settings) origins() access.Origins {
	return access.Origins{Patterns: s.wsOrigins, AnyName: s.listenAll}
}

// logger returns the structured logger the commands write to w.
func (s *settings) logger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: s.logLevel}))
}
