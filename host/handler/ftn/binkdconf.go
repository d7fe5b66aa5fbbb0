package ftn

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Binkd's files in the FTN folder.
func (s *Settings) binkdConfPath() string { return filepath.Join(s.Dir, "binkd.conf") }

// BinkdLogPath is binkd's log file.
func (s *Settings) BinkdLogPath() string { return filepath.Join(s.Dir, "binkd.log") }

// binkdPIDPath is the pid file binkd writes.
func (s *Settings) binkdPIDPath() string { return filepath.Join(s.Dir, "binkd.pid") }

// quoteConf quotes a value for binkd's config (values with spaces).
func quoteConf(s string) string {
	s = strings.NewReplacer("\"", "'", "\n", " ", "\r", " ", "\\", "/").Replace(s)
	return "\"" + s + "\""
}

// BinkdConfig returns binkd's config for the settings. Folders are made
// absolute; the session passwords are in it (binkd reads them from no
// other place), so WriteBinkdConfig writes it readable by its owner only.
func (s *Settings) BinkdConfig() (string, error) {
	dir, err := filepath.Abs(s.Dir)
	if err != nil {
		return "", err
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# binkd's config, written by m2bbs from its settings (the ftn table) at")
	w("# each start: edit the settings, not this file. See docs/fidonet.md.")
	w("domain %s %s %d", s.Domain, p("outbound"), s.Addresses[0].Zone)
	var addrs []string
	for _, a := range s.Addresses {
		addrs = append(addrs, a.String()+"@"+s.Domain)
	}
	w("address %s", strings.Join(addrs, " "))
	w("sysname %s", quoteConf(s.SystemName))
	w("sysop %s", quoteConf(s.SysopName))
	w("location %s", quoteConf(s.Location))
	w("nodeinfo 115200,TCP,BINKP")
	if s.BinkdPort > 0 {
		w("iport %d", s.BinkdPort)
		w("bindaddr %s", s.BindAddr)
	}
	w("log %s", p("binkd.log"))
	w("loglevel 4")
	w("conlog 0")
	w("pid-file %s", p("binkd.pid"))
	w("inbound %s", p("inbound"))
	w("inbound-nonsecure %s", p("inbound-insecure"))
	w("temp-inbound %s", p("inbound-tmp"))
	w("call-delay 2")
	w("rescan-delay 2")
	w("timeout 2m")
	w("connect-timeout 30")
	w("kill-dup-partial-files")
	w("kill-old-partial-files 86400")
	w("kill-old-bsy 3600")
	w("send-if-pwd")
	for _, u := range s.Uplinks {
		host := u.Host
		if u.Port != 0 {
			host = fmt.Sprintf("%s:%d", u.Host, u.Port)
		}
		pw := u.SessionPassword.Reveal()
		if pw == "" {
			pw = "-"
		}
		w("node %s@%s %s %s", u.Addr, s.Domain, host, pw)
	}
	return b.String(), nil
}

// WriteBinkdConfig writes binkd's config and makes its folders.
func (s *Settings) WriteBinkdConfig() (string, error) {
	conf, err := s.BinkdConfig()
	if err != nil {
		return "", err
	}
	for _, d := range []string{"outbound", "inbound", "inbound-insecure", "inbound-tmp", "staging", "out-packets", "bad"} {
		if err := os.MkdirAll(filepath.Join(s.Dir, d), 0o700); err != nil {
			return "", fmt.Errorf("ftn: %w", err)
		}
	}
	path := s.binkdConfPath()
	if err := writeFileSync(path, []byte(conf)); err != nil {
		return "", fmt.Errorf("ftn: binkd config: %w", err)
	}
	return path, nil
}
