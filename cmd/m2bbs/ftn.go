package main

import (
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

	"github.com/m2bbs/m2bbs/host/ftn/pkt"
	"github.com/m2bbs/m2bbs/host/handler/ftn"
	"github.com/m2bbs/m2bbs/host/handler/store"
)

// ftnUsage is "m2bbs ftn"'s usage line.
const ftnUsage = "usage: m2bbs ftn [flags] poll [ADDRESS] | toss | scan | status"

// runFTN is "m2bbs ftn": the sysop's FidoNet tools, run on the database
// and FTN folder directly (beside a running board or without one).
//
//	poll [ADDRESS]  call the uplinks (or one) now with binkd, and toss what came
//	toss            toss the inbound now
//	scan            export new local posts and netmail now
//	status          addresses, uplinks, mail waiting, counters, binkd
func runFTN(ctx context.Context, args []string, stderr io.Writer) error {
	s, rest, asJSON, err := parseFTNArgs(args, stderr)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return errors.New(ftnUsage)
	}
	set, err := ftn.ParseSettings(s.FTN, s.localAnchor())
	if err != nil {
		return err
	}
	log := s.logger(stderr)
	db, err := store.Open(s.DBPath, store.Options{BcryptCost: s.BcryptCost, Log: log, Sync: s.Sync})
	if err != nil {
		return err
	}
	defer db.Close()
	if rest[0] != "status" {
		// As the board does at start: the echoes' areas exist and are linked.
		if err := ftn.DefineEchoAreas(ctx, &set, db, db, log); err != nil {
			return err
		}
	}
	switch rest[0] {
	case "toss":
		return ftnToss(ctx, &set, db, log)
	case "scan":
		return ftnScan(ctx, &set, db, log)
	case "poll":
		targets := set.Uplinks
		if len(rest) > 1 {
			a, err := pkt.ParseAddr(rest[1])
			if err != nil {
				return err
			}
			u, ok := set.Uplink(a)
			if !ok {
				return fmt.Errorf("ftn poll: %s is not an uplink", a)
			}
			targets = []ftn.Uplink{u}
		}
		if err := ftnScan(ctx, &set, db, log); err != nil {
			return err
		}
		for _, u := range targets {
			if err := ftn.Poll(ctx, &set, u.Addr); err != nil {
				return err
			}
			fmt.Printf("polled %s\n", u.Addr)
		}
		return ftnToss(ctx, &set, db, log)
	case "status":
		st := ftn.ReadStatus(ctx, &set, db)
		st.Binkd = ftn.BinkdFromPIDFile(&set)
		if asJSON {
			out, _ := json.MarshalIndent(st, "", "  ")
			_, err := fmt.Printf("%s\n", out)
			return err
		}
		return printFTNStatus(os.Stdout, st)
	}
	return fmt.Errorf("ftn: unknown action %q; %s", rest[0], ftnUsage)
}

// parseFTNArgs reads the settings and flags of "m2bbs ftn", which may
// stand before or after the action, and returns the action and its
// argument.
func parseFTNArgs(args []string, stderr io.Writer) (*settings, []string, bool, error) {
	asJSON := false
	var fset *flag.FlagSet
	extra := func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", asJSON, "status as JSON")
		fs.Usage = func() { fmt.Fprintln(stderr, ftnUsage); fs.PrintDefaults() }
		fset = fs
	}
	s, err := parseSettings("ftn", args, stderr, extra)
	if err != nil {
		return nil, nil, false, err
	}
	rest := fset.Args()
	if len(rest) == 0 {
		return s, nil, asJSON, nil
	}
	action := rest[:1]
	tail := rest[1:]
	if len(tail) > 0 && !strings.HasPrefix(tail[0], "-") {
		action, tail = rest[:2], rest[2:]
	}
	if len(tail) > 0 {
		flags := append(append([]string{}, args[:len(args)-len(rest)]...), tail...)
		if s, err = parseSettings("ftn", flags, stderr, extra); err != nil {
			return nil, nil, false, err
		}
		if len(fset.Args()) > 0 {
			return nil, nil, false, fmt.Errorf("ftn: unexpected argument %q; %s", fset.Arg(0), ftnUsage)
		}
	}
	return s, action, asJSON, nil
}

// ftnToss tosses the inbound under the FTN folder's lock.
func ftnToss(ctx context.Context, set *ftn.Settings, db store.FTN, log *slog.Logger) error {
	return ftn.WithLock(ctx, set, func() error {
		r, err := (&ftn.Tosser{Settings: set, Store: db, Log: log}).Toss(ctx)
		fmt.Printf("tossed: %d files, %d messages, %d duplicates, %d bad, %d refused\n", r.Files, r.Tossed, r.Dupes, r.Bad, r.Refused)
		return err
	})
}

// ftnScan scans for new mail under the FTN folder's lock.
func ftnScan(ctx context.Context, set *ftn.Settings, db store.FTN, log *slog.Logger) error {
	return ftn.WithLock(ctx, set, func() error {
		r, err := (&ftn.Scanner{Settings: set, Store: db, Log: log}).Scan(ctx)
		fmt.Printf("scanned: %d posts, %d netmail exported, %d packets to the mailer\n", r.Posts, r.Netmail, r.Packets)
		return err
	})
}

// printFTNStatus writes the status for a person.
func printFTNStatus(w io.Writer, st ftn.Status) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "addresses:\t%s\n", strings.Join(st.Addresses, " "))
	if st.Binkd != nil {
		state := "not running"
		if st.Binkd.Running {
			state = fmt.Sprintf("running, pid %d", st.Binkd.PID)
		}
		fmt.Fprintf(tw, "binkd:\t%s, port %d, %d restarts\n", state, st.Binkd.Port, st.Binkd.Restarts)
	}
	fmt.Fprintf(tw, "echoes:\t%d\n", st.Echoes)
	fmt.Fprintf(tw, "counters:\ttossed %d, duplicates %d, bad %d, exported %d\n",
		st.Counters["tossed"], st.Counters["dupes"], st.Counters["bad"], st.Counters["exported"])
	for _, u := range st.Uplinks {
		fmt.Fprintf(tw, "uplink %s:\t%s:%d, %d packets waiting\n", u.Address, u.Host, u.Port, u.Waiting)
	}
	return tw.Flush()
}
