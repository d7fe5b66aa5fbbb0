package mongrel2

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Defaults used by Render for fields left empty. Start picks free ports
// instead of DefaultPort, DefaultSendSpec and DefaultRecvSpec.
const (
	DefaultPort     = 6767
	DefaultRoute    = "@bbs"
	DefaultSenderID = "m2bbs"
	DefaultSendSpec = "tcp://127.0.0.1:9997"
	DefaultRecvSpec = "tcp://127.0.0.1:9996"
	DefaultProtocol = ProtocolJSON
)

// Handler protocols understood by Mongrel2 1.12: how it encodes the headers
// of the requests it pushes to the handler.
const (
	ProtocolJSON       = "json"
	ProtocolTNetstring = "tnetstring"
)

// serverUUID names the one server in each generated config.sqlite.
const serverUUID = "m2bbs-main"

// ErrBadConfig is wrapped by Config.Validate's errors.
var ErrBadConfig = errors.New("bad mongrel2 config")

// Config describes one Mongrel2 server with one JSON-socket route to one
// handler. The zero value of every field but Dir is usable.
type Config struct {
	// Dir is the working directory and chroot. It holds m2.conf,
	// config.sqlite, logs/, run/ and tmp/, and is created if missing.
	Dir string
	// Port is the TCP port callers connect to; 0 means DefaultPort for
	// Render and a free port for Start.
	Port int
	// ListenAll binds the caller port on 0.0.0.0 instead of 127.0.0.1
	// (Mongrel2's Server bind_addr).
	ListenAll bool
	// Route is the JSON-socket route, "@bbs" when empty.
	Route string
	// SenderID is the handler's send_ident: the first word of every
	// message Mongrel2 pushes to the handler. "m2bbs" when empty.
	SenderID string
	// SendSpec is the ZeroMQ address Mongrel2 binds for requests to the
	// handler (its PUSH; the handler connects a PULL). RecvSpec is the
	// address Mongrel2 binds for replies (its SUB; the handler connects a
	// PUB). Empty means the Default*Spec for Render and a free
	// tcp://127.0.0.1 port for Start.
	SendSpec, RecvSpec string
	// Base64Payload sets the handler's raw_payload=0, so Mongrel2 base64s
	// every reply body itself. Mongrel2 1.12 then sends no NUL after it and
	// the classic client waits forever (see PROTOCOL.md); it is here for
	// experiments only. The default, raw_payload=1, passes bodies through
	// untouched: the host sends base64(JSON)+NUL itself.
	Base64Payload bool
	// Protocol is the handler protocol, ProtocolJSON (default) or
	// ProtocolTNetstring.
	Protocol string
	// HTTPRoutes are URL path prefixes (like "/status") also routed to the
	// handler, for the host's HTTP pages.
	HTTPRoutes []string
	// WebRoot, if set, is a folder (relative to Dir, the chroot) served as
	// static files on the route "/": the web root for browser callers.
	WebRoot string
	// ExtraRoutes are more JSON-socket routes ("@...") to the handler,
	// such as "@bbs" beside "@bbs.1".
	ExtraRoutes []string
	// WebSocketPaths are URL paths (like "/ws") on which browsers open a
	// WebSocket to the handler; each is routed exactly (WebSocketRoute),
	// so that "/ws/1" does not also take "/ws/10".
	WebSocketPaths []string
	// Handlers are more handlers beside the one above (phone lines and
	// the lines directory), each with routes of its own. With two or more
	// handlers, m2.conf says raw_payload=0 for every one, because Debian's
	// m2sh 1.12 crashes (double free) loading two handlers with
	// raw_payload=1; Start then sets raw_payload=1 in config.sqlite after
	// loading (see RawPayloadFix).
	Handlers []Handler
	// MinPing is Mongrel2's limits.min_ping: how long a caller may stay
	// silent before Mongrel2 drops them (without telling the handler).
	// Zero means DefaultMinPing.
	MinPing time.Duration
	// Callers is how many callers Mongrel2 must hold at once, at most
	// MaxCallers; it sizes superpoll.max_fd and superpoll.hot_dividend
	// (see TuningFor). Zero means DefaultCallers.
	Callers int
	// FileLimit is the hard open-file limit Mongrel2 will run under, if
	// known: superpoll.max_fd is cut to it, so that Mongrel2 gets all of it
	// rather than falling back to its soft limit. Start sets it from
	// HardFileLimit when zero; Render leaves max_fd uncut when zero.
	FileLimit int
}

// Handler is one more handler in Config.Handlers.
type Handler struct {
	// Name is its variable in m2.conf: letters, digits and '_', not
	// starting with a digit.
	Name string
	// SenderID is its send_ident.
	SenderID string
	// SendSpec and RecvSpec are as in Config; empty ones get free ports
	// from Start (Render needs them set).
	SendSpec, RecvSpec string
	// Routes are its routes: JSON-socket ('@...') or HTTP ('/...').
	Routes []string
	// WebSocketPaths are as in Config, for this handler.
	WebSocketPaths []string
}

// WebSocketRoute is the Mongrel2 route that takes exactly the URL path
// path (and path?query): path + "()$". Mongrel2 routes are prefixes, the
// longest matching one wins and its pattern (from the first '(') must then
// match the whole path, else the caller gets 404: so '/ws/1()$' takes
// /ws/1 but neither /ws/10 nor /ws/1x, beside '/ws/10()$' or not.
func WebSocketRoute(path string) string { return path + "()$" }

// validWebSocketPath reports whether p is '/' then letters, digits, '/',
// '_' or '-': nothing Mongrel2's route patterns would read as special.
func validWebSocketPath(p string) bool {
	if len(p) < 2 || p[0] != '/' {
		return false
	}
	for i := 1; i < len(p); i++ {
		c := p[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '/' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// RawPayloadFix is the SQL that Start runs on config.sqlite after
// `m2sh load` when the config has several handlers; whoever loads a
// rendered config by hand runs it too (sqlite3 config.sqlite "...").
const RawPayloadFix = "UPDATE handler SET raw_payload = 1"

// DefaultMinPing is longer than the host's default idle timeout (15
// minutes), so that the host, which tells the caller why, ends an idle
// session first. Mongrel2's own default, 120 seconds, would drop a caller
// thinking at a prompt.
const DefaultMinPing = 16 * time.Minute

// withDefaults fills the fields Render needs with the package defaults.
func (c Config) withDefaults() Config {
	if c.Port == 0 {
		c.Port = DefaultPort
	}
	if c.Route == "" {
		c.Route = DefaultRoute
	}
	if c.SenderID == "" {
		c.SenderID = DefaultSenderID
	}
	if c.SendSpec == "" {
		c.SendSpec = DefaultSendSpec
	}
	if c.RecvSpec == "" {
		c.RecvSpec = DefaultRecvSpec
	}
	if c.Protocol == "" {
		c.Protocol = DefaultProtocol
	}
	if c.MinPing <= 0 {
		c.MinPing = DefaultMinPing
	}
	return c
}

// Tuning is the settings that size Mongrel2 for c.Callers callers.
func (c Config) Tuning() Tuning { return TuningFor(c.Callers, c.MinPing, c.FileLimit) }

// BindAddr is the address Mongrel2 binds the caller port on.
func (c Config) BindAddr() string {
	if c.ListenAll {
		return "0.0.0.0"
	}
	return "127.0.0.1"
}

// Validate reports a config m2sh would reject or misread: a bad port, a
// route not starting with '@', or a string that cannot be quoted in m2.conf.
// Empty fields are valid (defaults apply); Dir is not checked.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.Port < 1 || c.Port > 65535 {
		return fmt.Errorf("%w: port %d out of range", ErrBadConfig, c.Port)
	}
	if !strings.HasPrefix(c.Route, "@") || len(c.Route) < 2 {
		return fmt.Errorf("%w: route %q must start with '@'", ErrBadConfig, c.Route)
	}
	if c.Callers < 0 || c.Callers > MaxCallers {
		return fmt.Errorf("%w: %d callers: one Mongrel2 holds 1 to %d", ErrBadConfig, c.Callers, MaxCallers)
	}
	if c.Protocol != ProtocolJSON && c.Protocol != ProtocolTNetstring {
		return fmt.Errorf("%w: protocol %q is neither %q nor %q", ErrBadConfig, c.Protocol, ProtocolJSON, ProtocolTNetstring)
	}
	fields := []struct{ name, val string }{
		{"route", c.Route}, {"sender id", c.SenderID},
		{"send spec", c.SendSpec}, {"recv spec", c.RecvSpec},
	}
	for _, r := range c.HTTPRoutes {
		if !strings.HasPrefix(r, "/") {
			return fmt.Errorf("%w: HTTP route %q must start with '/'", ErrBadConfig, r)
		}
		fields = append(fields, struct{ name, val string }{"HTTP route", r})
	}
	for _, r := range c.ExtraRoutes {
		if !strings.HasPrefix(r, "@") || len(r) < 2 {
			return fmt.Errorf("%w: route %q must start with '@'", ErrBadConfig, r)
		}
		fields = append(fields, struct{ name, val string }{"route", r})
	}
	paths := append([]string(nil), c.WebSocketPaths...)
	for _, h := range c.Handlers {
		paths = append(paths, h.WebSocketPaths...)
	}
	for _, p := range paths {
		if !validWebSocketPath(p) {
			return fmt.Errorf("%w: WebSocket path %q must be '/' then letters, digits, '/', '_' or '-'", ErrBadConfig, p)
		}
	}
	names := map[string]bool{"bbs": true, "main": true, "settings": true, "servers": true}
	for _, h := range c.Handlers {
		if !validName(h.Name) || names[h.Name] {
			return fmt.Errorf("%w: handler name %q is not a fresh identifier", ErrBadConfig, h.Name)
		}
		names[h.Name] = true
		if len(h.Routes) == 0 && len(h.WebSocketPaths) == 0 {
			return fmt.Errorf("%w: handler %s has no route", ErrBadConfig, h.Name)
		}
		fields = append(fields, struct{ name, val string }{"sender id", h.SenderID},
			struct{ name, val string }{"send spec", h.SendSpec}, struct{ name, val string }{"recv spec", h.RecvSpec})
		for _, r := range h.Routes {
			if !strings.HasPrefix(r, "/") && (!strings.HasPrefix(r, "@") || len(r) < 2) {
				return fmt.Errorf("%w: route %q must start with '@' or '/'", ErrBadConfig, r)
			}
			fields = append(fields, struct{ name, val string }{"route", r})
		}
	}
	if c.WebRoot != "" {
		fields = append(fields, struct{ name, val string }{"web root", c.WebRoot})
	}
	for _, f := range fields {
		if strings.ContainsAny(f.val, "'\"\\ \t\r\n\x00") {
			return fmt.Errorf("%w: %s %q contains a quote, backslash or space", ErrBadConfig, f.name, f.val)
		}
	}
	return nil
}

// validName reports whether s is a plain identifier.
func validName(s string) bool {
	if s == "" || ('0' <= s[0] && s[0] <= '9') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// rawPayloadLoaded is the raw_payload value written in m2.conf: with
// several handlers it is 0 (m2sh crashes otherwise) and RawPayloadFix sets
// the wanted 1 after loading.
func (c Config) rawPayloadLoaded() int {
	if c.Base64Payload || len(c.Handlers) > 0 {
		return 0
	}
	return 1
}

// Render returns the m2.conf text for cfg, in m2sh's Python-like syntax,
// with a comment header saying how to load and start it. Empty fields take
// the package defaults; call Validate first for input from users.
//
// The server does not daemonize (server.daemonize=0): whoever runs
// `m2sh start` owns the mongrel2 process and must stop it.
func Render(cfg Config) []byte {
	c := cfg.withDefaults()
	tuning := c.Tuning()
	rawPayload := c.rawPayloadLoaded()
	routes := fmt.Sprintf("'%s': bbs", c.Route)
	for _, r := range append(append([]string(nil), c.ExtraRoutes...), c.HTTPRoutes...) {
		routes += fmt.Sprintf(", '%s': bbs", r)
	}
	for _, p := range c.WebSocketPaths {
		routes += fmt.Sprintf(", '%s': bbs", WebSocketRoute(p))
	}
	var more strings.Builder
	for _, h := range c.Handlers {
		fmt.Fprintf(&more, `
%s = Handler(send_spec='%s',
              send_ident='%s',
              recv_spec='%s',
              recv_ident='',
              raw_payload=%d,
              protocol='%s')
`, h.Name, h.SendSpec, h.SenderID, h.RecvSpec, rawPayload, c.Protocol)
		for _, r := range h.Routes {
			routes += fmt.Sprintf(", '%s': %s", r, h.Name)
		}
		for _, p := range h.WebSocketPaths {
			routes += fmt.Sprintf(", '%s': %s", WebSocketRoute(p), h.Name)
		}
	}
	if c.WebRoot != "" {
		fmt.Fprintf(&more, `
web = Dir(base='%s/', index_file='index.html', default_ctype='text/plain')
`, strings.Trim(c.WebRoot, "/"))
		routes += ", '/': web"
	}
	fix := ""
	if len(c.Handlers) > 0 && !c.Base64Payload {
		fix = fmt.Sprintf(`#
# The handlers say raw_payload=0 because m2sh 1.12 crashes loading two with
# raw_payload=1; right after m2sh load, set it (the classic client needs it):
#   sqlite3 config.sqlite '%s'
`, RawPayloadFix)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# Mongrel2 config for m2bbs, generated; edits are overwritten.
#
# Load and start it from this directory (it is the chroot, and needs
# logs/, run/ and tmp/):
#   m2sh load -config m2.conf -db config.sqlite
#   m2sh start -db config.sqlite -host localhost
# Stop it with: kill $(cat run/mongrel2.pid)
#
# Sized for %d callers: Mongrel2 needs an open-file limit of %d
# (ulimit -n %d before m2sh start, or LimitNOFILE=%d in its systemd
# unit); under a lower hard limit it holds half of its soft limit, less %d.
%s#
# Callers connect to %s:%d and send %s {"type":"msg","msg":"..."} NUL.
# The m2bbs host connects a PULL socket to %s and a PUB socket to %s.

bbs = Handler(send_spec='%s',
              send_ident='%s',
              recv_spec='%s',
              recv_ident='',
              raw_payload=%d,
              protocol='%s')
%s
main = Server(uuid='%s',
              name='main',
              chroot='./',
              access_log='/logs/access.log',
              error_log='/logs/error.log',
              pid_file='/run/mongrel2.pid',
              default_host='localhost',
              bind_addr='%s',
              port=%d,
              hosts=[Host(name='localhost', routes={%s})])

settings = %s

servers = [main]
`,
		tuning.Callers, tuning.MaxFD, tuning.MaxFD, tuning.MaxFD, fdReserve,
		fix, c.BindAddr(), c.Port, c.Route, c.SendSpec, c.RecvSpec,
		c.SendSpec, c.SenderID, c.RecvSpec, rawPayload, c.Protocol, more.String(),
		serverUUID, c.BindAddr(), c.Port, routes, renderSettings(tuning))
	return []byte(b.String())
}
