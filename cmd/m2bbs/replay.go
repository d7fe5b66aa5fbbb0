package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/m2bbs/m2bbs/cmd/internal/command"
	"github.com/m2bbs/m2bbs/host/handler/replay"
	"github.com/m2bbs/m2bbs/host/handler/session"
	"github.com/m2bbs/m2bbs/host/shared/termtext"
)

// Exit statuses of m2bbs replay and m2bbs upgrade -dry-run: 0 when every
// journal replays cleanly, exitDiverged when one would diverge, fail or
// cannot be read, and 2 (any other error) when the replay could not run.
const exitDiverged = 1

// replayFlags are the flags of the offline replay commands besides the
// board's settings.
type replayFlags struct {
	asJSON     bool
	list       bool
	dryRun     bool
	maxJournal int64
}

// register adds the flags to fs; withList adds m2bbs replay's -list,
// withDryRun m2bbs upgrade's -dry-run.
func (f *replayFlags) register(fs *flag.FlagSet, withList, withDryRun bool) {
	fs.BoolVar(&f.asJSON, "json", f.asJSON, "print the result as JSON")
	fs.Int64Var(&f.maxJournal, "max-journal", replay.DefaultMaxJournalBytes, "largest journal replayed, in bytes; a larger one is reported")
	if withList {
		fs.BoolVar(&f.list, "list", f.list, "list the journals stored, instead of replaying one")
	}
	if withDryRun {
		fs.BoolVar(&f.dryRun, "dry-run", f.dryRun, "replay every journal on the scripts as they are on disk, touching no one")
	}
}

// parseReplaySettings reads the settings and flags of m2bbs replay or
// m2bbs upgrade -dry-run (name) and returns the arguments after them.
func parseReplaySettings(name string, args []string, stderr io.Writer) (*settings, *replayFlags, []string, error) {
	f := &replayFlags{}
	var flags *flag.FlagSet
	s, err := parseSettings(name, args, stderr, func(fs *flag.FlagSet) {
		f.register(fs, name == "replay", name == "upgrade")
		flags = fs
	})
	if err != nil {
		return nil, nil, nil, err
	}
	// A replay logs what the scripts log, and a line per journal at INFO:
	// warnings only, unless -log-level says otherwise.
	quiet := true
	flags.Visit(func(fl *flag.Flag) { quiet = quiet && fl.Name != "log-level" })
	if quiet {
		s.logLevel = slog.LevelWarn
	}
	return s, f, flags.Args(), nil
}

// openReplay opens the board of s read-only for replays.
func openReplay(s *settings, f *replayFlags) (*replay.Board, error) {
	return replay.Open(replay.Config{
		Session: session.Config{
			ScriptsDir: s.ScriptsDir, MainScript: s.MainScript, ResumeBudget: s.ResumeBudget,
		},
		ScreensDir:      s.ScreensDir,
		MaxJournalBytes: f.maxJournal,
		MemoryLimit:     uint64(max(s.MemoryLimitMiB, 0)) << 20,
		Log:             s.logger(os.Stderr),
	}, s.DBPath)
}

// runReplay is "m2bbs replay CONN_ID": one stored journal replayed offline
// on the scripts (-scripts, the board's by default) and printed as the
// caller saw it; "m2bbs replay -list" lists the journals.
func runReplay(ctx context.Context, args []string, stderr io.Writer) error {
	s, f, rest, err := parseReplaySettings("replay", args, stderr)
	if err != nil {
		return err
	}
	if f.list != (len(rest) == 0) || len(rest) > 1 {
		return errors.New("replay: usage: m2bbs replay [flags] CONN_ID, or m2bbs replay -list")
	}
	board, err := openReplay(s, f)
	if err != nil {
		return err
	}
	defer board.Close()
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	if f.list {
		list, err := board.List(ctx)
		if err != nil {
			return err
		}
		if f.asJSON {
			return writeJSON(w, list)
		}
		return printJournals(w, list)
	}
	out, err := board.Replay(ctx, rest[0])
	if err != nil {
		return err
	}
	if f.asJSON {
		err = writeJSON(w, out)
	} else {
		err = printTranscript(w, out, s.MainScript)
	}
	if err != nil {
		return err
	}
	if out.Result != session.DryClean {
		return &command.ExitStatus{Code: exitDiverged, Err: fmt.Errorf("replay: conn %s %s", out.ConnID, out.Result)}
	}
	return nil
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printJournals writes the journals as a table.
func printJournals(w io.Writer, list []replay.Journal) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONN\tUSER\tENTRIES\tBYTES\tWRITTEN\tWAITING AT")
	for _, j := range list {
		at := j.Waiting
		if j.Problem != "" {
			at = "unreadable: " + j.Problem
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\n", clean(j.ConnID), orDash(clean(j.User)), j.Entries, j.Bytes,
			j.Written.Local().Format("2006-01-02 15:04:05"), clean(at))
	}
	fmt.Fprintf(tw, "%s\n", plural(len(list), "journal"))
	return tw.Flush()
}

// printTranscript writes what the caller saw, as a terminal would show
// it (escape codes removed, passwords as asterisks), and how the replay
// ended.
func printTranscript(w io.Writer, out session.DryOutcome, scripts string) error {
	from := "the start of the call"
	if out.FromCheckpoint {
		from = "the main menu (a checkpoint)"
	}
	fmt.Fprintf(w, "--- conn %s%s: %d journal entries from %s, replayed on %s\n", clean(out.ConnID), userNote(out.User), out.Entries, from, scripts)
	atPrompt := false // the last thing written is a prompt's pchar
	for _, l := range out.Transcript {
		switch {
		case l.Caller:
			text := termtext.CleanLine(l.Text)
			if l.Hidden {
				text = "********"
			}
			fmt.Fprintln(w, text)
			atPrompt = false
			continue
		case atPrompt:
			fmt.Fprintln(w)
		}
		switch l.Type {
		case "prompt":
			fmt.Fprintf(w, "%s\n%s", termtext.Clean(l.Text), termtext.CleanLine(pcharOf(l)))
			atPrompt = true
		case "hangup":
			fmt.Fprintln(w, "(the board hangs up)")
		default:
			fmt.Fprintln(w, termtext.Clean(l.Text))
		}
	}
	if atPrompt {
		fmt.Fprintln(w)
	}
	if out.Truncated {
		fmt.Fprintf(w, "--- (the transcript is cut short at %d lines)\n", len(out.Transcript))
	}
	_, err := fmt.Fprintf(w, "--- %s\n", verdict(out))
	return err
}

// pcharOf is the prompt character the classic client shows for l.
func pcharOf(l session.TranscriptLine) string {
	if l.PChar == "" {
		return "> "
	}
	return l.PChar
}

// verdict says in a line how a replay went.
func verdict(out session.DryOutcome) string {
	switch out.Result {
	case session.DryClean:
		if out.Why != "" {
			return "replays cleanly: " + clean(out.Why)
		}
		s := fmt.Sprintf("replays cleanly: the caller is at prompt %d", out.Prompt)
		if out.Saw != "" {
			s += fmt.Sprintf(", %q", clean(out.Saw))
		}
		return s
	case session.DryDiverged:
		s := fmt.Sprintf("diverges at prompt %d", out.Prompt)
		if out.Saw != "" {
			s += fmt.Sprintf(": the caller saw %q", clean(out.Saw))
		}
		if out.Shows != "" {
			s += fmt.Sprintf(", the scripts show %q", clean(out.Shows))
		}
		return s + " (" + clean(out.Why) + ")"
	case session.DryFailed:
		return fmt.Sprintf("fails at prompt %d: %s", out.Prompt, clean(out.Why))
	}
	return "cannot be replayed: " + clean(out.Why)
}

// userNote is " (USER)", or nothing for a caller who had not logged in.
func userNote(user string) string {
	if user == "" {
		return ""
	}
	return " (" + clean(user) + ")"
}

// clean makes text from the database safe for the sysop's terminal.
func clean(s string) string { return termtext.CleanLine(s) }

// orDash is s, or "-" when it is empty.
func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
