package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/m2bbs/m2bbs/cmd/internal/command"
	"github.com/m2bbs/m2bbs/host/handler/session"
)

// wantsDryRun reports whether args ask m2bbs upgrade for -dry-run.
func wantsDryRun(args []string) bool {
	for _, a := range args {
		switch a {
		case "-dry-run", "--dry-run", "-dry-run=true", "--dry-run=true":
			return true
		case "--":
			return false
		}
	}
	return false
}

// dryRunReport is m2bbs upgrade -dry-run -json's output.
type dryRunReport struct {
	Scripts    string               `json:"scripts"`
	Callers    []session.DryOutcome `json:"callers"`
	Clean      int                  `json:"clean"`
	Diverged   int                  `json:"diverged"`
	Failed     int                  `json:"failed"`
	Unreadable int                  `json:"unreadable"`
}

// runUpgradeDryRun is "m2bbs upgrade -dry-run": every stored journal is
// replayed offline, from the database read-only, on the scripts as they
// are on disk, and each caller is listed with how their replay went. It
// touches no caller, no session and no row; it needs no running board.
func runUpgradeDryRun(ctx context.Context, args []string, stderr io.Writer) error {
	s, f, rest, err := parseReplaySettings("upgrade", args, stderr)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("upgrade: unexpected argument %q", rest[0])
	}
	board, err := openReplay(s, f)
	if err != nil {
		return err
	}
	defer board.Close()
	outcomes, err := board.ReplayAll(ctx)
	if err != nil {
		return fmt.Errorf("upgrade -dry-run: %w", err)
	}
	report := dryRunReport{Scripts: s.MainScript, Callers: outcomes}
	for i := range report.Callers {
		o := &report.Callers[i]
		o.Transcript = nil // m2bbs replay CONN_ID prints it
		switch o.Result {
		case session.DryClean:
			report.Clean++
		case session.DryDiverged:
			report.Diverged++
		case session.DryFailed:
			report.Failed++
		default:
			report.Unreadable++
		}
	}
	w := bufio.NewWriter(os.Stdout)
	if f.asJSON {
		err = writeJSON(w, report)
	} else {
		err = printDryRun(w, report)
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("upgrade -dry-run: %w", err)
	}
	if bad := report.Diverged + report.Failed + report.Unreadable; bad > 0 {
		return &command.ExitStatus{Code: exitDiverged, Err: fmt.Errorf("upgrade -dry-run: %s would not replay cleanly", plural(bad, "caller"))}
	}
	return nil
}

// printDryRun writes one line per caller and a summary.
func printDryRun(w io.Writer, r dryRunReport) error {
	for _, o := range r.Callers {
		fmt.Fprintf(w, "conn %s%s: %s\n", clean(o.ConnID), userNote(o.User), verdict(o))
	}
	parts := []string{fmt.Sprintf("%d replay cleanly", r.Clean)}
	for _, p := range []struct {
		n    int
		verb string
	}{{r.Diverged, "would diverge"}, {r.Failed, "would fail"}, {r.Unreadable, "cannot be read"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.verb))
		}
	}
	_, err := fmt.Fprintf(w, "%s on %s: %s\n", plural(len(r.Callers), "journal"), r.Scripts, strings.Join(parts, ", "))
	return err
}
