package ftn

import (
	"cmp"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/m2bbs/m2bbs/host/ftn/pkt"
	"github.com/m2bbs/m2bbs/host/handler/config"
)

// Settings are the sysop's FTN settings: the settings file's ftn table.
type Settings struct {
	// Addresses are the board's FTN addresses; the first is its main one.
	Addresses []pkt.Addr
	// Uplinks are the systems the board exchanges mail with.
	Uplinks []Uplink
	// Echoes map echo area tags to local areas.
	Echoes []Echo
	// Dir is the FTN folder: binkd's config, inbound, outbound, the
	// staging and bad folders (default: "ftn" beside the database).
	Dir string
	// Binkd is the mailer's program (default "binkd"); BinkdPort the port
	// it listens on for binkp (default 24554; -1: no server, calls out
	// only). BindAddr is the address it listens on (default 127.0.0.1).
	Binkd     string
	BinkdPort int
	BindAddr  string
	// Interval is how often the inbound is tossed and new mail scanned
	// (default 30s); PollEvery how often uplinks are polled (default 1h;
	// 0 after "poll = false": never, only on demand).
	Interval, PollEvery time.Duration
	// SystemName, SysopName and Location are what binkd tells other
	// systems; Origin is the origin line's text (default SystemName).
	SystemName, SysopName, Location, Origin string
	// Charset is the CHRS of exported mail (default "UTF-8 4"; "CP437 2"
	// for old software).
	Charset string
	// Domain is the network's domain for binkd (default "fidonet").
	Domain string
	// KeepTossed moves tossed packets and bundles into the tossed folder
	// instead of deleting them (for a sysop looking into a problem; the
	// folder is not emptied by m2bbs).
	KeepTossed bool
}

// Uplink is a system the board exchanges mail with.
type Uplink struct {
	Addr pkt.Addr
	// Host and Port are where its binkp mailer listens (port default 24554).
	Host string
	Port int
	// SessionPassword is binkp's session password; PacketPassword the
	// packet header's password (default: none; at most 8 bytes).
	SessionPassword, PacketPassword Secret
}

// Echo is an echo area: its tag in the network, its local area, and the
// uplinks that carry it (all of them when Uplinks is empty). A board on
// two networks names each echo's uplinks, so that no echo leaks into the
// other network; an echo's mail is tossed only from its uplinks.
type Echo struct {
	Tag, Area string
	Uplinks   []pkt.Addr
}

// Carries reports whether uplink a carries the echo.
func (e Echo) Carries(a pkt.Addr) bool {
	if len(e.Uplinks) == 0 {
		return true
	}
	for _, u := range e.Uplinks {
		if u == a {
			return true
		}
	}
	return false
}

// Limits of the settings.
const (
	// MaxUplinks, MaxEchoes and MaxAddresses bound the settings' lists.
	MaxUplinks   = 100
	MaxEchoes    = 2000
	MaxAddresses = 16
	// MaxTagLen is the longest echo tag.
	MaxTagLen = 60
	// MinInterval is the shortest toss/scan interval and poll period.
	MinInterval = 100 * time.Millisecond
)

// ErrNotConfigured means the settings file has no ftn table.
var ErrNotConfigured = errors.New("ftn: not configured (the settings file has no ftn table; see docs/fidonet.md)")

// ParseSettings reads the ftn table of the settings file; dbPath places
// the default FTN folder. A nil table is ErrNotConfigured.
func ParseSettings(t map[string]any, dbPath string) (Settings, error) {
	if t == nil {
		return Settings{}, ErrNotConfigured
	}
	r := reader{config.Fields{T: t}}
	s := Settings{
		Dir:        cmp.Or(r.Str("dir"), filepath.Join(filepath.Dir(dbPath), "ftn")),
		Binkd:      cmp.Or(r.Str("binkd"), "binkd"),
		BinkdPort:  r.int("binkd_port", 24554),
		BindAddr:   cmp.Or(r.Str("bind"), "127.0.0.1"),
		Interval:   r.duration("interval", 30*time.Second),
		PollEvery:  r.duration("poll", time.Hour),
		SystemName: cmp.Or(r.Str("system"), "m2bbs"),
		SysopName:  cmp.Or(r.Str("sysop"), "Sysop"),
		Location:   cmp.Or(r.Str("location"), "Somewhere"),
		Origin:     r.Str("origin"),
		Charset:    cmp.Or(r.Str("charset"), "UTF-8 4"),
		Domain:     cmp.Or(r.Str("domain"), "fidonet"),
		KeepTossed: r.Bool("keep_tossed"),
	}
	s.Origin = cmp.Or(s.Origin, s.SystemName)
	for _, a := range r.strs("address") {
		addr, err := pkt.ParseAddr(a)
		if err != nil {
			r.Errs = append(r.Errs, fmt.Errorf("address: %w", err))
			continue
		}
		s.Addresses = append(s.Addresses, addr)
	}
	for i, u := range r.tables("uplinks") {
		s.Uplinks = append(s.Uplinks, r.uplink(i+1, u))
	}
	if err := ownPacketPasswords(s.Uplinks); err != nil {
		r.Errs = append(r.Errs, err)
	}
	s.Echoes = r.echoes(s.Uplinks)
	if len(s.Addresses) == 0 {
		r.Errs = append(r.Errs, errors.New("address: the board's FTN address is missing (address = 'zone:net/node')"))
	}
	if len(s.Addresses) > MaxAddresses || len(s.Uplinks) > MaxUplinks || len(s.Echoes) > MaxEchoes {
		r.Errs = append(r.Errs, fmt.Errorf("at most %d addresses, %d uplinks and %d echoes", MaxAddresses, MaxUplinks, MaxEchoes))
	}
	if s.Interval < MinInterval || (s.PollEvery != 0 && s.PollEvery < MinInterval) {
		r.Errs = append(r.Errs, fmt.Errorf("interval and poll must be at least %v", MinInterval))
	}
	if !pkt.KnownCharset(s.Charset) {
		r.Errs = append(r.Errs, fmt.Errorf("charset %q: not one m2bbs knows (UTF-8 4, CP437 2, LATIN-1 2, ...)", s.Charset))
	}
	r.Unknown()
	if err := errors.Join(r.Errs...); err != nil {
		return Settings{}, fmt.Errorf("ftn settings: %w", err)
	}
	return s, nil
}

// EchoByTag returns the echo of a tag (any case).
func (s *Settings) EchoByTag(tag string) (Echo, bool) {
	for _, e := range s.Echoes {
		if strings.EqualFold(e.Tag, tag) {
			return e, true
		}
	}
	return Echo{}, false
}

// EchoByArea returns the echo of a local area (any case).
func (s *Settings) EchoByArea(area string) (Echo, bool) {
	for _, e := range s.Echoes {
		if strings.EqualFold(e.Area, area) {
			return e, true
		}
	}
	return Echo{}, false
}

// EchoUplinks returns the uplinks that carry echo e.
func (s *Settings) EchoUplinks(e Echo) []Uplink {
	var out []Uplink
	for _, u := range s.Uplinks {
		if e.Carries(u.Addr) {
			out = append(out, u)
		}
	}
	return out
}

// Uplink returns the uplink of that address (points compared too).
func (s *Settings) Uplink(a pkt.Addr) (Uplink, bool) {
	for _, u := range s.Uplinks {
		if u.Addr == a {
			return u, true
		}
	}
	return Uplink{}, false
}

// Ours reports whether a is one of the board's addresses.
func (s *Settings) Ours(a pkt.Addr) bool {
	for _, o := range s.Addresses {
		if o == a {
			return true
		}
	}
	return false
}

// RouteNetmail returns the uplink netmail to a goes to: that uplink if a
// is one, else the first uplink in a's zone, else the first uplink.
func (s *Settings) RouteNetmail(a pkt.Addr) (Uplink, bool) {
	if u, ok := s.Uplink(a); ok {
		return u, true
	}
	if u, ok := s.Uplink(a.Boss()); ok {
		return u, true
	}
	for _, u := range s.Uplinks {
		if u.Addr.Zone == a.Zone {
			return u, true
		}
	}
	if len(s.Uplinks) > 0 {
		return s.Uplinks[0], true
	}
	return Uplink{}, false
}

// reader reads a settings table, collecting errors (config.Fields).
type reader struct{ config.Fields }

// int reads a whole number, def when absent.
func (r *reader) int(key string, def int) int {
	v, ok := r.Get(key)
	if !ok {
		return def
	}
	n, ok := v.(float64)
	if !ok || n != float64(int(n)) || n < -1 || n > 65535 {
		r.Errs = append(r.Errs, fmt.Errorf("%s must be a port number", key))
		return def
	}
	return int(n)
}

// duration reads "15m" or seconds; false means 0 (never).
func (r *reader) duration(key string, def time.Duration) time.Duration {
	v, ok := r.Get(key)
	if !ok {
		return def
	}
	switch v := v.(type) {
	case bool:
		if !v {
			return 0
		}
		return def
	case float64:
		if v > 0 {
			return time.Duration(v * float64(time.Second))
		}
	case string:
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			return d
		}
	}
	r.Errs = append(r.Errs, fmt.Errorf("%s must be a duration like '30s' or a number of seconds", key))
	return def
}

// strs reads a string or a list of strings.
func (r *reader) strs(key string) []string {
	v, ok := r.Get(key)
	if !ok {
		return nil
	}
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				r.Errs = append(r.Errs, fmt.Errorf("%s must list strings", key))
				return nil
			}
			out = append(out, s)
		}
		return out
	}
	r.Errs = append(r.Errs, fmt.Errorf("%s must be a string or a list of them", key))
	return nil
}

// tables reads a list of tables.
func (r *reader) tables(key string) []map[string]any {
	v, ok := r.Get(key)
	if !ok {
		return nil
	}
	list, ok := v.([]any)
	var out []map[string]any
	for _, e := range list {
		m, isMap := e.(map[string]any)
		if !isMap {
			ok = false
			break
		}
		out = append(out, m)
	}
	if !ok {
		r.Errs = append(r.Errs, fmt.Errorf("%s must be a list of tables", key))
		return nil
	}
	return out
}

// uplink reads the n-th uplink's table.
func (r *reader) uplink(n int, t map[string]any) Uplink {
	ur := reader{config.Fields{T: t}}
	u := Uplink{
		Host:            ur.Str("host"),
		Port:            ur.int("port", 24554),
		SessionPassword: Secret(ur.Str("password")),
		PacketPassword:  Secret(ur.Str("packet_password")),
	}
	a, err := pkt.ParseAddr(ur.Str("address"))
	if err != nil {
		ur.Errs = append(ur.Errs, fmt.Errorf("address: %w", err))
	}
	u.Addr = a
	if u.Host == "" {
		ur.Errs = append(ur.Errs, errors.New("host is missing"))
	}
	if strings.ContainsAny(u.Host+u.SessionPassword.Reveal()+u.PacketPassword.Reveal(), " \t\r\n\"#;") {
		ur.Errs = append(ur.Errs, errors.New("host and passwords may hold no spaces, quotes, '#' or ';'"))
	}
	if len(u.PacketPassword) > pkt.PasswordBytes {
		ur.Errs = append(ur.Errs, fmt.Errorf("packet_password: at most %d bytes", pkt.PasswordBytes))
	}
	ur.Unknown()
	for _, err := range ur.Errs {
		r.Errs = append(r.Errs, fmt.Errorf("uplinks[%d]: %w", n, err))
	}
	return u
}

// echoes reads echoes: { TAG = 'area', TAG = { area = 'area', uplinks =
// { 'zone:net/node', ... } }, ... }, or a list of { tag = .., area = ..,
// uplinks = .. }.
func (r *reader) echoes(uplinks []Uplink) []Echo {
	v, ok := r.Get("echoes")
	if !ok {
		return nil
	}
	var out []Echo
	switch v := v.(type) {
	case map[string]any:
		for tag, e := range v {
			if area, ok := e.(string); ok {
				out = append(out, Echo{Tag: tag, Area: area})
				continue
			}
			m, ok := e.(map[string]any)
			if !ok {
				r.Errs = append(r.Errs, fmt.Errorf("echoes[%q] must name a local area, or be { area = .., uplinks = .. }", tag))
				continue
			}
			m["tag"] = tag
			out = append(out, r.echo(m))
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Tag < out[j].Tag })
	case []any:
		for _, e := range v {
			m, _ := e.(map[string]any)
			out = append(out, r.echo(m))
		}
	default:
		r.Errs = append(r.Errs, errors.New("echoes must be a table: { TAG = 'area' }"))
	}
	tags, areas := make(map[string]bool, len(out)), make(map[string]string, len(out))
	for _, e := range out {
		// One echo per area and per tag: the scanner exports an area's
		// posts to one echo only, so a second echo's posts (another
		// network's) would be answered into the first.
		if tag := strings.ToUpper(e.Tag); tags[tag] {
			r.Errs = append(r.Errs, fmt.Errorf("echo %q is given twice", e.Tag))
		} else {
			tags[tag] = true
		}
		if area := strings.ToLower(e.Area); areas[area] != "" {
			r.Errs = append(r.Errs, fmt.Errorf("echoes %q and %q both name the local area %q: give each echo an area of its own", areas[area], e.Tag, e.Area))
		} else if area != "" {
			areas[area] = e.Tag
		}
		if e.Tag == "" || len(e.Tag) > MaxTagLen || strings.ContainsAny(e.Tag, " \t\r\n\x00\x01") || e.Area == "" {
			r.Errs = append(r.Errs, fmt.Errorf("echo %q -> %q: a tag of 1 to %d bytes without spaces, and a local area", e.Tag, e.Area, MaxTagLen))
		}
		for _, a := range e.Uplinks {
			known := false
			for _, u := range uplinks {
				known = known || u.Addr == a
			}
			if !known {
				r.Errs = append(r.Errs, fmt.Errorf("echo %q: %s is not one of the uplinks", e.Tag, a))
			}
		}
	}
	return out
}

// echo reads one echo's table: tag, area, uplinks.
func (r *reader) echo(m map[string]any) Echo {
	er := reader{config.Fields{T: m}}
	e := Echo{Tag: er.Str("tag"), Area: er.Str("area")}
	for _, a := range er.strs("uplinks") {
		addr, err := pkt.ParseAddr(a)
		if err != nil {
			er.Errs = append(er.Errs, err)
			continue
		}
		e.Uplinks = append(e.Uplinks, addr)
	}
	er.Unknown()
	for _, err := range er.Errs {
		r.Errs = append(r.Errs, fmt.Errorf("echo %q: %w", e.Tag, err))
	}
	return e
}

// ownPacketPasswords checks that, with two uplinks or more, each has a
// packet password of its own: binkd takes every uplink's files into one
// inbound folder, so the packet password is all that ties a packet to
// the uplink its header names; without it one uplink could send mail as
// another, into the echoes only the other carries.
func ownPacketPasswords(uplinks []Uplink) error {
	if len(uplinks) < 2 {
		return nil
	}
	seen := map[string]pkt.Addr{}
	for _, u := range uplinks {
		pw := strings.ToUpper(u.PacketPassword.Reveal()) // compared without case (FTS-0001)
		if pw == "" {
			return fmt.Errorf("uplinks: with two uplinks or more, each needs a packet_password of its own; %s has none", u.Addr)
		}
		if other, ok := seen[pw]; ok {
			return fmt.Errorf("uplinks: %s and %s have the same packet_password; each needs one of its own", other, u.Addr)
		}
		seen[pw] = u.Addr
	}
	return nil
}
