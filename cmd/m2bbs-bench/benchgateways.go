package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/m2bbs/m2bbs/cmd/m2bbs-bench/internal/loadgen"
	"github.com/m2bbs/m2bbs/cmd/m2bbs-bench/internal/report"
	"github.com/m2bbs/m2bbs/host/gateway/mongrel2"
)

// The kinds of idle caller the gateways step parks.
const (
	kindTelnet = "telnet"
	kindSSH    = "SSH"
)

// gatewayParkWindow is how many callers the gateways step connects at
// once; gatewayCallTimeout bounds one caller's call up to its prompt.
const (
	gatewayParkWindow  = 16
	gatewayCallTimeout = 30 * time.Second
)

// sshGuest is the SSH user name of the idle callers: the board's own
// name for a caller who will register, so SSH asks no password and the
// caller lands at the board's name prompt, as a telnet caller does.
const sshGuest = "new"

// gatewayRun is one process of the gateways step: `m2bbs run` with
// callers of one kind parked at the board's name prompt.
type gatewayRun struct {
	run             int // the run of the step, from 0
	kind            string
	callers, parked int
	// before and after are the process's resident memory before the
	// first caller and with every caller parked.
	before, after uint64
	parkTime      time.Duration
	firstErr      error
}

// perCaller is the growth of the process's resident memory per parked
// caller, in bytes.
func (r gatewayRun) perCaller() float64 {
	if r.parked == 0 {
		return 0
	}
	return (float64(r.after) - float64(r.before)) / float64(r.parked)
}

func (r gatewayRun) String() string {
	s := fmt.Sprintf("%d idle %s callers parked of %d in %v: m2bbs run RSS %.1f → %.1f MiB, %.1f KiB per caller",
		r.parked, r.kind, r.callers, r.parkTime.Round(time.Millisecond),
		float64(r.before)/(1<<20), float64(r.after)/(1<<20), r.perCaller()/1024)
	if r.firstErr != nil {
		s += fmt.Sprintf("; %d not parked, the first: %v", r.callers-r.parked, r.firstErr)
	}
	return s
}

// gatewaysRuns runs the gateways step -runs times, each run a fresh
// `m2bbs run` per kind of caller (the kinds in turn first, so that the
// machine's drift affects both alike), and adds them to the table.
func (o *benchOptions) gatewaysRuns(ctx context.Context, t *benchTable) error {
	// One data folder for every process of the step: the SSH host keys
	// are made once (an RSA key costs CPU) and each process has a
	// database of its own.
	dir, err := os.MkdirTemp(o.tmp, "gateways-")
	if err != nil {
		return err
	}
	prompt, err := o.namePrompt()
	if err != nil {
		return err
	}
	for run := range o.runs {
		kinds := []string{kindTelnet, kindSSH}
		if run%2 == 1 {
			kinds[0], kinds[1] = kinds[1], kinds[0]
		}
		for _, kind := range kinds {
			dbPath := filepath.Join(dir, fmt.Sprintf("bbs-%d-%s.db", run, strings.ToLower(kind)))
			r, err := o.gatewayOnce(ctx, kind, dir, dbPath, prompt)
			if err != nil {
				return err
			}
			r.run = run
			o.progress("gateways run %d/%d: %s", run+1, o.runs, r)
			t.gateways = append(t.gateways, r)
		}
	}
	return nil
}

// namePrompt is the last line of the board's welcome screen, its name
// prompt: a caller who has read it is parked.
func (o *benchOptions) namePrompt() (string, error) {
	welcome, err := o.texts.Screen("welcome")
	if err != nil {
		return "", fmt.Errorf("bench: gateways: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(welcome), "\n")
	return strings.TrimSpace(lines[len(lines)-1]), nil
}

// gatewayOnce starts `m2bbs run` with its telnet and SSH gateways on free
// ports (the browser page off), parks -gateway-callers callers of kind at
// the board's name prompt, reads the process's resident memory before
// and after, and stops it.
func (o *benchOptions) gatewayOnce(ctx context.Context, kind, dir, dbPath, prompt string) (r gatewayRun, err error) {
	r.kind, r.callers = kind, o.gatewayCallers
	ports := make([]int, 3)
	for i := range ports {
		if ports[i], err = mongrel2.FreePort(); err != nil {
			return r, err
		}
	}
	port, telnetPort, sshPort := ports[0], ports[1], ports[2]
	s := &system{front: "m2bbs run", handler: handlerBoard, addr: "127.0.0.1:" + strconv.Itoa(port), token: o.handlerToken()}
	defer func() { err = errors.Join(err, s.stopErr()) }()
	if s.handlerProc, err = o.startChild("m2bbs run", o.board, o.hostEnv, o.runArgs(port, telnetPort, sshPort, dir, dbPath)...); err != nil {
		return r, fmt.Errorf("bench: %w", err)
	}
	// The gateways listen before the host serves: once its status page
	// answers, both take callers.
	if err := s.awaitStatus(ctx); err != nil {
		return r, fmt.Errorf("bench: %w", err)
	}
	pid := s.handlerProc.pid()
	ps, err := loadgen.ReadProc(pid)
	if err != nil {
		return r, err
	}
	r.before = ps.RSS

	call := func(ctx context.Context) (io.Closer, error) {
		return loadgen.ParkTelnet(ctx, "127.0.0.1:"+strconv.Itoa(telnetPort), prompt, gatewayCallTimeout)
	}
	if kind == kindSSH {
		call = func(ctx context.Context) (io.Closer, error) {
			return loadgen.ParkSSH(ctx, "127.0.0.1:"+strconv.Itoa(sshPort), sshGuest, prompt, gatewayCallTimeout)
		}
	}
	start := time.Now()
	parked := loadgen.ParkMany(ctx, r.callers, gatewayParkWindow, call)
	defer parked.Close()
	r.parkTime = time.Since(start)
	r.parked, r.firstErr = len(parked.Calls), parked.FirstErr
	if ps, err = loadgen.ReadProc(pid); err != nil {
		return r, err
	}
	r.after = ps.RSS
	return r, s.handlerProc.alive()
}

// runArgs are the arguments of `m2bbs run` for the gateways step: the
// shipped board with its limits on callers from one address lifted (every
// caller comes from 127.0.0.1, many at once).
func (o *benchOptions) runArgs(port, telnetPort, sshPort int, dir, dbPath string) []string {
	return []string{"run",
		"-port", strconv.Itoa(port), "-telnet-port", strconv.Itoa(telnetPort), "-ssh-port", strconv.Itoa(sshPort), "-web-port", "-1",
		"-data", dir, "-db", dbPath,
		"-scripts", o.scripts, "-screens", o.screens, "-main", o.main,
		"-bcrypt-cost", strconv.Itoa(o.bcryptCost), "-workers", strconv.Itoa(o.workers),
		"-sender-id", benchSender, "-log-level", "WARN",
		"-max-per-addr", "-1", "-accept-rate", "-1", "-first-frame-timeout", "-1s",
		"-rate", "1e9", "-burst", "1000000000",
		"-registrations-per-hour", "0", "-min-password", "0",
		"-logins-per-address", "1000000000",
		"-max-callers", "1000000", "-memory-limit", "4096",
		"-idle-timeout", "1h",
	}
}

// gatewayRows are the table's lines of the gateways step: the resident
// memory per idle caller of each kind, their ratio, and the callers not
// parked.
func (t *benchTable) gatewayRows() []report.Item {
	if len(t.gateways) == 0 {
		return nil
	}
	byKind := map[string][]gatewayRun{}
	for _, r := range t.gateways {
		byKind[r.kind] = append(byKind[r.kind], r)
	}
	collectKind := func(kind string, f func(gatewayRun) float64) []float64 {
		var v []float64
		for _, r := range byKind[kind] {
			v = append(v, f(r))
		}
		return v
	}
	perCaller := func(r gatewayRun) float64 { return r.perCaller() / 1024 }
	out := []report.Item{
		report.Section(fmt.Sprintf("idle callers of `m2bbs run` (gateway, front end and host in one process): %d callers of one kind parked at the board's name prompt, a fresh process per kind and run",
			t.o.gatewayCallers)),
		report.Row{Name: "telnet: RSS per idle caller", Values: collectKind(kindTelnet, perCaller), Format: report.Unit("%.1f KiB"),
			Note: "(RSS − RSS before) ÷ callers; negotiation answered (" + loadgen.IdleTerminal + ", 80×24)"},
		report.Row{Name: "SSH: RSS per idle caller", Values: collectKind(kindSSH, perCaller), Format: report.Unit("%.1f KiB"),
			Note: "the same, user " + sshGuest + " with a PTY and a shell (golang.org/x/crypto/ssh client)"},
	}
	if tel, ssh := byKind[kindTelnet], byKind[kindSSH]; len(tel) > 0 && len(ssh) > 0 {
		var ratios []float64
		for i := range min(len(tel), len(ssh)) {
			if tel[i].perCaller() > 0 {
				ratios = append(ratios, ssh[i].perCaller()/tel[i].perCaller())
			}
		}
		out = append(out, report.Row{Name: "SSH ÷ telnet (RSS per idle caller)", Values: ratios, Format: report.Unit("%.2f"), Note: "runs paired"})
	}
	for _, kind := range []string{kindTelnet, kindSSH} {
		out = append(out, report.Row{Name: kind + ": time to park the callers", Values: collectKind(kind, func(r gatewayRun) float64 { return r.parkTime.Seconds() }),
			Format: report.Unit("%.2f s"), Note: fmt.Sprintf("%d at a time", gatewayParkWindow)})
	}
	note := "callers that did not reach the name prompt"
	for _, r := range t.gateways {
		if r.firstErr != nil {
			note = r.firstErr.Error()
			break
		}
	}
	// One value per run: the callers of both kinds not parked.
	var failed []float64
	for _, r := range t.gateways {
		for len(failed) <= r.run {
			failed = append(failed, 0)
		}
		failed[r.run] += float64(r.callers - r.parked)
	}
	out = append(out, report.Row{Name: "gateways: errors", Values: failed,
		Format: report.Unit("%.0f"), Target: "0", Pass: func(v float64) bool { return v == 0 }, Note: note})
	return out
}
