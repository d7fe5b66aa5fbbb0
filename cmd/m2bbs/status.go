package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/m2bbs/m2bbs/host/handler/dispatch"
	"github.com/m2bbs/m2bbs/host/shared/access"
)

// statusTimeout bounds one request to the status page.
const statusTimeout = 10 * time.Second

// runStatus is "m2bbs status": who is online and how the host is doing,
// read from the status page; -broadcast and -kick act as the sysop.
func runStatus(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("m2bbs status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := sysopFlags(fs)
	broadcast := fs.String("broadcast", "", "show this text to every caller online")
	kick := fs.String("kick", "", "end the call of this conn_id")
	asJSON := fs.Bool("json", false, "print the status as JSON")
	waiting := fs.Bool("waiting", false, "list the new users waiting for approval (new_users_wait)")
	approve := fs.String("approve", "", "approve this new user")
	watch := fs.String("watch", "", "show this conn_id's screens live, as the caller sees them, until Ctrl-C")
	chat := fs.String("chat", "", "watch this conn_id and break in to chat: each line you type goes to the caller; Ctrl-D ends the chat, Ctrl-C the watch")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("status: unexpected argument %q", fs.Arg(0))
	}
	c := client()
	if *watch != "" && *chat != "" {
		return errors.New("status: -watch or -chat, not both")
	}
	if *watch != "" || *chat != "" {
		return watchCaller(ctx, c, *watch+*chat, *chat != "", os.Stdin, os.Stdout, stderr)
	}
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	switch {
	case *broadcast != "":
		body, err := c.do(ctx, http.MethodPost, "/broadcast", *broadcast)
		if err != nil {
			return err
		}
		var r struct{ Callers int }
		_ = json.Unmarshal(body, &r)
		fmt.Printf("broadcast shown to %d callers\n", r.Callers)
		return nil
	case *kick != "":
		if _, err := c.do(ctx, http.MethodPost, "/kick?conn_id="+url.QueryEscape(*kick), ""); err != nil {
			return err
		}
		fmt.Printf("kicked conn %s\n", *kick)
		return nil
	case *waiting || *approve != "":
		return approvals(ctx, c, *approve)
	}
	body, err := c.do(ctx, http.MethodGet, "", "")
	if err != nil {
		return err
	}
	if *asJSON {
		_, err := os.Stdout.Write(body)
		return err
	}
	var st dispatch.Status
	if err := json.Unmarshal(body, &st); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	return printStatus(os.Stdout, st)
}

// runUpgrade is "m2bbs upgrade": the host loads the scripts as they are
// now and moves every caller online onto them (by replaying their session
// journals; a caller whose part of the scripts changed is restarted at the
// main menu).
func runUpgrade(ctx context.Context, args []string, stderr io.Writer) error {
	if wantsDryRun(args) {
		return runUpgradeDryRun(ctx, args, stderr) // offline: upgrade_dryrun.go
	}
	fs := flag.NewFlagSet("m2bbs upgrade", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := sysopFlags(fs)
	fs.Bool("dry-run", false, "list who an upgrade would restart, touching no one (offline: takes m2bbs run's -db, -scripts, -screens, -main, -config)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("upgrade: unexpected argument %q", fs.Arg(0))
	}
	c := client()
	ctx, cancel := context.WithTimeout(ctx, 2*statusTimeout)
	defer cancel()
	body, err := c.do(ctx, http.MethodPost, "/upgrade", "")
	if err != nil {
		return err
	}
	var r dispatch.UpgradeResult
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("upgrade: %w", err)
	}
	fmt.Printf("scripts version %d: %d callers moved, %d lost\n", r.Version, r.Moved, r.Lost)
	return nil
}

// runDrain is "m2bbs drain -line N -to M": the callers of phone line N
// carry on on line M (m2bbs run -lines K only: the front end must be in
// the host's process).
func runDrain(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("m2bbs drain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	client := sysopFlags(fs)
	line := fs.Int("line", 0, "the line to drain")
	to := fs.Int("to", 0, "the line its callers move to")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *line < 1 || *to < 1 {
		return errors.New("drain: usage: m2bbs drain -line N -to M")
	}
	c := client()
	ctx, cancel := context.WithTimeout(ctx, 2*statusTimeout)
	defer cancel()
	body, err := c.do(ctx, http.MethodPost, fmt.Sprintf("/drain?line=%d&to=%d", *line, *to), "")
	if err != nil {
		return err
	}
	var r struct{ Moved int }
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	fmt.Printf("line %d drained onto line %d: %d callers moved\n", *line, *to, r.Moved)
	return nil
}

// sysopFlags registers the flags every sysop command has (-addr,
// -sysop-token) and returns what makes the client from them once parsed.
func sysopFlags(fs *flag.FlagSet) func() *sysopClient {
	addr := fs.String("addr", "http://127.0.0.1:6767", "the board's HTTP address (the built-in front end or Mongrel2)")
	// No default shown: -h must not print the token from the environment.
	token := fs.String("sysop-token", "", "sysop `TOKEN`, if the host has one (default: $M2BBS_SYSOP_TOKEN)")
	return func() *sysopClient {
		if *token == "" {
			*token = os.Getenv("M2BBS_SYSOP_TOKEN")
		}
		return &sysopClient{base: strings.TrimSuffix(*addr, "/") + dispatch.StatusPath, token: *token}
	}
}

// sysopClient calls the host's status page and actions, as the sysop:
// with the token if it has one, and always with access.SysopHeader.
type sysopClient struct {
	base, token string
}

func (c *sysopClient) do(ctx context.Context, method, path, body string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, strings.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	// What a board without a token asks of a sysop tool on its machine;
	// a page of another site cannot send it.
	req.Header.Set(access.SysopHeader, "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, errors.New("status: " + resp.Status + ": " + strings.TrimSpace(string(data)))
	}
	return data, nil
}

// printStatus writes the status for a person.
func printStatus(w io.Writer, st dispatch.Status) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	s := st.Sessions
	fmt.Fprintf(tw, "uptime\t%s\n", time.Duration(st.UptimeSeconds)*time.Second)
	fmt.Fprintf(tw, "online\t%d\n", s.Active)
	fmt.Fprintf(tw, "sessions\tstarted %d, ended %d, errored %d, hung up %d, idle-reaped %d, kicked %d, overran %d\n",
		s.Started, s.Ended, s.Errored, s.Disconnected, s.Reaped, s.Kicked, s.Overran)
	fmt.Fprintf(tw, "refused\tbusy %d, throttled %d, lines too long %d, malformed %d, unknown type %d\n",
		st.Busy, s.Throttled, s.LineTooLong, s.Malformed, s.UnknownType)
	if s.Hibernated > 0 {
		fmt.Fprintf(tw, "hibernated\t%d asleep now; %d hibernations, %d woken by a line\n", s.Asleep, s.Hibernated, s.Woken)
	}
	if keys := s.KeysDropped + st.Admission.DroppedKeys; keys > 0 {
		fmt.Fprintf(tw, "keys dropped\t%d (keystroke mode, past its limits)\n", keys)
	}
	for i, v := range st.Versions {
		label := "scripts"
		if i > 0 {
			label = "older scripts"
		}
		fmt.Fprintf(tw, "%s\tversion %d, loaded %s, %d callers\n", label, v.Version, v.LoadedAt.Format(time.DateTime), v.Callers)
	}
	if st.LoadError != "" {
		fmt.Fprintf(tw, "load error\t%s\n", st.LoadError)
	}
	for _, n := range st.AdoptedLines {
		fmt.Fprintf(tw, "adopted\tline %d (its host went down; served here until its callers have gone)\n", n)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(st.Online) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONN\tNODE\tUSER\tIDLE\tONLINE\tVERSION\tSHOWING")
	for _, c := range st.Online {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%s\n", c.ConnID, c.Node, c.User,
			time.Duration(c.IdleSeconds)*time.Second, time.Duration(c.OnlineSeconds)*time.Second, c.Version, c.Showing)
	}
	return tw.Flush()
}
