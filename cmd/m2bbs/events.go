package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"text/tabwriter"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/dispatch"
	"github.com/m2bbs/m2bbs/host/handler/events"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// runEvents is "m2bbs events": the sysop's scheduled events, their next
// due times and last runs, read from the status page; -run NAME runs one
// now, as the sysop.
func runEvents(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("m2bbs events", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := sysopFlags(fs)
	run := fs.String("run", "", "run this event now (it waits for the run's end, at most the resume budget)")
	asJSON := fs.Bool("json", false, "print the events (or the run) as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("events: unexpected argument %q", fs.Arg(0))
	}
	c := client()
	ctx, cancel := context.WithTimeout(ctx, 2*statusTimeout)
	defer cancel()
	if *run != "" {
		body, err := c.do(ctx, http.MethodPost, "/events/run?name="+url.QueryEscape(*run), "")
		if err != nil {
			return err
		}
		if *asJSON {
			_, err := os.Stdout.Write(body)
			return err
		}
		var r store.EventRun
		if err := json.Unmarshal(body, &r); err != nil {
			return fmt.Errorf("events: %w", err)
		}
		fmt.Printf("event %s: %s\n", r.Event, runSummary(r))
		if r.Outcome != events.OutcomeOK {
			return fmt.Errorf("event %s: %s", r.Event, r.Outcome)
		}
		return nil
	}
	body, err := c.do(ctx, http.MethodGet, "?online=0", "")
	if err != nil {
		return err
	}
	var st dispatch.Status
	if err := json.Unmarshal(body, &st); err != nil {
		return fmt.Errorf("events: %w", err)
	}
	if *asJSON {
		out, _ := json.MarshalIndent(st.Events, "", "  ")
		_, err := fmt.Printf("%s\n", out)
		return err
	}
	return printEvents(os.Stdout, st.Events)
}

// printEvents writes the events for a person: one line each, then their
// last runs, newest first.
func printEvents(w io.Writer, evs []dispatch.EventStatus) error {
	if len(evs) == 0 {
		_, err := fmt.Fprintln(w, "no events: the scripts folder has no events.lua (see docs/events.md)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EVENT\tWHEN\tZONE\tMISSED\tNEXT DUE")
	runs := 0
	for _, e := range evs {
		next := "not yet stored"
		if !e.NextDue.IsZero() {
			next = localTime(e.NextDue, e.Zone)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Name, e.Schedule, e.Zone, e.Missed, next)
		runs += len(e.Runs)
	}
	if err := tw.Flush(); err != nil || runs == 0 {
		return err
	}
	fmt.Fprintln(w, "\nLAST RUNS")
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, e := range evs {
		for _, r := range e.Runs {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", e.Name, localTime(r.Started, e.Zone), runSummary(r))
		}
	}
	return tw.Flush()
}

// runSummary is one run in a few words: outcome, duration, cause, host
// and error.
func runSummary(r store.EventRun) string {
	s := fmt.Sprintf("%s in %s (%s", r.Outcome, r.Duration().Round(time.Millisecond), r.Cause)
	if r.Host != "" {
		s += ", " + r.Host
	}
	s += ")"
	if r.Error != "" {
		s += ": " + r.Error
	}
	return s
}

// localTime shows t in the named zone (UTC if it cannot be loaded).
func localTime(t time.Time, zone string) string {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04:05 MST")
}
