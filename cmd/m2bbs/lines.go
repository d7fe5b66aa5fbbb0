package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/m2bbs/m2bbs/host/gateway/classic"
	"github.com/m2bbs/m2bbs/host/handler/config"
	"github.com/m2bbs/m2bbs/host/handler/lines"
	"github.com/m2bbs/m2bbs/host/message"
)

// Phone lines: each "m2bbs host -line N" is line N, route "@bbs.N". Unless
// told otherwise, line N's handler sockets are on linePortBase+2N
// (send_spec) and linePortBase+2N+1 (recv_spec), and the shared directory
// handler's on linePortBase and linePortBase+1, as "m2bbs m2conf -lines"
// writes them.
const linePortBase = 9900

// maxLines bounds -lines.
const maxLines = 99

// lineSpecs are the default handler addresses of line n (0: the directory).
func lineSpecs(n int) (send, recv string) { return defaultLayout.specs(n) }

// lineLayout is where the handlers of the phone lines are: on one
// machine's address (Mongrel2's, or the built-in front end's), line n's
// send_spec on port base+2n and its recv_spec on base+2n+1, the lines
// directory's on base and base+1. Hosts on other machines reach them over
// ZeroMQ tcp; a host that knows the layout can also adopt a line whose
// host went down (dispatch.LineAdopter).
type lineLayout struct {
	host string // an IP address or name; for Mongrel2, where it binds
	base int
}

// defaultLayout is the one m2conf -lines writes without flags.
var defaultLayout = lineLayout{host: "127.0.0.1", base: linePortBase}

// specs are the handler addresses of line n (0: the directory).
func (l lineLayout) specs(n int) (send, recv string) {
	p := l.base + 2*n
	hp := func(port int) string { return "tcp://" + net.JoinHostPort(l.host, strconv.Itoa(port)) }
	return hp(p), hp(p + 1)
}

// check refuses a layout whose ports fall outside 1..65535 for lines up to
// maxLines.
func (l lineLayout) check() error {
	if l.host == "" || strings.ContainsAny(l.host, "/ ") {
		return fmt.Errorf("handler host %q: give an IP address or a host name", l.host)
	}
	if l.base < 1 || l.base+2*maxLines+1 > 65535 {
		return fmt.Errorf("-line-ports %d: the lines need ports %d..%d", l.base, l.base, l.base+2*maxLines+1)
	}
	return nil
}

// lineSenderID is the default send_ident of line n (0: the directory).
func lineSenderID(n int) string {
	if n == 0 {
		return "m2bbs-directory"
	}
	return "m2bbs-line-" + strconv.Itoa(n)
}

// lineOptions are "m2bbs host"'s line flags.
type lineOptions struct {
	line                                 int
	directorySendSpec, directoryRecvSpec string
	layout                               lineLayout
}

// flags registers the line flags on fs.
func (o *lineOptions) flags(fs *flag.FlagSet) {
	fs.IntVar(&o.line, "line", 0, "serve phone line N (route @bbs.N) and join the lines directory in the database (0: the single @bbs host)")
	fs.StringVar(&o.directorySendSpec, "directory-send-spec", "", "send_spec of the shared lines directory handler (default with -line and default specs: the one m2conf -lines writes)")
	fs.StringVar(&o.directoryRecvSpec, "directory-recv-spec", "", "recv_spec of the shared lines directory handler")
	o.layout = defaultLayout
	fs.StringVar(&o.layout.host, "front-end-host", o.layout.host, "with -line and default specs: the machine whose handler ports (m2conf -lines -handler-host) the host connects to over tcp")
	fs.IntVar(&o.layout.base, "line-ports", o.layout.base, "with -line and default specs: the lines' first handler port (the directory's; line N's are this+2N and this+2N+1), as given to m2conf")
}

// apply copies the options into s.
func (o *lineOptions) apply(s *settings) {
	s.line, s.directorySendSpec, s.directoryRecvSpec = o.line, o.directorySendSpec, o.directoryRecvSpec
	s.layoutFlags = o.layout
}

// applyLineDefaults gives a line host the addresses and sender id that
// "m2bbs m2conf -lines" uses, where the settings left the defaults.
func applyLineDefaults(s *settings) error {
	if s.line < 0 || s.line > maxLines {
		return fmt.Errorf("host: -line %d outside 0..%d", s.line, maxLines)
	}
	if (s.directorySendSpec == "") != (s.directoryRecvSpec == "") {
		return fmt.Errorf("host: give both -directory-send-spec and -directory-recv-spec, or neither")
	}
	if s.line == 0 {
		return nil
	}
	if s.SenderID == config.Defaults.SenderID {
		s.SenderID = lineSenderID(s.line)
	}
	if s.SendSpec == config.Defaults.SendSpec && s.RecvSpec == config.Defaults.RecvSpec {
		l := s.layoutFlags
		if l == (lineLayout{}) {
			l = defaultLayout
		}
		if err := l.check(); err != nil {
			return fmt.Errorf("host: %w", err)
		}
		s.SendSpec, s.RecvSpec = l.specs(s.line)
		if s.directorySendSpec == "" {
			s.directorySendSpec, s.directoryRecvSpec = l.specs(0)
		}
		s.layout = &l
	}
	return nil
}

// maxDirectoryBytes bounds the directory read by -dial.
const maxDirectoryBytes = 1 << 20

// dialAnswerTimeout bounds the wait for a line's first message when
// dialing: a line that does not answer in time is skipped.
const dialAnswerTimeout = 5 * time.Second

// errAllBusy means every line of the directory was busy (or down).
var errAllBusy = fmt.Errorf("every line was busy")

// fetchLines reads the lines directory from the board's HTTP port.
func fetchLines(ctx context.Context, addr string) ([]lines.Status, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+lines.Path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("lines directory: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("lines directory: %s", resp.Status)
	}
	var dir []lines.Status
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxDirectoryBytes)).Decode(&dir); err != nil {
		return nil, fmt.Errorf("lines directory: %w", err)
	}
	return dir, nil
}

// dialLines fetches the directory and calls the lines that are up in a
// random order until one answers with anything but an exit (the busy
// signal), printing "Line N: BUSY" for each busy one. It returns the
// connected client and the first message the line sent.
func dialLines(ctx context.Context, o clientOptions, out io.Writer) (*classic.Client, message.Message, error) {
	addr := net.JoinHostPort(o.host, strconv.Itoa(o.port))
	dir, err := fetchLines(ctx, addr)
	if err != nil {
		return nil, message.Message{}, err
	}
	var up []lines.Status
	for _, l := range dir {
		if l.Up {
			up = append(up, l)
		}
	}
	if len(up) == 0 {
		return nil, message.Message{}, fmt.Errorf("no line is up (%d in the directory)", len(dir))
	}
	rand.Shuffle(len(up), func(i, j int) { up[i], up[j] = up[j], up[i] })
	for _, l := range up {
		fmt.Fprintf(out, "Dialing line %d (%s)\n", l.Line, l.Route)
		c, err := classic.Dial(ctx, addr, l.Route, o.raw)
		if err != nil {
			return nil, message.Message{}, err
		}
		c.Terminal = o.terminal()
		connect := c.Connect
		if o.noColour {
			connect = c.ConnectPlain
		}
		var first message.Message
		if err = connect(); err == nil {
			first, err = c.Next(dialAnswerTimeout)
		}
		switch {
		case err != nil:
			c.Close()
			if ctx.Err() != nil {
				return nil, message.Message{}, ctx.Err()
			}
			fmt.Fprintf(out, "Line %d: no answer\n", l.Line)
		case first.Type == message.TypeExit:
			c.Close()
			fmt.Fprintf(out, "Line %d: BUSY\n", l.Line)
		default:
			return c, first, nil
		}
	}
	fmt.Fprintf(out, "All %d lines are busy. Please call again later.\n", len(up))
	return nil, message.Message{}, errAllBusy
}
