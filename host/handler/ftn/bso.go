package ftn

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/m2bbs/m2bbs/host/ftn/pkt"
)

// The Binkley-style outbound (BSO) binkd reads: per zone a folder
// (outbound for the main address's zone, outbound.ZZZ for others, ZZZ in
// hex), in it per node NNNNnnnn.flo (net and node in hex) listing the
// files to send, and NNNNnnnn.bsy while a program works on that node.

// OutboundDir is the main zone's outbound folder.
func (s *Settings) OutboundDir() string { return filepath.Join(s.Dir, "outbound") }

// StagingDir holds packets the scanner wrote and has not handed over yet;
// SentDir the packets handed over, listed in flo files until binkd sends
// and deletes them.
func (s *Settings) StagingDir() string { return filepath.Join(s.Dir, "staging") }

// SentDir holds the packets flo files list.
func (s *Settings) SentDir() string { return filepath.Join(s.Dir, "out-packets") }

// nodeBase returns the path of a's flow files without extension.
func (s *Settings) nodeBase(a pkt.Addr) string {
	dir := s.OutboundDir()
	if len(s.Addresses) > 0 && a.Zone != s.Addresses[0].Zone {
		dir += fmt.Sprintf(".%03x", a.Zone)
	}
	base := filepath.Join(dir, fmt.Sprintf("%04x%04x", a.Net, a.Node))
	if a.Point != 0 {
		base = filepath.Join(base+".pnt", fmt.Sprintf("%08x", a.Point))
	}
	return base
}

// errBusy means another program holds the node's .bsy.
var errBusy = errors.New("ftn: node busy (another program holds its .bsy)")

// withBusy runs fn holding a's .bsy file, as BSO mailers do. A .bsy left
// by a process that is gone is removed; one held by a live process
// returns errBusy.
func (s *Settings) withBusy(a pkt.Addr, fn func() error) error {
	bsy := s.nodeBase(a) + ".bsy"
	if err := os.MkdirAll(filepath.Dir(bsy), 0o700); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(bsy, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			fmt.Fprintf(f, "%d\n", os.Getpid())
			f.Close()
			defer os.Remove(bsy)
			return fn()
		}
		if !errors.Is(err, os.ErrExist) || attempt > 0 || !staleBusy(bsy) {
			if errors.Is(err, os.ErrExist) {
				return errBusy
			}
			return err
		}
		os.Remove(bsy)
	}
}

// staleBusy reports whether a .bsy names a process that no longer runs.
func staleBusy(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return false
	}
	return syscall.Kill(pid, 0) == syscall.ESRCH
}

// addToFlo lists file in a's flo file ("^" + path: delete once sent),
// unless it is listed already. The caller holds a's .bsy.
func (s *Settings) addToFlo(a pkt.Addr, file string) error {
	flo := s.nodeBase(a) + ".flo"
	line := "^" + file
	if f, err := os.Open(flo); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.TrimSpace(sc.Text()) == line {
				f.Close()
				return nil
			}
		}
		f.Close()
	}
	f, err := os.OpenFile(flo, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(line + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// OutboundFor lists what waits in a's outbound: files listed in its flo
// files that still exist.
func (s *Settings) OutboundFor(a pkt.Addr) []string {
	var out []string
	for _, ext := range []string{".flo", ".clo", ".dlo", ".ilo", ".hlo"} {
		b, err := os.ReadFile(s.nodeBase(a) + ext)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			l = strings.TrimLeft(strings.TrimSpace(l), "^#~")
			if l == "" {
				continue
			}
			if _, err := os.Stat(l); err == nil {
				out = append(out, l)
			}
		}
	}
	return out
}

// writeFileSync writes a file through a temporary name, synced, then
// renamed, so a crash leaves the whole file or none. The temporary name
// is unique (mode 0600): the board and an m2bbs ftn command may write the
// same file at once, and each rename then puts a whole file in place.
func writeFileSync(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir syncs a folder, so a rename in it survives a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
